import assert from 'node:assert/strict';
import { it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { linkBlobs } from '../../src/meta/kysely/blob-links.ts';
import type { QueryContext } from '../../src/meta/kysely/context.ts';
import { KyselyRepositoryMeta } from '../../src/meta/kysely/repositories.ts';
import { migrateToLatest } from '../../src/meta/migrations/index.ts';
import type { Database } from '../../src/meta/schema.ts';
import { sqliteViolation } from '../../src/meta/sqlite/sqlite-dialect.ts';
import { fakeDigest, repositoryRecord, T0 } from './suite/harness.ts';

// What the port cannot reach: linkBlobs batches (the port links one blob at a time) and a
// repository without a usage row (the port always writes one).

async function withRepositories(body: (ctx: QueryContext, repos: KyselyRepositoryMeta) => Promise<void>) {
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
  });
  try {
    await migrateToLatest(db);
    const ctx: QueryContext = { db, violation: sqliteViolation, now: () => new Date(T0) };
    const repos = new KyselyRepositoryMeta(ctx);
    for (const key of ['dev', 'prod']) await repos.create(repositoryRecord(key));
    await body(ctx, repos);
  } finally {
    await db.destroy();
  }
}

it('usage: one linkBlobs batch counts a digest once per repository, over several images', async () => {
  await withRepositories(async (ctx, repos) => {
    const link = (repository: string, image: string, label: string, size: number) => ({
      ...{ repository, image, digest: fakeDigest(label), size, createdAt: T0 },
    });
    await ctx.db.transaction().execute((trx) =>
      linkBlobs(trx, [
        link('dev', 'app', 'shared', 100),
        link('dev', 'lib', 'shared', 100),
        link('dev', 'app', 'own', 5),
        link('prod', 'app', 'shared', 100),
        link('dev', 'app', 'shared', 100), // the same link twice in one batch
      ]),
    );
    await ctx.db
      .transaction()
      .execute((trx) => linkBlobs(trx, [link('dev', 'tool', 'shared', 100), link('dev', 'tool', 'new', 1)]));
    const stats = await repos.stats();
    assert.equal(stats.get('dev')?.sizeBytes, 106);
    assert.equal(stats.get('prod')?.sizeBytes, 100);
    assert.deepEqual(stats, await repos.recountStats());
  });
});

it('usage: stats answers zeros for a repository without a usage row', async () => {
  await withRepositories(async (ctx, repos) => {
    await ctx.db.deleteFrom('repository_usage').where('repository', '=', 'prod').execute();
    assert.deepEqual((await repos.stats()).get('prod'), { imageCount: 0, sizeBytes: 0, lastPushAt: null });
  });
});
