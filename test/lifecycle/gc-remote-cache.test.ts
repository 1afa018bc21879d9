/**
 * The cache policy of remote repositories, applied by garbage collection, against a running
 * Gantry in front of a real reference registry: an image not pulled for longer than maxAgeDays
 * is evicted and its bytes leave the disk while a recently pulled one stays, and a new pull
 * fetches the evicted image again; an image whose layer is still being fetched from a slow
 * upstream is not evicted (even with maxBytes 0) until the transfer has finished.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FakeServer, startFakeServer } from '../remote/fake-server.ts';
import { createRepository } from '../remote/pull-through-support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { digestOf, expectBytes, expectStatus, type PushedImage, RegistryClient } from '../support/http.ts';
import { type RunningReferenceRegistry, startReferenceRegistry } from '../support/reference-registry.ts';
import { ADMIN_AUTH, runGc, storedBlobs } from './gc-support.ts';

/** The age limit of the test remote: 3 seconds, in days. */
const MAX_AGE_DAYS = 3 / 86_400;
const PAST_MAX_AGE_MS = 3_500;

let gantry: RunningGantry;
let hub: RunningReferenceRegistry;
let slow: FakeServer;
let client: RegistryClient;
let upstream: RegistryClient;
/** Blob GETs of this digest stall at half the body until `release` is called. */
let stalled: { digest: string; release: () => void; released: Promise<void> } | undefined;

before(async () => {
  [gantry, hub] = await Promise.all([
    startGantry({ env: { GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' } }),
    startReferenceRegistry(),
  ]);
  // A proxy in front of the reference registry that can hold one blob download in the middle.
  slow = await startFakeServer((req, res) => {
    void (async () => {
      const answer = await fetch(`${hub.url}${req.url}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host',
          ),
        ),
        redirect: 'follow',
      });
      const headers: Record<string, string> = {};
      answer.headers.forEach((value, key) => {
        if (key !== 'content-encoding' && key !== 'transfer-encoding') headers[key] = value;
      });
      const body = Buffer.from(await answer.arrayBuffer());
      const hold = stalled && req.url?.endsWith(`/blobs/${stalled.digest}`) ? stalled : undefined;
      res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
      if (!hold || req.method === 'HEAD') {
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      res.write(body.subarray(0, body.length >> 1));
      await hold.released;
      await pipeline(Readable.from([body.subarray(body.length >> 1)]), res);
    })().catch(() => res.destroy());
  });
  client = new RegistryClient(gantry.url);
  upstream = new RegistryClient(hub.url);
});

after(async () => {
  stalled?.release();
  await Promise.all([gantry?.stop(), hub?.stop(), slow?.close()]);
});

/** Pulls the image through Gantry (manifest by tag, then every blob) and checks the bytes. */
async function pull(name: string, image: PushedImage): Promise<void> {
  const m = await client.getManifest(name, image.tag);
  expectStatus(m, 200, `GET /v2/${name}/manifests/${image.tag}`);
  assert.equal(digestOf(m.body), image.manifest.digest);
  for (const blob of [image.config, ...image.layers]) {
    const b = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
    expectStatus(b, 200, `GET /v2/${name}/blobs/${blob.digest}`);
    expectBytes(b.body, blob.bytes, `blob ${blob.digest}`);
  }
}

function digests(image: PushedImage): string[] {
  return [image.manifest.digest, image.config.digest, ...image.layers.map((l) => l.digest)];
}

test('an image not pulled for maxAgeDays is evicted, its bytes freed, and a new pull fetches it again', async () => {
  await createRepository(
    gantry.url,
    {
      key: 'aged-cache',
      kind: 'remote',
      settings: { url: hub.url, ttlSeconds: 0, cache: { maxAgeDays: MAX_AGE_DAYS } },
    },
    { authorization: ADMIN_AUTH },
  );
  const suffix = randomBytes(4).toString('hex');
  const old = await upstream.pushImage(`old-${suffix}`, '1', { layerSizes: [200_000] });
  const fresh = await upstream.pushImage(`fresh-${suffix}`, '1', { layerSizes: [100_000] });
  await pull(`aged-cache/old-${suffix}`, old);
  await sleep(PAST_MAX_AGE_MS);
  await pull(`aged-cache/fresh-${suffix}`, fresh);

  const dry = await runGc(gantry.url, { dryRun: true, graceSeconds: 0 });
  assert.ok(
    dry.items.some(
      (i: { kind: string; digest: string }) => i.kind === 'manifest' && i.digest === old.manifest.digest,
    ),
    `the dry run lists the old image: ${JSON.stringify(dry.items)}`,
  );
  assert.ok(
    !dry.items.some((i: { digest: string }) => i.digest === fresh.manifest.digest),
    'the dry run keeps the fresh image',
  );

  const run = await runGc(gantry.url, { graceSeconds: 0 });
  assert.equal(run.state, 'finished', JSON.stringify(run));
  assert.ok(run.manifestsRemoved >= 1, JSON.stringify(run));
  const onDisk = await storedBlobs(gantry.dataDir);
  for (const digest of digests(old))
    assert.ok(!onDisk.has(digest), `${digest} of the evicted image is still on disk`);
  for (const digest of digests(fresh)) assert.ok(onDisk.has(digest), `${digest} of the fresh image is gone`);

  // The tag went with the manifest; a pull asks upstream again and caches the image anew.
  // (A client's download ends a moment before the fetched file is renamed into the store.)
  await pull(`aged-cache/old-${suffix}`, old);
  const until = Date.now() + 10_000;
  let missing = digests(old);
  while (missing.length > 0 && Date.now() < until) {
    const again = await storedBlobs(gantry.dataDir);
    missing = missing.filter((d) => !again.has(d));
    if (missing.length > 0) await sleep(50);
  }
  assert.deepEqual(missing, [], 'not fetched again');
});

test('an image whose layer is still being fetched is not evicted, even with maxBytes 0', async () => {
  await createRepository(
    gantry.url,
    {
      key: 'slow-cache',
      kind: 'remote',
      settings: { url: slow.url, ttlSeconds: 300, cache: { maxBytes: 0 } },
    },
    { authorization: ADMIN_AUTH },
  );
  const name = `inflight-${randomBytes(4).toString('hex')}`;
  const image = await upstream.pushImage(name, '1', { layerSizes: [300_000] });
  const layer = image.layers[0];
  assert.ok(layer);
  let release = () => {};
  const released = new Promise<void>((done) => {
    release = done;
  });
  stalled = { digest: layer.digest, release, released };

  const m = await client.getManifest(`slow-cache/${name}`, '1');
  expectStatus(m, 200, 'manifest through the slow upstream');
  const download = client.request('GET', `/v2/slow-cache/${name}/blobs/${layer.digest}`);
  while (!slow.requests.some((r) => r.method === 'GET' && r.url.endsWith(`/blobs/${layer.digest}`)))
    await sleep(20);

  const during = await runGc(gantry.url, { graceSeconds: 0 });
  assert.equal(during.state, 'finished', JSON.stringify(during));
  release();
  const b = await download;
  expectStatus(b, 200, 'the layer download that GC ran during');
  expectBytes(b.body, layer.bytes, 'layer bytes');

  // Still cached: by digest it is served without asking upstream for the manifest again.
  const manifestAsks = () => slow.requests.filter((r) => r.url.includes(`/manifests/`)).length;
  const asked = manifestAsks();
  const byDigest = await client.getManifest(`slow-cache/${name}`, image.manifest.digest);
  expectStatus(byDigest, 200, 'the manifest after GC');
  assert.equal(manifestAsks(), asked, 'the manifest was evicted during the transfer and fetched again');

  // With the transfer over, the policy applies: everything of the image leaves the disk. A range
  // read waits until the fetched blob is stored and linked; the link must predate the run.
  stalled = undefined;
  const ranged = await client.request('GET', `/v2/slow-cache/${name}/blobs/${layer.digest}`, {
    headers: { range: 'bytes=0-0' },
  });
  expectStatus(ranged, 206, 'a range read of the fetched layer');
  await sleep(5);
  // With the default grace period the eviction still takes the links (they are not uploads
  // awaiting a manifest), the young files wait; a run without grace then frees them.
  const evicting = await runGc(gantry.url, { graceSeconds: 3600 });
  assert.ok(evicting.manifestsRemoved >= 1, JSON.stringify(evicting));
  assert.ok(evicting.linksRemoved >= 1, JSON.stringify(evicting));
  await runGc(gantry.url, { graceSeconds: 0 });
  const onDisk = await storedBlobs(gantry.dataDir);
  assert.ok(!onDisk.has(layer.digest), 'the layer stayed on disk after its eviction');
  assert.ok(!onDisk.has(image.manifest.digest), 'the manifest stayed on disk after its eviction');
});

test('bad cache settings are refused with a 400 saying what is wrong', async () => {
  const res = await fetch(`${gantry.url}/api/v1/repositories`, {
    method: 'POST',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({
      key: 'bad-cache',
      kind: 'remote',
      settings: { url: hub.url, cache: { maxAgeDays: -1, size: 3 } },
    }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { detail: string };
  assert.match(body.detail, /maxAgeDays/);
  assert.match(body.detail, /cache\.size/);
});
