import assert from 'node:assert/strict';
import { MetaConflictError } from '../../../src/meta/metadata-store.ts';
import type { UploadRecord } from '../../../src/meta/records.ts';
import { type Define, ensureRepository, fakeDigest, pushImage } from './harness.ts';

function upload(id: string, startedAt: string): UploadRecord {
  return { id, repository: 'dev', image: 'app', startedAt };
}

export function defineUploadTests(define: Define): void {
  define('uploads: create, get, delete; a taken id throws MetaConflictError', async (store) => {
    await ensureRepository(store, 'dev');
    const record = upload('0b5e6c2a-upload', '2024-05-01T10:00:00.000Z');
    await store.uploads.create(record);
    assert.deepEqual(await store.uploads.get(record.id), record);
    await assert.rejects(store.uploads.create({ ...record, image: 'other' }), MetaConflictError);
    assert.equal(await store.uploads.delete(record.id), true);
    assert.equal(await store.uploads.delete(record.id), false);
    assert.equal(await store.uploads.get(record.id), undefined);
  });

  define('uploads: complete removes the upload and links the blob to its name, once', async (store) => {
    await ensureRepository(store, 'dev');
    const record = upload('c0mplete-upload', '2024-05-01T10:00:00.000Z');
    await store.uploads.create(record);
    const digest = fakeDigest('completed blob');
    assert.equal(await store.uploads.complete(record.id, digest, 42), true);
    assert.equal(await store.uploads.get(record.id), undefined);
    assert.equal(await store.blobs.get('dev', 'app', digest), 42);
    assert.equal(await store.blobs.get('dev', 'other', digest), undefined);
    const second = fakeDigest('a second blob');
    assert.equal(await store.uploads.complete(record.id, second, 7), false);
    assert.equal(
      await store.blobs.get('dev', 'app', second),
      undefined,
      'nothing linked for an unknown upload',
    );
  });

  define(
    'uploads: count is the number of open uploads (metrics); contentCounts per repository',
    async (store) => {
      await ensureRepository(store, 'dev');
      await ensureRepository(store, 'empty');
      assert.equal(await store.uploads.count(), 0);
      await store.uploads.create(upload('count-1', '2024-05-01T10:00:00.000Z'));
      await store.uploads.create(upload('count-2', '2024-05-01T10:00:00.000Z'));
      assert.equal(await store.uploads.count(), 2);
      await store.uploads.delete('count-1');
      assert.equal(await store.uploads.count(), 1);
      // Two images sharing their config and layer (same labels): two manifests, two distinct blobs.
      await pushImage(store, { repository: 'dev', image: 'app', label: 'shared' });
      await pushImage(store, { repository: 'dev', image: 'other', label: 'shared' });
      await pushImage(store, { repository: 'dev', image: 'app', label: 'second' });
      const counts = await store.repositories.contentCounts();
      assert.deepEqual(counts.get('dev'), { manifests: 3, blobs: 4 });
      assert.equal(counts.get('empty'), undefined);
      await store.ping();
    },
  );

  define('uploads: listStartedBefore returns the older ones, oldest first', async (store) => {
    await ensureRepository(store, 'dev');
    const records = [
      upload('c', '2024-05-01T09:00:00.000Z'),
      upload('a', '2024-05-01T11:00:00.000Z'),
      upload('b', '2024-05-01T08:59:59.999Z'),
      upload('d', '2024-05-01T10:00:00.000Z'),
    ];
    for (const r of records) await store.uploads.create(r);
    const before = await store.uploads.listStartedBefore(new Date('2024-05-01T10:00:00.000Z'));
    assert.deepEqual(before, [records[2], records[0]]);
    assert.deepEqual(await store.uploads.listStartedBefore(new Date('2000-01-01T00:00:00.000Z')), []);
  });

  define('migrate() again is harmless and keeps the data', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await store.migrate();
    await store.migrate();
    assert.equal(await store.tags.resolve('dev', 'app', 'v1'), digest);
    await pushImage(store, { repository: 'dev', image: 'app', label: 'b', tag: 'v2' });
    assert.deepEqual(await store.tags.list('dev', 'app', {}), ['v1', 'v2']);
  });
}
