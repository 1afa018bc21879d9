import assert from 'node:assert/strict';
import { type Define, ensureRepository, manifestRecord, pushImage } from './harness.ts';

// Byte order: '-' 2d < '.' 2e < '0'-'9' < 'A'-'Z' < '_' 5f < 'a'-'z'.
const TAGS_IN_BYTE_ORDER = ['1.0', 'V1', 'a-b', 'a.b', 'a_b', 'ab', 'latest', 'v1', 'v1.10', 'v1.9'];

export function defineTagTests(define: Define): void {
  define('tags: resolve; undefined for an absent tag or name', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    assert.equal(await store.tags.resolve('dev', 'app', 'v1'), digest);
    assert.equal(await store.tags.resolve('dev', 'app', 'V1'), undefined);
    assert.equal(await store.tags.resolve('dev', 'lib', 'v1'), undefined);
    assert.equal(await store.tags.resolve('prod', 'app', 'v1'), undefined);
  });

  define('tags: list in byte order with last and n', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a' });
    await pushImage(store, { repository: 'dev', image: 'lib', label: 'a', tag: 'zz-other-image' });
    const record = manifestRecord('dev', 'app', digest);
    for (const name of [...TAGS_IN_BYTE_ORDER].reverse()) {
      await store.manifests.put({ record, references: [], tag: { name, actor: 'ci', cause: 'push' } });
    }
    const list = (page: { n?: number; last?: string }) => store.tags.list('dev', 'app', page);
    assert.deepEqual(await list({}), TAGS_IN_BYTE_ORDER);
    assert.deepEqual(await list({ n: 3 }), TAGS_IN_BYTE_ORDER.slice(0, 3));
    assert.deepEqual(await list({ n: 3, last: 'a-b' }), ['a.b', 'a_b', 'ab']);
    assert.deepEqual(await list({ last: 'v1' }), ['v1.10', 'v1.9']);
    assert.deepEqual(await list({ last: 'b' }), ['latest', 'v1', 'v1.10', 'v1.9'], 'last need not exist');
    assert.deepEqual(await list({ last: 'v1.9' }), []);
    assert.deepEqual(await list({ n: 0 }), []);
    assert.deepEqual(await store.tags.list('dev', 'none', {}), []);
  });

  define('tags: delete removes the tag, not the manifest, and records an event', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    assert.equal(await store.tags.delete('dev', 'app', 'v1', 'alice'), true);
    assert.equal(await store.tags.delete('dev', 'app', 'v1', 'alice'), false);
    assert.equal(await store.tags.resolve('dev', 'app', 'v1'), undefined);
    assert.ok(await store.manifests.get('dev', 'app', digest));
    const [event] = await store.tags.history('dev', 'app', 'v1');
    assert.equal(event?.oldDigest, digest);
    assert.equal(event?.newDigest, undefined);
    assert.equal(event?.actor, 'alice');
    assert.equal(event?.cause, 'delete');
    assert.equal((await store.tags.history('dev', 'app', 'v1')).length, 2);
  });

  define('tags: history is newest first, per tag, and honours limit', async (store) => {
    await ensureRepository(store, 'dev');
    const labels = ['a', 'b', 'c', 'd'];
    const digests = [];
    for (const label of labels) {
      digests.push(await pushImage(store, { repository: 'dev', image: 'app', label, tag: 'latest' }));
      await pushImage(store, { repository: 'dev', image: 'app', label, tag: `v-${label}` });
    }
    const history = await store.tags.history('dev', 'app', 'latest');
    assert.deepEqual(
      history.map((e) => e.newDigest),
      [...digests].reverse(),
    );
    assert.ok(history.every((e) => e.tag === 'latest'));
    const limited = await store.tags.history('dev', 'app', 'latest', 2);
    assert.deepEqual(limited, history.slice(0, 2));
    assert.deepEqual(await store.tags.history('dev', 'app', 'never'), []);
  });
}
