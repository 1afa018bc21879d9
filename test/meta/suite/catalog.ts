import assert from 'node:assert/strict';
import { type Define, ensureRepository, fakeDigest, pushImage } from './harness.ts';

// Names whose byte order differs from the order of (repository, image) pairs and from
// locale-aware order: '-' 2d < '.' 2e < '/' 2f < '_' 5f < 'b' 62.
const NAMES = [
  ['a', 'x'],
  ['a-b', 'x'],
  ['a.b', 'x'],
  ['ab', 'x'],
  ['r', 'a/b'],
  ['r', 'a-b'],
  ['r', 'a.b'],
  ['r', 'ab'],
  ['r', 'a_b'],
] as const;

const CATALOG_IN_BYTE_ORDER = ['a-b/x', 'a.b/x', 'a/x', 'ab/x', 'r/a-b', 'r/a.b', 'r/a/b', 'r/a_b', 'r/ab'];

export function defineCatalogTests(define: Define): void {
  define('catalog: names with at least one manifest, in byte order', async (store) => {
    for (const [repository, image] of NAMES) {
      await ensureRepository(store, repository);
      await pushImage(store, { repository, image, label: `${repository} ${image}`, tag: 'v1' });
      await pushImage(store, { repository, image, label: `${repository} ${image} second` });
    }
    await ensureRepository(store, 'empty');
    await store.blobs.link('empty', 'only-blobs', fakeDigest('blob'), 1);
    const gone = await pushImage(store, { repository: 'empty', image: 'deleted', label: 'gone' });
    await store.manifests.delete('empty', 'deleted', gone, 'alice');
    assert.deepEqual(await store.manifests.catalog({}), CATALOG_IN_BYTE_ORDER);
  });

  define('catalog: pages with n and last', async (store) => {
    for (const [repository, image] of NAMES) {
      await ensureRepository(store, repository);
      await pushImage(store, { repository, image, label: `${repository} ${image}` });
    }
    const pages: string[][] = [];
    let last: string | undefined;
    for (;;) {
      const page = await store.manifests.catalog(last === undefined ? { n: 4 } : { n: 4, last });
      if (page.length === 0) break;
      pages.push(page);
      last = page.at(-1);
    }
    assert.deepEqual(pages, [
      CATALOG_IN_BYTE_ORDER.slice(0, 4),
      CATALOG_IN_BYTE_ORDER.slice(4, 8),
      CATALOG_IN_BYTE_ORDER.slice(8),
    ]);
    assert.deepEqual(await store.manifests.catalog({ last: 'a0' }), [
      'ab/x',
      'r/a-b',
      'r/a.b',
      'r/a/b',
      'r/a_b',
      'r/ab',
    ]);
    assert.deepEqual(await store.manifests.catalog({ last: 'r/ab' }), []);
    assert.deepEqual(await store.manifests.catalog({ n: 0 }), []);
  });

  define('catalog: within one repository, with n and last', async (store) => {
    for (const [repository, image] of NAMES) {
      await ensureRepository(store, repository);
      await pushImage(store, { repository, image, label: `${repository} ${image}` });
    }
    await ensureRepository(store, 'r-2');
    await pushImage(store, { repository: 'r-2', image: 'x', label: 'r-2' });
    await pushImage(store, { repository: 'a', image: 'y', label: 'a y' });
    const r = ['r/a-b', 'r/a.b', 'r/a/b', 'r/a_b', 'r/ab'];
    assert.deepEqual(await store.manifests.catalog({}, 'r'), r);
    assert.deepEqual(await store.manifests.catalog({}, 'a'), ['a/x', 'a/y']);
    assert.deepEqual(await store.manifests.catalog({ n: 2 }, 'r'), r.slice(0, 2));
    assert.deepEqual(await store.manifests.catalog({ n: 2, last: 'r/a.b' }, 'r'), r.slice(2, 4));
    assert.deepEqual(await store.manifests.catalog({ last: 'a' }, 'r'), r, 'last before the repository');
    assert.deepEqual(await store.manifests.catalog({ last: 'z' }, 'r'), []);
    assert.deepEqual(await store.manifests.catalog({}, 'nope'), []);
  });
}
