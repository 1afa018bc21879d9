/**
 * Crash consistency: concurrent pushes, SIGKILL at a random moment, restart on the same data
 * directory, and check that everything acknowledged is intact and nothing half-written is
 * visible (the reference registry leaves phantom tags and empty link files here).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  ACCEPT_ALL_MANIFESTS,
  digestOf,
  imageManifest,
  makeBlob,
  makeConfig,
  nextLink,
  RegistryClient,
  type Reply,
  type TestBlob,
} from '../support/http.ts';
import { needsOwnProcess } from './target.ts';

const LOOPS = 16;
const CYCLES = 3;
const MiB = 1024 * 1024;

interface SentBlob {
  name: string;
  digest: string;
  size: number;
}

interface ManifestPush {
  name: string;
  tag: string;
  digest: string;
  blobs: SentBlob[];
}

/** What the pushers sent and what the server acknowledged, across all cycles. */
class Ledger {
  readonly blobs: SentBlob[] = [];
  /** Manifests PUT by tag and answered 201. */
  readonly acked: ManifestPush[] = [];
  /** Every manifest digest ever PUT, acknowledged or not. */
  readonly attempted = new Map<string, ManifestPush>();
  /** Per name: digests PUT as `latest` in order, and how many of them were acknowledged in a row. */
  readonly latest = new Map<string, { sent: string[]; ackedUpTo: number }>();
  /** Non-2xx answers received while the server was still alive. */
  readonly unexpected: string[] = [];
}

let gantry: RunningGantry | undefined;
after(async () => {
  if (!gantry) return;
  await gantry.stop();
  await rm(gantry.dataDir, { recursive: true, force: true });
});

test('acknowledged pushes survive SIGKILL, nothing half-written becomes visible', {
  skip: needsOwnProcess,
  timeout: 600_000,
}, async (t) => {
  const ledger = new Ledger();
  gantry = await startGantry();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const client = new RegistryClient(gantry.url);
    const state = { killing: false };
    const loops = Array.from({ length: LOOPS }, (_, i) => pushLoop(client, ledger, state, i, cycle));
    await killMoment(ledger, ledger.acked.length + LOOPS / 2);
    state.killing = true;
    await gantry.kill();
    await Promise.all(loops);
    gantry = await startGantry({ dataDir: gantry.dataDir });
    assert.deepEqual(ledger.unexpected, [], 'the live server refused pushes');
    assert.ok(ledger.acked.length > cycle, `cycle ${cycle}: no push was acknowledged before the kill`);
    await verify(new RegistryClient(gantry.url), ledger, cycle);
    t.diagnostic(
      `cycle ${cycle + 1}: ${ledger.acked.length} manifests acknowledged, ` +
        `${ledger.attempted.size} attempted, ${ledger.blobs.length} blobs sent, all checked`,
    );
  }
});

/**
 * Waits at least 2 s and until `acked` pushes were acknowledged (on 2 cores a round of 16
 * concurrent pushes takes about 3 s), then a random 0-1.5 s more so the kill lands anywhere.
 */
async function killMoment(ledger: Ledger, acked: number): Promise<void> {
  const started = Date.now();
  await sleep(2000);
  while (ledger.acked.length < acked && ledger.unexpected.length === 0) {
    assert.ok(Date.now() - started < 60_000, `only ${ledger.acked.length} pushes acknowledged in 60 s`);
    await sleep(50);
  }
  await sleep(Math.random() * 1500);
}

/** One client pushing images to its own name until the server dies. */
async function pushLoop(
  client: RegistryClient,
  ledger: Ledger,
  state: { killing: boolean },
  loop: number,
  cycle: number,
): Promise<void> {
  const name = `docker-dev-local/crash/l${loop}`;
  for (let i = 0; !state.killing; i++) {
    try {
      await pushOnce(client, ledger, name, `c${cycle}-${i}`);
    } catch (e) {
      // Once the kill started, connection errors are the point of the test.
      if (!state.killing) ledger.unexpected.push(`${name}: ${(e as Error).message}`);
      return;
    }
  }
}

async function pushOnce(client: RegistryClient, ledger: Ledger, name: string, tag: string): Promise<void> {
  const layer = makeBlob(MiB + Math.floor(Math.random() * 3 * MiB));
  const config = makeConfig();
  const blobs = [layer, config].map((b) => ({ name, digest: b.digest, size: b.bytes.length }));
  ledger.blobs.push(...blobs);
  await uploadInTwoChunks(client, name, layer);
  const session = await must(client.request('POST', `/v2/${name}/blobs/uploads/`), 202, 'POST upload');
  const location = client.uploadUrl(session.headers.get('location') ?? '', { digest: config.digest });
  await must(client.request('PUT', location, { body: config.bytes }), 201, 'PUT config');
  const manifest = imageManifest({ config, layers: [layer] });
  const push: ManifestPush = { name, tag, digest: manifest.digest, blobs };
  ledger.attempted.set(manifest.digest, push);
  await must(client.putManifest(name, tag, manifest), 201, `PUT manifest ${tag}`);
  ledger.acked.push(push);
  const latest = ledger.latest.get(name) ?? { sent: [], ackedUpTo: 0 };
  ledger.latest.set(name, latest);
  latest.sent.push(manifest.digest);
  await must(client.putManifest(name, 'latest', manifest), 201, 'PUT manifest latest');
  latest.ackedUpTo = latest.sent.length;
}

async function uploadInTwoChunks(client: RegistryClient, name: string, blob: TestBlob): Promise<void> {
  const start = await must(client.request('POST', `/v2/${name}/blobs/uploads/`), 202, 'POST upload');
  let location = start.headers.get('location') ?? '';
  const half = Math.floor(blob.bytes.length / 2);
  for (const [from, to] of [
    [0, half],
    [half, blob.bytes.length],
  ] as const) {
    const res = await must(
      client.request('PATCH', client.uploadUrl(location), {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
        body: blob.bytes.subarray(from, to),
      }),
      202,
      'PATCH',
    );
    location = res.headers.get('location') ?? location;
  }
  await must(client.request('PUT', client.uploadUrl(location, { digest: blob.digest })), 201, 'PUT upload');
}

async function must(pending: Promise<Reply>, status: number, what: string): Promise<Reply> {
  const res = await pending;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text()}`);
  return res;
}

// ---------------------------------------------------------------------------------------------

async function verify(client: RegistryClient, ledger: Ledger, cycle: number): Promise<void> {
  const where = `after crash ${cycle + 1}`;
  for (const push of ledger.acked) await verifyAcked(client, push, where);
  const names = new Set(ledger.blobs.map((b) => b.name));
  for (const name of names) await verifyTags(client, ledger, name, where);
  await verifyCatalog(client, ledger, where);
  for (const blob of ledger.blobs) await verifyBlobIfPresent(client, blob, where);
  for (const push of ledger.attempted.values()) await verifyManifestIfPresent(client, push, where);
}

async function verifyAcked(client: RegistryClient, push: ManifestPush, where: string): Promise<void> {
  const res = await client.getManifest(push.name, push.tag);
  assert.equal(
    res.status,
    200,
    `${where}: acknowledged ${push.name}:${push.tag} is ${res.status} ${res.text()}`,
  );
  assert.equal(res.headers.get('docker-content-digest'), push.digest, `${where}: ${push.name}:${push.tag}`);
  assert.equal(digestOf(res.body), push.digest, `${where}: bytes of ${push.name}:${push.tag}`);
  for (const blob of push.blobs) {
    const b = await client.request('GET', `/v2/${blob.name}/blobs/${blob.digest}`);
    assert.equal(b.status, 200, `${where}: blob ${blob.digest} of acknowledged ${push.tag} is ${b.status}`);
    assert.equal(digestOf(b.body), blob.digest, `${where}: bytes of blob ${blob.digest}`);
  }
}

/** Every listed tag resolves (no phantom tags); acknowledged tags are listed; `latest` is sane. */
async function verifyTags(
  client: RegistryClient,
  ledger: Ledger,
  name: string,
  where: string,
): Promise<void> {
  const res = await client.tags(name);
  const ackedHere = ledger.acked.filter((p) => p.name === name);
  if (ackedHere.length === 0 && res.status === 404) return;
  assert.equal(res.status, 200, `${where}: tags/list of ${name} is ${res.status} ${res.text()}`);
  const tags = res.json<{ tags: string[] | null }>().tags ?? [];
  for (const push of ackedHere) assert.ok(tags.includes(push.tag), `${where}: ${name} lost tag ${push.tag}`);
  for (const tag of tags) {
    const m = await client.request('HEAD', `/v2/${name}/manifests/${tag}`, {
      headers: { accept: ACCEPT_ALL_MANIFESTS },
    });
    assert.equal(m.status, 200, `${where}: phantom tag ${name}:${tag} (listed, HEAD ${m.status})`);
  }
  const latest = ledger.latest.get(name);
  if (!latest || !tags.includes('latest')) {
    assert.ok(!latest || latest.ackedUpTo === 0, `${where}: acknowledged ${name}:latest is gone`);
    return;
  }
  const got = (await client.getManifest(name, 'latest')).headers.get('docker-content-digest') ?? '';
  const allowed = latest.sent.slice(Math.max(0, latest.ackedUpTo - 1));
  assert.ok(
    allowed.includes(got),
    `${where}: ${name}:latest is ${got}, not the last acknowledged one or a later attempt`,
  );
}

async function verifyCatalog(client: RegistryClient, ledger: Ledger, where: string): Promise<void> {
  const listed: string[] = [];
  let path: string | undefined = '/v2/_catalog?n=50';
  while (path) {
    const res = await client.request('GET', path);
    assert.equal(res.status, 200, `${where}: GET ${path} is ${res.status}`);
    listed.push(...(res.json<{ repositories: string[] | null }>().repositories ?? []));
    path = nextLink(res);
  }
  for (const name of listed) {
    const res = await client.tags(name);
    assert.equal(res.status, 200, `${where}: catalog lists ${name} but its tags/list is ${res.status}`);
  }
  for (const push of ledger.acked) {
    assert.ok(listed.includes(push.name), `${where}: catalog lacks ${push.name}`);
  }
}

/** A blob sent but maybe never acknowledged: absent, or exactly its bytes. */
async function verifyBlobIfPresent(client: RegistryClient, blob: SentBlob, where: string): Promise<void> {
  const res = await client.request('GET', `/v2/${blob.name}/blobs/${blob.digest}`);
  if (res.status === 404) return;
  assert.equal(res.status, 200, `${where}: blob ${blob.digest} answers ${res.status} ${res.text()}`);
  assert.equal(res.body.length, blob.size, `${where}: blob ${blob.digest} has ${res.body.length} bytes`);
  assert.equal(digestOf(res.body), blob.digest, `${where}: blob ${blob.digest} holds other bytes`);
}

async function verifyManifestIfPresent(
  client: RegistryClient,
  push: ManifestPush,
  where: string,
): Promise<void> {
  const res = await client.getManifest(push.name, push.digest);
  if (res.status === 404) return;
  assert.equal(res.status, 200, `${where}: manifest ${push.digest} answers ${res.status} ${res.text()}`);
  assert.equal(digestOf(res.body), push.digest, `${where}: manifest ${push.digest} holds other bytes`);
  for (const blob of push.blobs) {
    const b = await client.request('HEAD', `/v2/${blob.name}/blobs/${blob.digest}`);
    assert.equal(
      b.status,
      200,
      `${where}: manifest ${push.digest} is served but its blob ${blob.digest} is ${b.status}`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
