import type { Kysely } from 'kysely';
import { MetaConflictError, UnknownRepositoryError } from '../metadata-store.ts';
import type { Database } from '../schema.ts';

/** A constraint violation recognised in a driver error; each dialect knows its own codes. */
export type Violation = 'unique' | 'foreign-key';

/**
 * What the dialect-neutral query modules need from a concrete store. Everything in
 * src/meta/kysely is plain kysely code: a PostgreSQL store passes its own `Kysely` and
 * `violation`, and nothing else changes.
 *
 * Trap: inside `db.transaction().execute(trx => …)` use only `trx`. SQLite has one connection
 * that the transaction holds until it ends; a query on `db` there waits for it forever.
 */
export interface QueryContext {
  readonly db: Kysely<Database>;
  violation(error: unknown): Violation | undefined;
  /** Clock for the timestamps the store writes itself (tag moves and events). */
  now(): Date;
}

/**
 * Runs a write and turns driver constraint errors into domain errors: a duplicate key into
 * MetaConflictError (`conflict` says what exists), a missing parent repository into
 * UnknownRepositoryError. The only foreign keys a caller can break through the port point at
 * `repositories` (identity tables aside, see translateWith); the others guard invariants the
 * store keeps itself.
 */
export function translate<T>(
  ctx: QueryContext,
  target: { repository: string; conflict: string },
  write: () => Promise<T>,
): Promise<T> {
  return translateWith(
    ctx,
    { conflict: target.conflict, foreignKey: async () => new UnknownRepositoryError(target.repository) },
    write,
  );
}

/**
 * translate() with the foreign-key case left to the caller: `foreignKey` runs after the failed
 * write (its transaction rolled back, so it may query `ctx.db`) and returns what to throw.
 */
export async function translateWith<T>(
  ctx: QueryContext,
  on: { conflict: string; foreignKey: (error: unknown) => Promise<unknown> },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const violation = ctx.violation(error);
    if (violation === 'unique')
      throw new MetaConflictError(`${on.conflict} already exists`, { cause: error });
    if (violation === 'foreign-key') throw await on.foreignKey(error);
    throw error;
  }
}

/** Splits long lists so no statement passes the dialects' bound-parameter limits. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
