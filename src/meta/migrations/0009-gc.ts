import type { Kysely, Migration } from 'kysely';

// Garbage collection (src/lifecycle/gc/): the record of each run, the tombstones that make a
// blob's deletion a two-step commit, and a generic lease so that one node at a time runs a
// singleton job. See src/lifecycle/gc/collector.ts for why each exists.

export const gc: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gc_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('dry_run', 'integer', (c) => c.notNull())
      .addColumn('grace_seconds', 'bigint', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('started_by', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('cursor', 'text')
      .addColumn('links_removed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('blobs_removed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('manifests_removed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('bytes_freed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('errors', 'text', (c) => c.notNull())
      .addColumn('items', 'text')
      .execute();
    await db.schema.createIndex('gc_runs_started_at').on('gc_runs').columns(['started_at', 'id']).execute();
    await db.schema
      .createTable('gc_tombstones')
      .addColumn('digest', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('job_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('job_leases').execute();
    await db.schema.dropTable('gc_tombstones').execute();
    await db.schema.dropTable('gc_runs').execute();
  },
};
