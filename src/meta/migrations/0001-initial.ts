import type { Kysely, Migration } from 'kysely';
import { bytewiseText, rowNumber } from './dialect.ts';

// Written with kysely's schema builder only, so the same migration runs on SQLite and
// PostgreSQL. Migrations receive `Kysely<unknown>`: they must not depend on today's table types.
//
// Foreign keys guard the invariants the store keeps anyway (every row belongs to an existing
// repository; a tag or a reference never outlives its manifest). They have no ON DELETE
// CASCADE: deletes are explicit, child tables first, in one transaction. Every foreign key has
// an index starting with its columns, which both dialects need to check a parent delete quickly.
//
// The dialects differ in row numbering and ordering, both decided in ./dialect.ts.

const NAME_COLUMNS = ['repository', 'image'] as const;
const MANIFEST_KEY = ['repository', 'image', 'digest'] as const;

export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await createRepositories(db);
    await createBlobLinks(db);
    await createManifests(db);
    await createManifestRefs(db);
    await createTags(db);
    await createTagEvents(db);
    await createUploads(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'uploads',
      'tag_events',
      'tags',
      'manifest_refs',
      'manifests',
      'blob_links',
      'repositories',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

async function createRepositories(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('repositories')
    .addColumn('key', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

async function createBlobLinks(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('blob_links')
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_links_pk', [...MANIFEST_KEY])
    .addForeignKeyConstraint('blob_links_repository_fk', ['repository'], 'repositories', ['key'])
    .execute();
  await db.schema.createIndex('blob_links_digest').on('blob_links').column('digest').execute();
}

async function createManifests(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('manifests')
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('name', bytewiseText(db), (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('artifact_type', 'text')
    .addColumn('subject', 'text')
    .addColumn('annotations', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('manifests_pk', [...MANIFEST_KEY])
    .addForeignKeyConstraint('manifests_repository_fk', ['repository'], 'repositories', ['key'])
    .execute();
  // Ends with digest so referrers come out in digest order straight from the index; without it
  // SQLite prefers walking the primary key (already in digest order) through the whole image.
  await db.schema
    .createIndex('manifests_subject')
    .on('manifests')
    .columns([...NAME_COLUMNS, 'subject', 'digest'])
    .execute();
  await db.schema.createIndex('manifests_name').on('manifests').column('name').execute();
  await db.schema.createIndex('manifests_digest').on('manifests').column('digest').execute();
}

async function createManifestRefs(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('manifest_refs')
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('ref_digest', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('manifest_refs_pk', [...MANIFEST_KEY, 'ref_digest'])
    .addForeignKeyConstraint('manifest_refs_manifest_fk', [...MANIFEST_KEY], 'manifests', [...MANIFEST_KEY])
    .execute();
  await db.schema.createIndex('manifest_refs_ref_digest').on('manifest_refs').column('ref_digest').execute();
}

async function createTags(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tags')
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('tag', bytewiseText(db), (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', [...NAME_COLUMNS, 'tag'])
    .addForeignKeyConstraint('tags_manifest_fk', [...MANIFEST_KEY], 'manifests', [...MANIFEST_KEY])
    .execute();
  await db.schema
    .createIndex('tags_digest')
    .on('tags')
    .columns([...MANIFEST_KEY])
    .execute();
}

async function createTagEvents(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tag_events')
    .addColumn('id', ...rowNumber(db))
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('old_digest', 'text')
    .addColumn('new_digest', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('tag_events_repository_fk', ['repository'], 'repositories', ['key'])
    .execute();
  await db.schema
    .createIndex('tag_events_tag')
    .on('tag_events')
    .columns([...NAME_COLUMNS, 'tag', 'id'])
    .execute();
}

async function createUploads(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('uploads_repository_fk', ['repository'], 'repositories', ['key'])
    .execute();
  await db.schema.createIndex('uploads_repository').on('uploads').column('repository').execute();
  await db.schema.createIndex('uploads_started_at').on('uploads').columns(['started_at', 'id']).execute();
}
