import type { Kysely, Migration } from 'kysely';
import { bytewiseText, rowNumber } from './dialect.ts';

// Properties, content facts (labels and annotations, for search), CI builds, approvals and the
// promotion history. Same rules as 0001-initial: the schema builder only, foreign keys without
// ON DELETE CASCADE (deletes are explicit, in one transaction), every foreign key indexed,
// byte-order collation on the columns lists are ordered by.
//
// - properties belong to a manifest held by a name (foreign key to manifests): deleting the
//   manifest or its repository deletes them.
// - content_facts belong to a digest, wherever it is held; nothing but garbage collection
//   deletes them.
// - approvals name the repository they let a digest into (foreign key to repositories).
// - promotions is history: it names repositories and manifests without foreign keys, and
//   outlives them.

export const promotion: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await createProperties(db);
    await createContentFacts(db);
    await createBuilds(db);
    await createApprovals(db);
    await createPromotions(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'promotions',
      'approvals',
      'build_dependencies',
      'build_artifacts',
      'builds',
      'content_facts',
      'properties',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

const MANIFEST_KEY = ['repository', 'image', 'digest'] as const;
const BUILD_KEY = ['build_name', 'build_number'] as const;

async function createProperties(db: Kysely<unknown>): Promise<void> {
  // The primary key lists a manifest's properties by key and value, and covers the foreign key.
  await db.schema
    .createTable('properties')
    .addColumn('repository', bytewiseText(db), (c) => c.notNull())
    .addColumn('image', bytewiseText(db), (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('key', bytewiseText(db), (c) => c.notNull())
    .addColumn('value', bytewiseText(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('properties_pk', [...MANIFEST_KEY, 'key', 'value'])
    .addForeignKeyConstraint('properties_manifest_fk', [...MANIFEST_KEY], 'manifests', [...MANIFEST_KEY])
    .execute();
  await db.schema.createIndex('properties_key').on('properties').columns(['key', 'value']).execute();
}

async function createContentFacts(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('content_facts')
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('key', bytewiseText(db), (c) => c.notNull())
    .addColumn('value', bytewiseText(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('content_facts_pk', ['digest', 'source', 'key', 'value'])
    .execute();
  // Ends with digest: a search reads the matching digests from the index alone.
  await db.schema
    .createIndex('content_facts_fact')
    .on('content_facts')
    .columns(['source', 'key', 'value', 'digest'])
    .execute();
}

async function createBuilds(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('builds')
    .addColumn('name', bytewiseText(db), (c) => c.notNull())
    .addColumn('number', bytewiseText(db), (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'bigint')
    .addColumn('vcs_url', 'text')
    .addColumn('vcs_revision', 'text')
    .addColumn('branch', 'text')
    .addColumn('ci_url', 'text')
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('published_by', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('builds_pk', ['name', 'number'])
    .execute();
  await db.schema.createIndex('builds_published_at').on('builds').column('published_at').execute();
  // Both child tables keep the record's list order by position; their primary keys cover the
  // foreign key to builds.
  await db.schema
    .createTable('build_artifacts')
    .addColumn('build_name', 'text', (c) => c.notNull())
    .addColumn('build_number', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('build_artifacts_pk', [...BUILD_KEY, 'position'])
    .addForeignKeyConstraint('build_artifacts_build_fk', [...BUILD_KEY], 'builds', ['name', 'number'])
    .execute();
  await db.schema.createIndex('build_artifacts_digest').on('build_artifacts').column('digest').execute();
  await db.schema
    .createTable('build_dependencies')
    .addColumn('build_name', 'text', (c) => c.notNull())
    .addColumn('build_number', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('digest', 'text')
    .addPrimaryKeyConstraint('build_dependencies_pk', [...BUILD_KEY, 'position'])
    .addForeignKeyConstraint('build_dependencies_build_fk', [...BUILD_KEY], 'builds', ['name', 'number'])
    .execute();
}

async function createApprovals(db: Kysely<unknown>): Promise<void> {
  // Repository first: the primary key then covers the foreign key as well as the lookup of a
  // digest's approvals for a repository.
  await db.schema
    .createTable('approvals')
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('approver', bytewiseText(db), (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('approvals_pk', ['repository', 'digest', 'approver'])
    .addForeignKeyConstraint('approvals_repository_fk', ['repository'], 'repositories', ['key'])
    .execute();
}

async function createPromotions(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('promotions')
    .addColumn('id', ...rowNumber(db))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('source_repository', 'text', (c) => c.notNull())
    .addColumn('source_image', 'text', (c) => c.notNull())
    .addColumn('target_repository', 'text', (c) => c.notNull())
    .addColumn('target_image', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('gates', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .execute();
  // Lists read newest first by id; each filter's index ends with id (as audit_events). A
  // repository filter matches source or target: one index each, which SQLite and PostgreSQL
  // combine for the OR. Image filters come with a repository filter, or scan.
  for (const column of ['digest', 'source_repository', 'target_repository'] as const) {
    await db.schema.createIndex(`promotions_${column}`).on('promotions').columns([column, 'id']).execute();
  }
}
