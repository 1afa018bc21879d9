import assert from 'node:assert/strict';
import type { MetadataStore, RepositoryStats } from '../../../src/meta/metadata-store.ts';
import { type Define, ensureRepository, fakeDigest, manifestRecord, pushImage, T0 } from './harness.ts';
import { promoteInput, release } from './promotion.ts';

// repository stats are kept up to date by every write instead of being aggregated per read.
// After each step these tests compare them with recountStats(), the full aggregate over the
// manifests and blob links, so any write path that forgets its share shows up as a difference.

const T1 = '2024-05-01T11:00:00.000Z';
const T2 = '2024-05-01T12:00:00.000Z';

/**
 * stats() equals the full recount for every repository, except that its lastPushAt may be newer
 * (deletes do not move it back). Returns stats() for further checks.
 */
async function assertExact(store: MetadataStore): Promise<Map<string, RepositoryStats>> {
  const kept = await store.repositories.stats();
  const recount = await store.repositories.recountStats();
  assert.deepEqual([...kept.keys()].sort(), [...recount.keys()].sort());
  for (const [key, expected] of recount) {
    const actual = kept.get(key);
    assert.ok(actual, key);
    assert.deepEqual(
      { imageCount: actual.imageCount, sizeBytes: actual.sizeBytes },
      { imageCount: expected.imageCount, sizeBytes: expected.sizeBytes },
      key,
    );
    if (expected.lastPushAt !== null) {
      assert.ok(actual.lastPushAt !== null && actual.lastPushAt >= expected.lastPushAt, key);
    }
  }
  return kept;
}

async function statsOf(store: MetadataStore, key: string): Promise<RepositoryStats | undefined> {
  return (await assertExact(store)).get(key);
}

export function defineUsageTests(define: Define): void {
  define(
    'usage: pushes count images, new blobs and the last push; the same push again nothing',
    async (store) => {
      await ensureRepository(store, 'dev');
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 0, sizeBytes: 0, lastPushAt: null });
      await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 1, sizeBytes: 200, lastPushAt: T0 });

      // Again, even with a later time on the record: the row exists, so nothing was pushed.
      await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      const again = manifestRecord('dev', 'app', fakeDigest('manifest a'), { createdAt: T2 });
      await store.manifests.put({ record: again, references: [] });
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 1, sizeBytes: 200, lastPushAt: T0 });

      // A second manifest of the image: no new image, the later push wins, an older one does not.
      await store.blobs.link('dev', 'app', fakeDigest('layer b'), 30);
      const b = manifestRecord('dev', 'app', fakeDigest('manifest b'), { createdAt: T1 });
      await store.manifests.put({ record: b, references: [{ digest: fakeDigest('layer b'), kind: 'blob' }] });
      const older = manifestRecord('dev', 'lib', fakeDigest('manifest old'), {
        createdAt: '2024-01-01T00:00:00.000Z',
      });
      await store.manifests.put({ record: older, references: [] });
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 2, sizeBytes: 230, lastPushAt: T1 });
    },
  );

  define('usage: a blob under two images counts once, until its last link goes', async (store) => {
    await ensureRepository(store, 'dev');
    await ensureRepository(store, 'prod');
    const shared = fakeDigest('shared layer');
    await store.blobs.link('dev', 'app', shared, 100);
    await store.blobs.link('dev', 'lib', shared, 100);
    await store.blobs.link('dev', 'lib', shared, 100); // exists: not inserted, not counted
    await store.blobs.link('prod', 'app', shared, 100); // another repository counts it too
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 100);
    assert.equal((await statsOf(store, 'prod'))?.sizeBytes, 100);

    assert.equal(await store.blobs.unlink('dev', 'app', shared), true);
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 100, 'dev/lib still links it');
    assert.equal(await store.blobs.unlink('dev', 'app', shared), false);
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 100, 'an absent link changes nothing');
    assert.equal(await store.blobs.unlink('dev', 'lib', shared), true);
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 0);
    assert.equal((await statsOf(store, 'prod'))?.sizeBytes, 100);
  });

  define(
    'usage: deleting the last manifest of an image drops the image, not the last push',
    async (store) => {
      await ensureRepository(store, 'dev');
      const a = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      const b = await pushImage(store, { repository: 'dev', image: 'app', label: 'b' });
      const later = manifestRecord('dev', 'lib', fakeDigest('manifest lib'), { createdAt: T1 });
      await store.manifests.put({ record: later, references: [] });
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 2, sizeBytes: 400, lastPushAt: T1 });

      await store.manifests.delete('dev', 'app', a, 'alice');
      assert.equal((await statsOf(store, 'dev'))?.imageCount, 2, 'app still holds b');
      await store.manifests.delete('dev', 'app', b, 'alice');
      assert.equal(await store.manifests.delete('dev', 'app', b, 'alice'), undefined);
      await store.manifests.delete('dev', 'lib', later.digest, 'alice');
      // Blob links stay for garbage collection, and the last push stays a fact of the past.
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 0, sizeBytes: 400, lastPushAt: T1 });
      assert.equal((await store.repositories.recountStats()).get('dev')?.lastPushAt, null);
    },
  );

  define('usage: promotion copy and move keep both repositories exact', async (store) => {
    const r = await release(store);
    const dev = await statsOf(store, 'dev');
    assert.deepEqual(dev, { imageCount: 1, sizeBytes: 1400, lastPushAt: T0 });

    await store.promotions.promote(promoteInput(r.index));
    const copied = await statsOf(store, 'prod');
    assert.equal(copied?.imageCount, 1);
    assert.equal(copied?.sizeBytes, 1000, 'the config and layer of the five images with blobs');
    assert.deepEqual(await statsOf(store, 'dev'), dev, 'a copy leaves the source as it was');
    await store.promotions.promote(promoteInput(r.index));
    assert.deepEqual(await statsOf(store, 'prod'), copied, 'promoting again copies nothing');

    // A move into a new image: the source image keeps `other`, so it still counts.
    await ensureRepository(store, 'release');
    const target = { repository: 'release', image: 'app' };
    await store.promotions.promote(
      promoteInput(r.index, { source: { repository: 'prod', image: 'app' }, target, mode: 'move' }),
    );
    assert.deepEqual(
      { ...(await statsOf(store, 'prod')), lastPushAt: null },
      { imageCount: 0, sizeBytes: 1000, lastPushAt: null },
      'moved away: no image left, the links stay for garbage collection',
    );
    assert.equal((await statsOf(store, 'release'))?.imageCount, 1);
    await store.promotions.promote(
      promoteInput(r.other, { target: { repository: 'dev', image: 'other' }, mode: 'move' }),
    );
    assert.equal((await statsOf(store, 'dev'))?.imageCount, 2, 'dev/app still holds the release');
  });

  define('usage: upload completion counts the blob once per repository', async (store) => {
    await ensureRepository(store, 'dev');
    await ensureRepository(store, 'prod');
    const digest = fakeDigest('uploaded');
    const uploads = [
      { id: 'u1', repository: 'dev', image: 'app', startedAt: T0 },
      { id: 'u2', repository: 'dev', image: 'lib', startedAt: T0 },
      { id: 'u3', repository: 'prod', image: 'app', startedAt: T0 },
    ];
    for (const upload of uploads) await store.uploads.create(upload);
    assert.equal(await store.uploads.complete('u1', digest, 42), true);
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 42);
    assert.equal(await store.uploads.complete('u1', digest, 42), false);
    assert.equal(await store.uploads.complete('u2', digest, 42), true);
    assert.equal((await statsOf(store, 'dev'))?.sizeBytes, 42);
    assert.equal(await store.uploads.complete('u3', digest, 42), true);
    assert.equal((await statsOf(store, 'prod'))?.sizeBytes, 42);
  });

  define(
    'usage: repository delete removes the stats; the key created again starts at zero',
    async (store) => {
      await ensureRepository(store, 'dev');
      await ensureRepository(store, 'prod');
      await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      await pushImage(store, { repository: 'prod', image: 'app', label: 'a', tag: 'v1' });
      assert.equal(await store.repositories.delete('dev'), true);
      assert.deepEqual([...(await assertExact(store)).keys()], ['prod']);
      await ensureRepository(store, 'dev');
      assert.deepEqual(await statsOf(store, 'dev'), { imageCount: 0, sizeBytes: 0, lastPushAt: null });
      assert.deepEqual(await statsOf(store, 'prod'), { imageCount: 1, sizeBytes: 200, lastPushAt: T0 });
    },
  );
}
