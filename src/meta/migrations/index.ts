import { type Kysely, type Migration, Migrator } from 'kysely';
import { initial } from './0001-initial.ts';
import { identity } from './0002-identity.ts';
import { promotion } from './0003-promotion.ts';
import { repositoryUsage } from './0004-repository-usage.ts';
import { endedSessions } from './0005-ended-sessions.ts';
import { identityIds } from './0007-identity-ids.ts';
import { events } from './0008-events.ts';
import { gc } from './0009-gc.ts';
import { manifestPulls } from './0010-manifest-pulls.ts';

/**
 * Every migration, by name. Kysely applies them in name order and records each in
 * `kysely_migration`; a name, once released, is never renamed or edited: add a new one instead.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-identity': identity,
  '0003-promotion': promotion,
  '0004-repository-usage': repositoryUsage,
  '0005-ended-sessions': endedSessions,
  '0007-identity-ids': identityIds,
  '0008-events': events,
  '0009-gc': gc,
  '0010-manifest-pulls': manifestPulls,
};

/** Applies the pending migrations in one transaction; a no-op when none is pending. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'the migration table';
  throw new Error(`metadata migration failed at ${failed}`, { cause: error });
}
