/**
 * Real clients: skopeo pushes, the management API deletes a tag and a whole repository, GC runs,
 * and skopeo still pulls what remains, byte for byte; disk usage drops by the size of the
 * blobs only the deleted content held.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callApi } from '../api/support.ts';
import { skopeoCopy, skopeoInspectRaw } from '../support/clients.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { ADMIN_AUTH, runGc, storedBlobs, total } from './gc-support.ts';

let gantry: RunningGantry;
let fx: PreparedFixtures;
let work: string;

before(
  async () => {
    fx = await prepareFixtures(['tiny', 'tiny-multiarch']);
    gantry = await startGantry();
    work = await mkdtemp(join(tmpdir(), 'gantry-gc-skopeo-'));
  },
  { timeout: 10 * 60_000 },
);
after(async () => {
  await gantry?.stop();
  await fx?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

/** digest → size of every blob in an OCI layout. */
async function layoutBlobs(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const name of await readdir(join(dir, 'blobs', 'sha256'))) {
    found.set(`sha256:${name}`, (await stat(join(dir, 'blobs', 'sha256', name))).size);
  }
  return found;
}

test('skopeo push, API delete, GC, skopeo pull of what remains; the disk shrinks', {
  timeout: 300_000,
}, async () => {
  const docker = (name: string) => `docker://${gantry.host}/${name}`;
  const created = await callApi(gantry.url, 'POST', '/repositories', {
    auth: ADMIN_AUTH,
    body: { key: 'gc-doomed-local', kind: 'local' },
  });
  assert.equal(created.status, 201, created.text);
  await skopeoCopy(fx.ociRef('tiny'), docker('docker-dev-local/gc/tiny:1'));
  await skopeoCopy(fx.ociRef('tiny'), docker('docker-dev-local/gc/tiny:2'));
  await skopeoCopy(fx.ociRef('tiny-multiarch'), docker('gc-doomed-local/gc/multi:1'), { all: true });

  // A tag deleted through the registry API: its manifest is still tagged 1, so nothing goes.
  const deletedTag = await fetch(`${gantry.url}/v2/docker-dev-local/gc/tiny/manifests/2`, {
    method: 'DELETE',
  });
  assert.equal(deletedTag.status, 202);
  const deletedRepo = await callApi(gantry.url, 'DELETE', '/repositories/gc-doomed-local', {
    auth: ADMIN_AUTH,
  });
  assert.ok(deletedRepo.status === 204 || deletedRepo.status === 200, deletedRepo.text);

  const tiny = await layoutBlobs(fx.layoutDir('tiny'));
  const multi = await layoutBlobs(fx.layoutDir('tiny-multiarch'));
  const onlyMulti = [...multi].filter(([digest]) => !tiny.has(digest));
  const freed = onlyMulti.reduce((n, [, size]) => n + size, 0);
  const before = await storedBlobs(gantry.dataDir);
  for (const [digest] of onlyMulti) assert.ok(before.has(digest), `${digest} was pushed`);

  const run = await runGc(gantry.url, { graceSeconds: 0 });
  assert.equal(run.state, 'finished', JSON.stringify(run));
  const afterRun = await storedBlobs(gantry.dataDir);
  for (const [digest] of onlyMulti) assert.equal(afterRun.has(digest), false, `${digest} removed`);
  assert.ok(total(before) - total(afterRun) >= freed, `disk drops by at least ${freed} bytes`);

  const raw = await skopeoInspectRaw(docker('docker-dev-local/gc/tiny:1'));
  await skopeoCopy(docker('docker-dev-local/gc/tiny:1'), `oci:${join(work, 'pulled')}:1`);
  const pulled = await layoutBlobs(join(work, 'pulled'));
  assert.ok(pulled.has(raw.digest), 'the pulled manifest has the pushed digest');
  for (const [digest, size] of pulled) assert.equal(tiny.get(digest), size, `${digest} pulled intact`);
});
