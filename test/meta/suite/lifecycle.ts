import assert from 'node:assert/strict';
import { type Define, ensureRepository, fakeDigest, pushImage, pushIndex } from './harness.ts';

// The lifecycle part of the port: pull times written in batches, the retention inventory, the
// usage figures, and the cause a delete records in the tag history.

export function defineLifecycleTests(define: Define): void {
  define('lifecycle: recordPulls keeps the latest pull per repository and digest', async (store) => {
    await ensureRepository(store, 'dev');
    const a = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await store.lifecycle.recordPulls([
      { repository: 'dev', digest: a, at: '2024-05-02T00:00:00.000Z' },
      { repository: 'other', digest: a, at: '2024-05-03T00:00:00.000Z' },
    ]);
    // An older time arriving later (a batch retried after a newer one) does not move it back.
    await store.lifecycle.recordPulls([{ repository: 'dev', digest: a, at: '2024-05-01T00:00:00.000Z' }]);
    await store.lifecycle.recordPulls([]);
    const inventory = await store.lifecycle.inventory('dev', { laterStages: [], propertyKeys: [] });
    assert.equal(inventory.manifests[0]?.lastPulledAt, '2024-05-02T00:00:00.000Z');
    // Repository delete takes its pull times along.
    await store.repositories.delete('dev');
    await ensureRepository(store, 'dev');
    await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    const fresh = await store.lifecycle.inventory('dev', { laterStages: [], propertyKeys: [] });
    assert.equal(fresh.manifests[0]?.lastPulledAt, undefined);
  });

  define(
    'lifecycle: inventory lists manifests, children, tags, asked properties and later-stage holders',
    async (store) => {
      for (const key of ['dev', 'staging', 'prod']) await ensureRepository(store, key);
      const a = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      const b = await pushImage(store, { repository: 'dev', image: 'app', label: 'b' });
      const index = await pushIndex(store, {
        repository: 'dev',
        image: 'app',
        label: 'i',
        tag: 'multi',
        children: [a, b],
      });
      await store.properties.set('dev', 'app', b, { 'gantry.hold': ['true'], other: ['x'] });
      await pushImage(store, { repository: 'prod', image: 'app', label: 'a' });
      const inventory = await store.lifecycle.inventory('dev', {
        laterStages: ['staging', 'prod'],
        propertyKeys: ['gantry.hold'],
      });
      const byDigest = new Map(inventory.manifests.map((m) => [m.digest, m]));
      assert.equal(byDigest.size, 3);
      assert.deepEqual(byDigest.get(index)?.children.sort(), [a, b].sort());
      assert.deepEqual(byDigest.get(b)?.properties, { 'gantry.hold': ['true'] });
      assert.deepEqual(
        inventory.tags.map((t) => `${t.tag}=${t.digest}`).sort(),
        [`multi=${index}`, `v1=${a}`].sort(),
      );
      assert.deepEqual([...inventory.elsewhere], [[a, ['prod']]]);
      assert.deepEqual(
        [...(await store.lifecycle.inventory('prod', { laterStages: [], propertyKeys: [] })).elsewhere],
        [],
      );
    },
  );

  define('lifecycle: usage counts logical bytes per manifest and unique bytes once', async (store) => {
    for (const key of ['dev', 'prod']) await ensureRepository(store, key);
    await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await pushImage(store, { repository: 'dev', image: 'lib', label: 'a', tag: 'v1' });
    await pushImage(store, { repository: 'prod', image: 'app', label: 'a', tag: 'v1' });
    await store.blobs.link('prod', 'app', fakeDigest('loose'), 50);
    const all = await store.lifecycle.usage();
    assert.deepEqual(all.repositories.get('dev'), { logicalBytes: 400, uniqueBytes: 200 });
    assert.deepEqual(all.repositories.get('prod'), { logicalBytes: 200, uniqueBytes: 250 });
    assert.deepEqual(all.total, { logicalBytes: 600, uniqueBytes: 250 });
    const dev = await store.lifecycle.usage(['dev']);
    assert.deepEqual([...dev.repositories.keys()], ['dev']);
    assert.deepEqual(dev.total, { logicalBytes: 400, uniqueBytes: 200 });
    assert.deepEqual((await store.lifecycle.usage([])).total, { logicalBytes: 0, uniqueBytes: 0 });
    assert.equal(await store.lifecycle.usedBytes('prod'), 250);
    assert.equal(await store.lifecycle.linkedIn('prod', fakeDigest('loose')), true);
    assert.equal(await store.lifecycle.linkedIn('dev', fakeDigest('loose')), false);
  });

  define(
    'lifecycle: deletes record the cause they are given (retention), delete by default',
    async (store) => {
      await ensureRepository(store, 'dev');
      const a = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      await store.tags.delete('dev', 'app', 'v1', 'retention-schedule', 'retention');
      await store.tagMoves.move('dev', 'app', 'v2', a, 'ci', 'push');
      await store.manifests.delete('dev', 'app', a, 'admin', 'retention');
      const v1 = await store.tags.history('dev', 'app', 'v1', 1);
      const v2 = await store.tags.history('dev', 'app', 'v2', 1);
      assert.deepEqual([v1[0]?.cause, v1[0]?.actor], ['retention', 'retention-schedule']);
      assert.deepEqual([v2[0]?.cause, v2[0]?.actor], ['retention', 'admin']);
    },
  );
}
