import type { Kysely } from 'kysely';
import { UnknownPrincipalError } from '../identity-store.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext, translateWith } from './context.ts';

/** A user or group named by a group membership, a grant or a token. */
export interface Principal {
  kind: 'user' | 'group';
  name: string;
}

export function users(names: Iterable<string>): Principal[] {
  return [...names].map((name) => ({ kind: 'user', name }));
}

export function groups(names: Iterable<string>): Principal[] {
  return [...names].map((name) => ({ kind: 'group', name }));
}

/** The first of `principals` (in the given order) that does not exist. */
export async function missingPrincipal(
  db: Kysely<Database>,
  principals: readonly Principal[],
): Promise<Principal | undefined> {
  const found = new Set<string>();
  for (const kind of ['user', 'group'] as const) {
    const table = kind === 'user' ? 'users' : 'groups';
    const names = [...new Set(principals.filter((p) => p.kind === kind).map((p) => p.name))];
    for (const part of chunks(names)) {
      const rows = await db.selectFrom(table).select('name').where('name', 'in', part).execute();
      for (const row of rows) found.add(`${kind} ${row.name}`);
    }
  }
  return principals.find((p) => !found.has(`${p.kind} ${p.name}`));
}

/** Throws UnknownPrincipalError for the first principal that does not exist; run it in the write's transaction. */
export async function requirePrincipals(
  db: Kysely<Database>,
  principals: readonly Principal[],
): Promise<void> {
  const missing = await missingPrincipal(db, principals);
  if (missing !== undefined) throw new UnknownPrincipalError(missing.kind, missing.name);
}

/**
 * translate() for writes naming principals: a duplicate key is a MetaConflictError; a foreign
 * key broken anyway (a principal deleted between the check and the write, which a dialect that
 * does not serialise transactions allows) is the UnknownPrincipalError of whichever is missing.
 */
export function translatePrincipals<T>(
  ctx: QueryContext,
  conflict: string,
  principals: readonly Principal[],
  write: () => Promise<T>,
): Promise<T> {
  const foreignKey = async (error: unknown) => {
    const missing = await missingPrincipal(ctx.db, principals);
    return missing === undefined ? error : new UnknownPrincipalError(missing.kind, missing.name);
  };
  return translateWith(ctx, { conflict, foreignKey }, write);
}

/** Byte order of UTF-8 strings: the order the store lists names in. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
