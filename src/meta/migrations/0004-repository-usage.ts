import type { Kysely, Migration } from 'kysely';

// What each repository holds (images, distinct blob bytes, last push), kept as one row per
// repository so the repositories page reads O(repositories) rows instead of aggregating every
// manifest and blob link on each load. The store updates the row in the same transaction as the
// rows it summarises (src/meta/kysely/usage.ts); no triggers, so both dialects behave alike.
//
// - repository_usage has a foreign key to repositories (its primary key covers it); repository
//   delete removes the row with the repository's other children.
// - blob_links (repository, digest) makes "does another image of this repository still link
//   this digest" an index seek, asked on every link and unlink.
// - The backfill computes the rows of the repositories that exist with the aggregate the old
//   stats() ran on every call.

export const repositoryUsage: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('repository_usage')
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('image_count', 'bigint', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('last_push_at', 'text')
      .addPrimaryKeyConstraint('repository_usage_pk', ['repository'])
      .addForeignKeyConstraint('repository_usage_repository_fk', ['repository'], 'repositories', ['key'])
      .execute();
    await db.schema
      .createIndex('blob_links_repository_digest')
      .on('blob_links')
      .columns(['repository', 'digest'])
      .execute();
    await backfill(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('blob_links_repository_digest').execute();
    await db.schema.dropTable('repository_usage').execute();
  },
};

/**
 * The tables as this migration knows them. Migrations are never edited once released, so they
 * must not use today's table types (src/meta/schema.ts), which will move on.
 */
type TablesAt0004 = {
  repositories: { key: string };
  manifests: { repository: string; image: string; created_at: string };
  blob_links: { repository: string; digest: string; size: number | string };
  repository_usage: {
    repository: string;
    image_count: number | string;
    size_bytes: number | string;
    last_push_at: string | null;
  };
};

/**
 * One row per repository: images holding a manifest, the sum over distinct (repository, digest)
 * of the blob size (a blob linked under several images is stored once), the newest manifest.
 */
async function backfill(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped.withTables<TablesAt0004>();
  const manifests = db
    .selectFrom('manifests')
    .select((eb) => [
      'repository',
      eb.fn.count<number | string>('image').distinct().as('image_count'),
      eb.fn.max('created_at').as('last_push_at'),
    ])
    .groupBy('repository')
    .as('m');
  const distinctBlobs = db
    .selectFrom('blob_links')
    .select((eb) => ['repository', 'digest', eb.fn.max('size').as('size')])
    .groupBy(['repository', 'digest'])
    .as('d');
  const blobs = db
    .selectFrom(distinctBlobs)
    .select((eb) => ['d.repository', eb.fn.sum<number | string>('d.size').as('size_bytes')])
    .groupBy('d.repository')
    .as('b');
  const rows = db
    .selectFrom('repositories as r')
    .leftJoin(manifests, 'm.repository', 'r.key')
    .leftJoin(blobs, 'b.repository', 'r.key')
    .select((eb) => [
      'r.key',
      eb.fn.coalesce('m.image_count', eb.lit(0)).as('image_count'),
      eb.fn.coalesce('b.size_bytes', eb.lit(0)).as('size_bytes'),
      'm.last_push_at',
    ]);
  await db
    .insertInto('repository_usage')
    .columns(['repository', 'image_count', 'size_bytes', 'last_push_at'])
    .expression(rows)
    .execute();
}
