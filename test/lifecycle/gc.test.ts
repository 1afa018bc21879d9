/**
 * Garbage collection over HTTP against a running Gantry: what goes, what stays, the dry run, the
 * run records, the race between a manifest PUT and the removal of the blob it references, and
 * the API's refusals.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { callApi } from '../api/support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  descriptorOf,
  expectOciError,
  imageManifest,
  indexManifest,
  makeBlob,
  makeConfig,
  RegistryClient,
  uniqueName,
} from '../support/http.ts';
import { ADMIN_AUTH, runGc, storedBlobs, total } from './gc-support.ts';

let gantry: RunningGantry;
let client: RegistryClient;

before(async () => {
  gantry = await startGantry();
  client = new RegistryClient(gantry.url);
});
after(() => gantry.stop());

test('gc removes what deleted manifests left behind, keeps what tags reach, and the disk shrinks', async () => {
  const kept = await client.pushImage(uniqueName('gc-kept'), 'v1', { layerSizes: [200_000] });
  const gone = await client.pushImage(uniqueName('gc-gone'), 'v1', { layerSizes: [600_000, 300_000] });
  const del = await client.request('DELETE', `/v2/${gone.name}/manifests/${gone.manifest.digest}`);
  assert.equal(del.status, 202);
  const goneDigests = [gone.config, ...gone.layers, gone.manifest].map((b) => b.digest);
  const goneBytes = [gone.config, ...gone.layers, gone.manifest].reduce((n, b) => n + b.bytes.length, 0);

  // The default grace period (hours) keeps everything just written.
  const graceful = await runGc(gantry.url, {});
  assert.equal(graceful.state, 'finished');
  assert.equal(graceful.blobsRemoved, 0);

  const diskBefore = await storedBlobs(gantry.dataDir);
  for (const digest of goneDigests) assert.ok(diskBefore.has(digest), digest);

  const dry = await runGc(gantry.url, { dryRun: true, graceSeconds: 0 });
  assert.equal(dry.state, 'finished');
  assert.equal(dry.dryRun, true);
  const listed = new Set(
    dry.items.filter((i: { kind: string }) => i.kind === 'blob').map((i: { digest: string }) => i.digest),
  );
  for (const digest of goneDigests) assert.ok(listed.has(digest), `dry run lists ${digest}`);
  for (const digest of [kept.config, ...kept.layers, kept.manifest].map((b) => b.digest)) {
    assert.equal(listed.has(digest), false, `dry run keeps ${digest}`);
  }
  assert.ok(dry.bytesFreed >= goneBytes);
  assert.equal(total(await storedBlobs(gantry.dataDir)), total(diskBefore), 'a dry run removes nothing');

  const run = await runGc(gantry.url, { graceSeconds: 0 });
  assert.equal(run.state, 'finished', JSON.stringify(run));
  assert.deepEqual(run.errors, []);
  assert.ok(run.blobsRemoved >= goneDigests.length);
  const diskAfter = await storedBlobs(gantry.dataDir);
  for (const digest of goneDigests) assert.equal(diskAfter.has(digest), false, `${digest} removed from disk`);
  assert.ok(total(diskBefore) - total(diskAfter) >= goneBytes, 'disk usage drops by the deleted layers');

  // What a tag reaches is intact.
  const manifest = await client.getManifest(kept.name, 'v1');
  assert.equal(manifest.status, 200);
  for (const blob of [kept.config, ...kept.layers]) {
    const res = await client.request('GET', `/v2/${kept.name}/blobs/${blob.digest}`);
    assert.equal(res.status, 200);
    assert.equal(`sha256:${createHash('sha256').update(res.body).digest('hex')}`, blob.digest);
  }
  const missing = await client.request('GET', `/v2/${gone.name}/blobs/${gone.layers[0]!.digest}`);
  expectOciError(missing, 404, 'BLOB_UNKNOWN');

  const runs = await callApi(gantry.url, 'GET', '/gc/runs', { auth: ADMIN_AUTH });
  assert.equal(runs.status, 200);
  const recorded = runs.body.runs.find((r: { id: string }) => r.id === run.id);
  for (const field of [
    'id',
    'state',
    'dryRun',
    'startedAt',
    'finishedAt',
    'blobsRemoved',
    'manifestsRemoved',
    'bytesFreed',
    'errors',
  ]) {
    assert.ok(field in recorded, field);
  }
  assert.equal(recorded.bytesFreed, run.bytesFreed);
});

test('a manifest whose blob gc removed meanwhile fails with MANIFEST_BLOB_UNKNOWN, and the retry succeeds', async () => {
  const name = uniqueName('gc-race');
  const config = makeConfig();
  const layer = makeBlob(50_000);
  for (const blob of [config, layer]) await client.pushBlob(name, blob);
  // Uploaded, no manifest yet: with no grace period the links are garbage.
  await runGc(gantry.url, { graceSeconds: 0 });
  const manifest = imageManifest({ config, layers: [layer] });
  const refused = await client.putManifest(name, 'v1', manifest);
  expectOciError(refused, 404, 'MANIFEST_BLOB_UNKNOWN');
  for (const blob of [config, layer]) await client.pushBlob(name, blob);
  await client.pushManifest(name, 'v1', manifest);
  const res = await client.request('GET', `/v2/${name}/blobs/${layer.digest}`);
  assert.equal(res.status, 200);
  assert.equal(Buffer.compare(res.body, layer.bytes), 0);
});

test('while a blob is tombstoned no upload, mount or manifest may name it: spec errors, never a 5xx', async () => {
  const name = uniqueName('gc-tombstone');
  const source = uniqueName('gc-tombstone-src');
  const config = makeConfig();
  const layer = makeBlob(20_000);
  const other = makeBlob(1_000);
  await client.pushBlob(source, layer);
  await client.pushBlob(name, other);
  const manifest = imageManifest({ config, layers: [other] });
  // The state between a run's tombstone commit and the file's deletion, written as the run does
  // (the server is another process on the same database file, as `gantry fsck` would be).
  const db = new BetterSqlite3(join(gantry.dataDir, 'gantry.db'));
  db.pragma('busy_timeout = 5000');
  const tombstone = db.prepare(
    "insert into gc_tombstones (digest, run_id, size, created_at) values (?, 'test', 0, '2024-01-01T00:00:00.000Z')",
  );
  try {
    tombstone.run(layer.digest);
    tombstone.run(config.digest);
    tombstone.run(manifest.digest);
    const location = await client.startUpload(name);
    const put = await client.request('PUT', client.uploadUrl(location, { digest: layer.digest }), {
      headers: { 'content-type': 'application/octet-stream' },
      body: layer.bytes,
    });
    expectOciError(put, 400, 'BLOB_UPLOAD_INVALID');
    const mount = await client.request(
      'POST',
      `/v2/${name}/blobs/uploads/?mount=${layer.digest}&from=${source}`,
    );
    assert.equal(mount.status, 202, 'a mount of a tombstoned blob falls back to an upload');
    const monolithic = await client.request('POST', `/v2/${name}/blobs/uploads/?digest=${config.digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: config.bytes,
    });
    expectOciError(monolithic, 400, 'BLOB_UPLOAD_INVALID');
    const refused = await client.putManifest(name, 'v1', manifest);
    assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status} ${refused.text()}`);
  } finally {
    db.prepare('delete from gc_tombstones').run();
    db.close();
  }
  await client.pushBlob(name, config);
  await client.pushManifest(name, 'v1', manifest);
});

test('with gc.untaggedManifests, manifests no tag, index or subject reaches go with their blobs', async () => {
  const created = await callApi(gantry.url, 'POST', '/repositories', {
    auth: ADMIN_AUTH,
    body: { key: 'gc-untagged-local', kind: 'local', settings: { gc: { untaggedManifests: true } } },
  });
  assert.equal(created.status, 201, created.text);
  const bad = await callApi(gantry.url, 'POST', '/repositories', {
    auth: ADMIN_AUTH,
    body: { key: 'gc-bad-local', kind: 'local', settings: { gc: { untaggedManifests: 'yes' } } },
  });
  assert.equal(bad.status, 400, bad.text);
  const name = uniqueName('app', 'gc-untagged-local');
  const replaced = await client.pushImage(name, 'v1', { layerSizes: [30_000] });
  const current = await client.pushImage(name, 'v1', { layerSizes: [30_000] }); // v1 moves on
  const child = await client.pushImage(name, 'child-tmp', { layerSizes: [1_000] });
  const index = indexManifest({ manifests: [descriptorOf(child.manifest)] });
  await client.pushManifest(name, 'multi', index);
  const untag = await client.request('DELETE', `/v2/${name}/manifests/child-tmp`);
  assert.equal(untag.status, 202);
  const sbomBlob = makeBlob(500);
  const sbomConfig = makeConfig();
  for (const blob of [sbomBlob, sbomConfig]) await client.pushBlob(name, blob);
  const referrer = imageManifest({
    config: sbomConfig,
    layers: [sbomBlob],
    subject: descriptorOf(current.manifest),
  });
  await client.pushManifest(name, referrer.digest, referrer);
  // The same shape in a repository without the setting keeps its untagged manifest.
  const other = uniqueName('app');
  const keptUntagged = await client.pushImage(other, 'v1', { layerSizes: [1_000] });
  await client.pushImage(other, 'v1', { layerSizes: [1_000] });

  const run = await runGc(gantry.url, { graceSeconds: 0 });
  assert.equal(run.state, 'finished', JSON.stringify(run));
  assert.ok(run.manifestsRemoved >= 1, JSON.stringify(run));
  expectOciError(await client.getManifest(name, replaced.manifest.digest), 404, 'MANIFEST_UNKNOWN');
  const disk = await storedBlobs(gantry.dataDir);
  assert.equal(disk.has(replaced.layers[0]!.digest), false, 'the replaced image layer is gone');
  for (const [what, digest] of [
    ['tagged', current.manifest.digest],
    ['index child', child.manifest.digest],
    ['referrer', referrer.digest],
  ] as const) {
    assert.equal((await client.getManifest(name, digest)).status, 200, `${what} kept`);
  }
  assert.equal(
    (await client.getManifest(other, keptUntagged.manifest.digest)).status,
    200,
    'no setting: kept',
  );
});

test('gc is for administrators, refuses bad input, and runs one at a time', async () => {
  const anonymous = await callApi(gantry.url, 'POST', '/gc', { body: {} });
  assert.equal(anonymous.status, 401);
  const anonymousList = await callApi(gantry.url, 'GET', '/gc/runs');
  assert.equal(anonymousList.status, 401);
  for (const body of [{ graceSeconds: -1 }, { graceSeconds: 'soon' }, { dryRun: 'yes' }, { force: true }]) {
    const reply = await callApi(gantry.url, 'POST', '/gc', { auth: ADMIN_AUTH, body });
    assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
    assert.match(reply.headers.get('content-type') ?? '', /problem\+json/);
  }
  const unknown = await callApi(gantry.url, 'GET', '/gc/runs/no-such-run', { auth: ADMIN_AUTH });
  assert.equal(unknown.status, 404);
  const audit = await callApi(gantry.url, 'GET', '/audit?action=gc.start', { auth: ADMIN_AUTH });
  assert.ok(audit.body.events.length > 0, 'starting a run is audited');
});
