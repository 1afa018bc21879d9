import assert from 'node:assert/strict';
import { type Define, ensureRepository, pushImage } from './harness.ts';

/** Lookups the search uses: manifests by digest prefix, names by tag. */
export function defineLookupTests(define: Define): void {
  define('lookups: manifests by digest prefix, within the given repositories, sorted', async (store) => {
    for (const key of ['dev', 'prod']) await ensureRepository(store, key);
    const a = await pushImage(store, { repository: 'dev', image: 'team/a', label: 'a', tag: '1' });
    await pushImage(store, { repository: 'prod', image: 'team/a', label: 'a', tag: '1' });
    await pushImage(store, { repository: 'dev', image: 'team/b', label: 'b', tag: '1' });
    const prefix = a.slice(0, 'sha256:'.length + 6);
    assert.deepEqual(
      await store.manifests.withDigestPrefix(prefix, { repositories: ['dev', 'prod'], limit: 10 }),
      [
        { repository: 'dev', image: 'team/a', digest: a },
        { repository: 'prod', image: 'team/a', digest: a },
      ],
    );
    assert.deepEqual(await store.manifests.withDigestPrefix(prefix, { repositories: ['prod'], limit: 10 }), [
      { repository: 'prod', image: 'team/a', digest: a },
    ]);
    assert.deepEqual(
      await store.manifests.withDigestPrefix(prefix, { repositories: ['dev', 'prod'], limit: 1 }),
      [{ repository: 'dev', image: 'team/a', digest: a }],
    );
    assert.deepEqual(
      await store.manifests.withDigestPrefix('sha256:zzzz', { repositories: ['dev'], limit: 10 }),
      [],
    );
    assert.deepEqual(await store.manifests.withDigestPrefix(prefix, { repositories: [], limit: 10 }), []);
  });

  define('lookups: names where a tag points, within the given repositories, sorted', async (store) => {
    for (const key of ['dev', 'prod']) await ensureRepository(store, key);
    const a = await pushImage(store, { repository: 'dev', image: 'team/a', label: 'a', tag: '1.4.2' });
    const b = await pushImage(store, { repository: 'dev', image: 'team/b', label: 'b', tag: '1.4.2' });
    await pushImage(store, { repository: 'prod', image: 'team/a', label: 'c', tag: 'latest' });
    assert.deepEqual(await store.tags.withTag('1.4.2', { repositories: ['dev', 'prod'], limit: 10 }), [
      { repository: 'dev', image: 'team/a', digest: a },
      { repository: 'dev', image: 'team/b', digest: b },
    ]);
    assert.deepEqual(await store.tags.withTag('1.4.2', { repositories: ['prod'], limit: 10 }), []);
    assert.deepEqual(await store.tags.withTag('1.4.2', { repositories: ['dev'], limit: 1 }), [
      { repository: 'dev', image: 'team/a', digest: a },
    ]);
  });
}
