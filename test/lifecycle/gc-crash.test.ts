/**
 * kill -9 in the middle of a garbage collection run: the restarted server resumes the same run
 * where it stopped and finishes it; what tags reach is intact, the garbage is gone, and fsck
 * finds nothing wrong (no tombstone left, no row pointing at a deleted file).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callApi } from '../api/support.ts';
import { startGantry } from '../support/gantry.ts';
import { RegistryClient, uniqueName } from '../support/http.ts';
import { ADMIN_AUTH, storedBlobs, waitForRun } from './gc-support.ts';

const IMAGES = 30;

test('gc killed mid-run resumes after the restart and finishes', async () => {
  // Throttled, so the run is still going when it is killed.
  const slow = await startGantry({ env: { GANTRY_GC_DELETES_PER_SECOND: '15' } });
  let restarted: Awaited<ReturnType<typeof startGantry>> | undefined;
  try {
    const client = new RegistryClient(slow.url);
    const kept = await client.pushImage(uniqueName('crash-kept'), 'v1', { layerSizes: [20_000] });
    const garbage: string[] = [];
    const name = uniqueName('crash-gone');
    for (let i = 0; i < IMAGES; i++) {
      const image = await client.pushImage(name, `v${i}`, { layerSizes: [5_000] });
      garbage.push(image.config.digest, image.layers[0]!.digest, image.manifest.digest);
      const del = await client.request('DELETE', `/v2/${name}/manifests/${image.manifest.digest}`);
      assert.equal(del.status, 202);
    }
    const started = await callApi(slow.url, 'POST', '/gc', { auth: ADMIN_AUTH, body: { graceSeconds: 0 } });
    assert.equal(started.status, 202, started.text);
    const id: string = started.body.run.id;
    for (;;) {
      const { body } = await callApi(slow.url, 'GET', `/gc/runs/${id}`, { auth: ADMIN_AUTH });
      assert.equal(body.run.state, 'running', 'the run must still be going when it is killed');
      if (body.run.linksRemoved >= 10) break;
      await sleep(100);
    }
    await slow.kill();

    restarted = await startGantry({ dataDir: slow.dataDir });
    const run = await waitForRun(restarted.url, id, 90_000);
    assert.equal(run.state, 'finished', JSON.stringify(run));
    // Link counts may miss what was removed in the second before the kill (progress is saved
    // every second); every blob of the deleted images is removed after the restart.
    assert.ok(run.blobsRemoved >= IMAGES * 3, JSON.stringify(run));

    const stored = await storedBlobs(restarted.dataDir);
    assert.deepEqual(
      garbage.filter((d) => stored.has(d)),
      [],
      'the deleted images are gone from disk',
    );
    const again = new RegistryClient(restarted.url);
    const manifest = await again.getManifest(kept.name, 'v1');
    assert.equal(manifest.status, 200);
    for (const blob of [kept.config, ...kept.layers]) {
      const res = await again.request('GET', `/v2/${kept.name}/blobs/${blob.digest}`);
      assert.equal(res.status, 200);
      assert.equal(Buffer.compare(res.body, blob.bytes), 0);
    }
    const fsck = await callApi(restarted.url, 'POST', '/fsck', { auth: ADMIN_AUTH, body: {} });
    assert.equal(fsck.status, 200, fsck.text);
    assert.deepEqual(fsck.body.problems, []);
    assert.equal(fsck.body.pendingDeletions, 0);
  } finally {
    if (restarted) await restarted.stop();
    else await slow.stop();
  }
});
