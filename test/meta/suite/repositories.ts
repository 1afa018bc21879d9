import assert from 'node:assert/strict';
import { MetaConflictError, UnknownRepositoryError } from '../../../src/meta/metadata-store.ts';
import { type Define, fakeDigest, manifestRecord, pushImage, repositoryRecord, T0 } from './harness.ts';

export function defineRepositoryTests(define: Define): void {
  define('repositories: create, get, and list in key order', async (store) => {
    const dev = repositoryRecord('docker-dev-local', { settings: { immutableTags: true, n: 3 } });
    const hub = repositoryRecord('docker-hub', { kind: 'remote', settings: { url: 'https://hub.example' } });
    const all = repositoryRecord('docker', { kind: 'virtual', settings: { members: ['docker-hub'] } });
    for (const r of [hub, dev, all]) await store.repositories.create(r);
    assert.deepEqual(await store.repositories.get('docker-hub'), hub);
    assert.deepEqual(await store.repositories.list(), [all, dev, hub]);
  });

  define('repositories: create of an existing key throws MetaConflictError', async (store) => {
    await store.repositories.create(repositoryRecord('dev'));
    await assert.rejects(
      store.repositories.create(repositoryRecord('dev', { kind: 'remote' })),
      MetaConflictError,
    );
    assert.equal((await store.repositories.get('dev'))?.kind, 'local');
  });

  define('repositories: update replaces description and settings, each only when given', async (store) => {
    await store.repositories.create(repositoryRecord('dev', { settings: { a: 1 } }));
    assert.equal(await store.repositories.update('dev', { description: 'new words' }), true);
    assert.deepEqual(await store.repositories.get('dev'), {
      ...repositoryRecord('dev', { settings: { a: 1 } }),
      description: 'new words',
    });
    assert.equal(await store.repositories.update('dev', { settings: { b: [2] } }), true);
    assert.deepEqual((await store.repositories.get('dev'))?.settings, { b: [2] });
    assert.equal(await store.repositories.update('dev', {}), true);
  });

  define('repositories: get, update and delete of an absent key', async (store) => {
    assert.equal(await store.repositories.get('nope'), undefined);
    assert.equal(await store.repositories.update('nope', { description: 'x' }), false);
    assert.equal(await store.repositories.update('nope', {}), false);
    assert.equal(await store.repositories.delete('nope'), false);
    assert.deepEqual(await store.repositories.list(), []);
  });

  define('repositories: delete removes every row of the repository and nothing of others', async (store) => {
    for (const key of ['dev', 'prod']) await store.repositories.create(repositoryRecord(key));
    const gone = await pushImage(store, { repository: 'dev', image: 'app', label: 'dev only', tag: 'v1' });
    await store.tags.delete('dev', 'app', 'v1', 'alice'); // leaves history behind
    await pushImage(store, { repository: 'dev', image: 'app', label: 'dev only', tag: 'v2' });
    await store.blobs.link('dev', 'app', fakeDigest('loose blob'), 7);
    await store.uploads.create({ id: 'u-dev', repository: 'dev', image: 'app', startedAt: T0 });
    const kept = await pushImage(store, { repository: 'prod', image: 'app', label: 'shared', tag: 'v1' });
    await store.uploads.create({ id: 'u-prod', repository: 'prod', image: 'app', startedAt: T0 });

    assert.equal(await store.repositories.delete('dev'), true);

    assert.equal(await store.repositories.get('dev'), undefined);
    assert.equal(await store.manifests.get('dev', 'app', gone), undefined);
    assert.equal(await store.tags.resolve('dev', 'app', 'v2'), undefined);
    assert.deepEqual(await store.tags.list('dev', 'app', {}), []);
    assert.deepEqual(await store.tags.history('dev', 'app', 'v1'), []);
    assert.equal(await store.blobs.get('dev', 'app', fakeDigest('loose blob')), undefined);
    assert.equal(await store.uploads.get('u-dev'), undefined);
    for (const label of ['loose blob', 'config dev only', 'layer dev only', 'manifest dev only']) {
      assert.equal(await store.blobs.isReferenced(fakeDigest(label)), false, label);
    }
    assert.deepEqual(await store.manifests.catalog({}), ['prod/app']);
    assert.equal(await store.tags.resolve('prod', 'app', 'v1'), kept);
    assert.ok(await store.uploads.get('u-prod'));

    // The key is free again, and the new repository starts empty.
    await store.repositories.create(repositoryRecord('dev'));
    assert.deepEqual(await store.manifests.catalog({}, 'dev'), []);
    assert.deepEqual(await store.tags.history('dev', 'app', 'v2'), []);
  });

  define(
    'writes into an unknown repository throw UnknownRepositoryError and store nothing',
    async (store) => {
      const digest = fakeDigest('blob');
      await assert.rejects(store.blobs.link('ghost', 'app', digest, 1), UnknownRepositoryError);
      const record = manifestRecord('ghost', 'app', fakeDigest('manifest'));
      await assert.rejects(store.manifests.put({ record, references: [] }), UnknownRepositoryError);
      const upload = { id: 'u1', repository: 'ghost', image: 'app', startedAt: T0 };
      await assert.rejects(store.uploads.create(upload), UnknownRepositoryError);
      assert.equal(await store.blobs.isReferenced(digest), false);
      assert.deepEqual(await store.manifests.catalog({}), []);
      assert.equal(await store.uploads.get('u1'), undefined);
    },
  );

  define('repositories: stats count images, distinct blob bytes and the newest push', async (store) => {
    for (const key of ['dev', 'prod', 'empty']) await store.repositories.create(repositoryRecord(key));
    await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await pushImage(store, { repository: 'dev', image: 'app', label: 'b', tag: 'v2' });
    // The same blobs under another image of the repository count once.
    await pushImage(store, { repository: 'dev', image: 'lib', label: 'a' });
    const later = '2024-06-01T00:00:00.000Z';
    await store.manifests.put({
      record: manifestRecord('dev', 'lib', fakeDigest('manifest later'), { createdAt: later }),
      references: [],
    });
    await store.blobs.link('dev', 'lib', fakeDigest('loose'), 50);
    await pushImage(store, { repository: 'prod', image: 'app', label: 'a', tag: 'v1' });

    const stats = await store.repositories.stats();
    assert.deepEqual(stats.get('dev'), { imageCount: 2, sizeBytes: 450, lastPushAt: later });
    assert.deepEqual(stats.get('prod'), { imageCount: 1, sizeBytes: 200, lastPushAt: T0 });
    assert.deepEqual(stats.get('empty'), { imageCount: 0, sizeBytes: 0, lastPushAt: null });
    assert.deepEqual([...stats.keys()].sort(), ['dev', 'empty', 'prod']);
  });

  define('manifests: images merge repositories by image, in order, paginated', async (store) => {
    for (const key of ['dev', 'prod']) await store.repositories.create(repositoryRecord(key));
    await pushImage(store, { repository: 'dev', image: 'team/b', label: 'b1', tag: 'v1' });
    await pushImage(store, { repository: 'dev', image: 'team/b', label: 'b2', tag: 'v2' });
    await pushImage(store, { repository: 'prod', image: 'team/b', label: 'b1', tag: 'v1' });
    await pushImage(store, { repository: 'prod', image: 'team/b', label: 'b3', tag: 'latest' });
    await pushImage(store, { repository: 'dev', image: 'a', label: 'a' });
    await pushImage(store, { repository: 'prod', image: 'c', label: 'c', tag: 'x' });

    assert.deepEqual(await store.manifests.images(['dev'], {}), [
      { image: 'a', tagCount: 0, lastPushAt: T0 },
      { image: 'team/b', tagCount: 2, lastPushAt: T0 },
    ]);
    const both = await store.manifests.images(['dev', 'prod'], {});
    assert.deepEqual(
      both.map((i) => [i.image, i.tagCount]),
      [
        ['a', 0],
        ['c', 1],
        ['team/b', 3],
      ],
    );
    assert.deepEqual(
      (await store.manifests.images(['dev', 'prod'], { n: 1, last: 'a' })).map((i) => i.image),
      ['c'],
    );
    assert.deepEqual(await store.manifests.images([], {}), []);
    assert.deepEqual(await store.manifests.images(['nope'], {}), []);
  });

  define('tags: entries list tag, digest and last move in tag order', async (store) => {
    await store.repositories.create(repositoryRecord('dev'));
    const one = await pushImage(store, { repository: 'dev', image: 'app', label: 'one', tag: 'v1' });
    const two = await pushImage(store, { repository: 'dev', image: 'app', label: 'two', tag: 'latest' });
    const entries = await store.tags.entries('dev', 'app');
    assert.deepEqual(
      entries.map((e) => [e.tag, e.digest]),
      [
        ['latest', two],
        ['v1', one],
      ],
    );
    assert.ok(entries.every((e) => typeof e.updatedAt === 'string' && e.updatedAt.length > 0));
    assert.deepEqual(await store.tags.entries('dev', 'other'), []);
  });
}
