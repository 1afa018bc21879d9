import type { Kysely, Migration } from 'kysely';

// When each digest was last pulled from each repository, for retention's "not pulled for D days".
// Pulls are counted in memory and written here in batches (src/lifecycle/pull-tracker.ts), so a
// manifest GET never waits for a database write. Like promotions, no foreign key: a batch that
// names a repository deleted meanwhile must not fail the whole flush; repository delete removes
// the rows with the repository's other children.

export const manifestPulls: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('manifest_pulls')
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('last_pulled_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('manifest_pulls_pk', ['repository', 'digest'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('manifest_pulls').execute();
  },
};
