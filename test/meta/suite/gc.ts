import assert from 'node:assert/strict';
import { BlobCollectedError } from '../../../src/meta/gc-store.ts';
import { type Define, ensureRepository, fakeDigest } from './harness.ts';

const FUTURE = new Date(Date.now() + 3_600_000);
const PAST = new Date('2000-01-01T00:00:00.000Z');

export function defineGcTests(define: Define): void {
  define(
    'gc: an unreferenced link goes once older than the cut-off; a referenced one stays',
    async (store) => {
      await ensureRepository(store, 'dev');
      const digest = fakeDigest('gc loose blob');
      await store.blobs.link('dev', 'app', digest, 10);
      const found = await store.gc.unreferencedLinks({
        after: undefined,
        before: FUTURE,
        kinds: ['local'],
        limit: 10,
      });
      assert.deepEqual(found, [{ repository: 'dev', image: 'app', digest, size: 10 }]);
      assert.equal(await store.gc.removeLink(found[0]!, PAST), false, 'younger than the cut-off');
      assert.equal(await store.gc.removeLink(found[0]!, FUTURE), true);
      assert.equal(await store.blobs.get('dev', 'app', digest), undefined);
      assert.equal((await store.repositories.stats()).get('dev')?.sizeBytes, 0);
    },
  );

  define(
    'gc: a tombstone refuses links of its digest until cleared, and needs no row to exist',
    async (store) => {
      await ensureRepository(store, 'dev');
      const linked = fakeDigest('gc linked');
      const loose = fakeDigest('gc loose');
      await store.blobs.link('dev', 'app', linked, 1);
      assert.equal(await store.gc.tombstone(linked, 1, 'run'), false, 'a link keeps the blob');
      assert.equal(await store.gc.tombstone(loose, 5, 'run'), true);
      assert.deepEqual(await store.gc.referenced([linked, loose]), new Set([linked, loose]));
      await assert.rejects(store.blobs.link('dev', 'app', loose, 5), BlobCollectedError);
      assert.deepEqual(await store.gc.tombstones(), [{ digest: loose, size: 5, runId: 'run' }]);
      await store.gc.clearTombstone(loose);
      await store.blobs.link('dev', 'app', loose, 5);
      assert.equal(await store.blobs.get('dev', 'app', loose), 5);
    },
  );

  define('gc: a lease has one holder until it expires or is released', async (store) => {
    assert.equal(await store.gc.acquireLease('gc', 'a', FUTURE), true);
    assert.equal(await store.gc.acquireLease('gc', 'b', FUTURE), false);
    assert.equal(await store.gc.acquireLease('gc', 'a', FUTURE), true, 'the holder renews');
    await store.gc.releaseLease('gc', 'a');
    assert.equal(await store.gc.acquireLease('gc', 'b', PAST), true);
    assert.equal(await store.gc.acquireLease('gc', 'a', FUTURE), true, 'an expired lease is taken over');
  });

  define(
    'gc: a run that ends writes gc.finished with its totals; progress writes no event',
    async (store) => {
      const start = await store.outbox.latestId();
      await store.gc.createRun({
        id: 'rf',
        state: 'running',
        dryRun: false,
        graceSeconds: 0,
        trigger: 'schedule',
        startedBy: 'scheduler',
        startedAt: '2024-05-01T10:00:00.000Z',
        phase: 'tombstones',
      });
      await store.gc.updateRun('rf', { phase: 'blobs', blobsRemoved: 2 });
      assert.equal(await store.outbox.latestId(), start, 'no event while the run goes on');
      await store.gc.updateRun('rf', {
        state: 'finished',
        phase: 'done',
        finishedAt: '2024-05-01T10:05:00.000Z',
        bytesFreed: 64,
      });
      const events = await store.outbox.after(start, 10);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.equal(event?.type, 'io.gantry.gc.finished');
      assert.equal(event?.subject, 'gc/rf');
      assert.equal(event?.repository, undefined, 'about no repository: administrators only');
      assert.equal(event?.at, '2024-05-01T10:05:00.000Z');
      assert.deepEqual(
        { ...event?.data },
        {
          id: 'rf',
          state: 'finished',
          dryRun: false,
          trigger: 'schedule',
          startedBy: 'scheduler',
          startedAt: '2024-05-01T10:00:00.000Z',
          finishedAt: '2024-05-01T10:05:00.000Z',
          manifestsRemoved: 0,
          linksRemoved: 0,
          blobsRemoved: 2,
          bytesFreed: 64,
          errors: [],
        },
      );
    },
  );

  define('gc: runs are recorded with their progress, newest first', async (store) => {
    const base = {
      state: 'running' as const,
      dryRun: true,
      graceSeconds: 0,
      trigger: 'manual' as const,
      startedBy: 'admin',
      phase: 'tombstones' as const,
    };
    await store.gc.createRun({ ...base, id: 'r1', startedAt: '2024-05-01T10:00:00.000Z' });
    await store.gc.createRun({ ...base, id: 'r2', startedAt: '2024-05-01T11:00:00.000Z' });
    await store.gc.updateRun('r1', { state: 'finished', blobsRemoved: 3, bytesFreed: 99, errors: ['x'] });
    assert.deepEqual(
      (await store.gc.listRuns(10)).map((r) => r.id),
      ['r2', 'r1'],
    );
    const r1 = await store.gc.getRun('r1');
    assert.equal(r1?.state, 'finished');
    assert.equal(r1?.bytesFreed, 99);
    assert.deepEqual(r1?.errors, ['x']);
    assert.deepEqual(
      (await store.gc.unfinishedRuns()).map((r) => r.id),
      ['r2'],
    );
  });
}
