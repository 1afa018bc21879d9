import assert from 'node:assert/strict';
import { type Define, ensureRepository, fakeDigest, manifestRecord } from './harness.ts';

export function defineBlobTests(define: Define): void {
  define('blobs: link is idempotent, get returns the size, only to the linked name', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = fakeDigest('layer');
    const big = 5_000_000_123; // above 2^32: sizes are 64-bit
    await store.blobs.link('dev', 'app', digest, big);
    await store.blobs.link('dev', 'app', digest, big);
    assert.equal(await store.blobs.get('dev', 'app', digest), big);
    assert.equal(await store.blobs.get('dev', 'other', digest), undefined);
    assert.equal(await store.blobs.get('dev', 'app', fakeDigest('unknown')), undefined);
  });

  define('blobs: unlink removes one name link; false when absent', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = fakeDigest('layer');
    await store.blobs.link('dev', 'app', digest, 10);
    await store.blobs.link('dev', 'lib', digest, 10);
    assert.equal(await store.blobs.unlink('dev', 'app', digest), true);
    assert.equal(await store.blobs.unlink('dev', 'app', digest), false);
    assert.equal(await store.blobs.get('dev', 'app', digest), undefined);
    assert.equal(await store.blobs.get('dev', 'lib', digest), 10);
  });

  define('blobs: isReferenced sees links, manifest references and manifest rows', async (store) => {
    await ensureRepository(store, 'dev');
    const layer = fakeDigest('layer');
    const manifest = fakeDigest('manifest');
    assert.equal(await store.blobs.isReferenced(layer), false);
    await store.blobs.link('dev', 'app', layer, 10);
    assert.equal(await store.blobs.isReferenced(layer), true);

    await store.manifests.put({
      record: manifestRecord('dev', 'app', manifest),
      references: [{ digest: layer, kind: 'blob' }],
    });
    await store.blobs.unlink('dev', 'app', layer);
    assert.equal(await store.blobs.isReferenced(layer), true, 'still referenced by the manifest');
    assert.equal(await store.blobs.isReferenced(manifest), true, 'the manifest bytes are a blob too');

    await store.manifests.delete('dev', 'app', manifest, 'gc');
    assert.equal(await store.blobs.isReferenced(layer), false);
    assert.equal(await store.blobs.isReferenced(manifest), false);
  });
}
