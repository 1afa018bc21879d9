import assert from 'node:assert/strict';
import { MissingReferencesError } from '../../../src/meta/metadata-store.ts';
import { MEDIA } from '../../../src/oci/media-types.ts';
import { type Define, ensureRepository, fakeDigest, manifestRecord, pushImage } from './harness.ts';

export function defineManifestTests(define: Define): void {
  define('manifests: put stores the record and get returns it as given', async (store) => {
    await ensureRepository(store, 'dev');
    const plain = manifestRecord('dev', 'app', fakeDigest('plain'), { size: 4_294_967_296 });
    const full = manifestRecord('dev', 'app', fakeDigest('signature'), {
      artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      subject: plain.digest,
      annotations: { 'org.opencontainers.image.created': '2024-05-01T10:00:00Z', empty: '' },
    });
    assert.deepEqual(await store.manifests.put({ record: plain, references: [] }), {});
    await store.manifests.put({ record: full, references: [] });
    assert.deepEqual(await store.manifests.get('dev', 'app', plain.digest), plain);
    assert.deepEqual(await store.manifests.get('dev', 'app', full.digest), full);
    assert.equal(await store.manifests.get('dev', 'other', plain.digest), undefined);
  });

  define('manifests: exists tells whether the name holds any manifest', async (store) => {
    await ensureRepository(store, 'dev');
    assert.equal(await store.manifests.exists('dev', 'app'), false);
    await store.manifests.put({ record: manifestRecord('dev', 'app', fakeDigest('one')), references: [] });
    assert.equal(await store.manifests.exists('dev', 'app'), true);
    assert.equal(await store.manifests.exists('dev', 'ap'), false, 'no prefix match');
    assert.equal(await store.manifests.exists('dev', 'app/sub'), false);
    await store.manifests.delete('dev', 'app', fakeDigest('one'), 'ci');
    assert.equal(await store.manifests.exists('dev', 'app'), false);
  });

  define('manifests: put with missing references stores nothing and lists every one', async (store) => {
    await ensureRepository(store, 'dev');
    const linked = fakeDigest('linked');
    const elsewhere = fakeDigest('linked to another image');
    const child = fakeDigest('child manifest');
    await store.blobs.link('dev', 'app', linked, 1);
    await store.blobs.link('dev', 'lib', elsewhere, 1);
    await store.manifests.put({ record: manifestRecord('dev', 'app', child), references: [] });
    const references = [
      { digest: linked, kind: 'blob' as const },
      { digest: fakeDigest('never linked'), kind: 'blob' as const },
      { digest: elsewhere, kind: 'blob' as const },
      { digest: child, kind: 'manifest' as const },
      { digest: fakeDigest('never pushed'), kind: 'manifest' as const },
      { digest: linked, kind: 'blob' as const },
      { digest: fakeDigest('a blob is not a manifest'), kind: 'manifest' as const },
    ];
    await store.blobs.link('dev', 'app', fakeDigest('a blob is not a manifest'), 1);
    const record = manifestRecord('dev', 'app', fakeDigest('index'), { mediaType: MEDIA.ociIndex });
    const error = await store.manifests
      .put({ record, references, tag: { name: 'v1', actor: 'ci', cause: 'push' } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof MissingReferencesError, String(error));
    assert.deepEqual(error.missing, [references[1], references[2], references[4], references[6]]);
    assert.equal(await store.manifests.get('dev', 'app', record.digest), undefined);
    assert.equal(await store.tags.resolve('dev', 'app', 'v1'), undefined);
    assert.deepEqual(await store.tags.history('dev', 'app', 'v1'), []);
    assert.equal(await store.blobs.isReferenced(record.digest), false);
  });

  define('manifests: put with a tag points it and records a push event', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, {
      repository: 'dev',
      image: 'app',
      label: 'a',
      tag: 'v1',
      actor: 'bob',
    });
    assert.equal(await store.tags.resolve('dev', 'app', 'v1'), digest);
    const [event, ...rest] = await store.tags.history('dev', 'app', 'v1');
    assert.deepEqual(rest, []);
    assert.ok(event && !Number.isNaN(Date.parse(event.at)));
    assert.deepEqual(event, {
      ...{ repository: 'dev', image: 'app', tag: 'v1', newDigest: digest, actor: 'bob', cause: 'push' },
      at: event.at,
    });
  });

  define('manifests: re-put of the same digest keeps the row and only moves the tag', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    const before = await store.manifests.get('dev', 'app', digest);
    const again = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'stable' });
    assert.equal(again, digest);
    assert.deepEqual(await store.manifests.get('dev', 'app', digest), before);
    assert.deepEqual(await store.tags.list('dev', 'app', {}), ['stable', 'v1']);
    assert.equal((await store.tags.history('dev', 'app', 'v1')).length, 1);
  });

  define('manifests: moving a tag records old and new digest and returns the old one', async (store) => {
    await ensureRepository(store, 'dev');
    const first = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'latest' });
    await pushImage(store, { repository: 'dev', image: 'app', label: 'b' });
    const second = fakeDigest('manifest b');
    const record = manifestRecord('dev', 'app', second);
    const moved = await store.manifests.put({
      record,
      references: [],
      tag: { name: 'latest', actor: 'promoter', cause: 'promotion' },
    });
    assert.deepEqual(moved, { previousDigest: first });
    assert.equal(await store.tags.resolve('dev', 'app', 'latest'), second);
    const history = await store.tags.history('dev', 'app', 'latest');
    assert.deepEqual(
      history.map(({ oldDigest, newDigest, actor, cause }) => ({ oldDigest, newDigest, actor, cause })),
      [
        { oldDigest: first, newDigest: second, actor: 'promoter', cause: 'promotion' },
        { oldDigest: undefined, newDigest: first, actor: 'ci', cause: 'push' },
      ],
    );
  });

  define('manifests: put that leaves the tag where it was records no event', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    const record = manifestRecord('dev', 'app', digest);
    const result = await store.manifests.put({
      record,
      references: [],
      tag: { name: 'v1', actor: 'x', cause: 'push' },
    });
    assert.deepEqual(result, { previousDigest: digest });
    assert.equal((await store.tags.history('dev', 'app', 'v1')).length, 1);
  });

  define('manifests: referrers are the manifests with that subject in the name, by digest', async (store) => {
    await ensureRepository(store, 'dev');
    const subject = await pushImage(store, { repository: 'dev', image: 'app', label: 'image' });
    const labels = ['sig', 'sbom', 'attestation', 'scan'];
    for (const label of labels) await pushImage(store, { repository: 'dev', image: 'app', label, subject });
    await pushImage(store, { repository: 'dev', image: 'lib', label: 'other name', subject });
    const referrers = await store.manifests.referrers('dev', 'app', subject);
    const expected = labels.map((l) => fakeDigest(`manifest ${l}`)).sort();
    assert.deepEqual(
      referrers.map((r) => r.digest),
      expected,
    );
    assert.ok(referrers.every((r) => r.subject === subject && r.image === 'app'));
    assert.deepEqual(await store.manifests.referrers('dev', 'app', fakeDigest('nothing')), []);
  });

  define('manifests: delete removes the manifest and its tags, as delete events', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'latest' });
    const other = await pushImage(store, { repository: 'dev', image: 'app', label: 'b', tag: 'v2' });
    assert.deepEqual(await store.manifests.delete('dev', 'app', digest, 'alice'), {
      removedTags: ['latest', 'v1'],
    });
    assert.equal(await store.manifests.get('dev', 'app', digest), undefined);
    assert.deepEqual(await store.tags.list('dev', 'app', {}), ['v2']);
    assert.equal(await store.tags.resolve('dev', 'app', 'v2'), other);
    const [event] = await store.tags.history('dev', 'app', 'v1');
    assert.deepEqual(event && { ...event, at: '' }, {
      ...{ repository: 'dev', image: 'app', tag: 'v1', oldDigest: digest, actor: 'alice', cause: 'delete' },
      at: '',
    });
    assert.deepEqual(await store.manifests.delete('dev', 'app', digest, 'alice'), undefined);
  });

  define('manifests: 50 concurrent puts to the same name all land, tag moves in order', async (store) => {
    await ensureRepository(store, 'dev');
    const labels = Array.from({ length: 50 }, (_, i) => `concurrent ${i}`);
    const digests = await Promise.all(
      labels.map((label) => pushImage(store, { repository: 'dev', image: 'app', label, tag: 'latest' })),
    );
    for (const digest of digests) assert.ok(await store.manifests.get('dev', 'app', digest));
    const history = (await store.tags.history('dev', 'app', 'latest')).reverse();
    assert.equal(history.length, 50);
    assert.equal(history[0]?.oldDigest, undefined);
    for (let i = 1; i < history.length; i++) assert.equal(history[i]?.oldDigest, history[i - 1]?.newDigest);
    assert.deepEqual(new Set(history.map((e) => e.newDigest)), new Set(digests));
    assert.equal(await store.tags.resolve('dev', 'app', 'latest'), history[49]?.newDigest);
  });
}
