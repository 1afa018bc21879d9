/**
 * GC soak: 20 clients push (uploading, or mounting shared layers from each other), pull, retag
 * and delete while garbage collection runs every two seconds with no grace period, the worst
 * case for races. A client retries a push the registry refused with a spec error
 * (MANIFEST_BLOB_UNKNOWN, BLOB_UPLOAD_INVALID): that is the contract. At the end every
 * acknowledged tag is pullable, every blob hashes right, no 5xx was seen, and after a last run
 * the store holds exactly what the remaining manifests reference.
 *
 * GANTRY_SOAK_SECONDS sets how long the load runs (default 30).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { callApi } from '../api/support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  imageManifest,
  makeBlob,
  makeConfig,
  RegistryClient,
  type Reply,
  type TestBlob,
  type TestManifest,
  uniqueName,
} from '../support/http.ts';
import { ADMIN_AUTH, storedBlobs, waitForRun } from './gc-support.ts';

const CLIENTS = 20;
const SECONDS = Number(process.env.GANTRY_SOAK_SECONDS ?? 30);
const PUSH_ATTEMPTS = 20;

interface Acknowledged {
  manifest: TestManifest;
  blobs: TestBlob[];
}

interface Tally {
  requests: number;
  serverErrors: string[];
  unexpected: string[];
  pushes: number;
  retries: number;
  deletes: number;
  pulls: number;
}

let gantry: RunningGantry;
let client: RegistryClient;
const tally: Tally = {
  requests: 0,
  serverErrors: [],
  unexpected: [],
  pushes: 0,
  retries: 0,
  deletes: 0,
  pulls: 0,
};
/** Shared layers every client may reuse, so blobs are linked by many names at once. */
const shared = Array.from({ length: 8 }, () => makeBlob(8_000 + Math.floor(Math.random() * 8_000)));

before(async () => {
  gantry = await startGantry({
    env: { GANTRY_GC_SCHEDULE: '*/2 * * * * *', GANTRY_GC_GRACE_HOURS: '0' },
  });
  client = new RegistryClient(gantry.url);
});
after(() => gantry.stop());

async function call(method: string, path: string, options: Parameters<RegistryClient['request']>[2] = {}) {
  const res = await client.request(method, path, options);
  tally.requests++;
  if (res.status >= 500)
    tally.serverErrors.push(`${method} ${path}: ${res.status} ${res.text().slice(0, 200)}`);
  return res;
}

function code(res: Reply): string | undefined {
  try {
    return (JSON.parse(res.text()) as { errors?: { code: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Upload (or mount) each blob; false when the registry refused with a retryable spec error. */
async function sendBlobs(
  name: string,
  blobs: TestBlob[],
  others: string[],
  skipHead: boolean,
): Promise<boolean> {
  for (const blob of blobs) {
    if (!skipHead) {
      const head = await call('HEAD', `/v2/${name}/blobs/${blob.digest}`);
      if (head.status === 200) continue;
    }
    const from = others[Math.floor(Math.random() * others.length)];
    const post = await call('POST', `/v2/${name}/blobs/uploads/?mount=${blob.digest}&from=${from}`);
    if (post.status === 201) continue;
    if (post.status !== 202) {
      tally.unexpected.push(`mount/POST ${post.status} ${post.text().slice(0, 200)}`);
      return false;
    }
    const location = new URL(post.headers.get('location') ?? '', gantry.url);
    location.searchParams.set('digest', blob.digest);
    const put = await call('PUT', location.href, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    if (put.status === 201) continue;
    if (put.status === 400 && code(put) === 'BLOB_UPLOAD_INVALID') return false;
    tally.unexpected.push(`PUT upload ${put.status} ${put.text().slice(0, 200)}`);
    return false;
  }
  return true;
}

async function push(name: string, tag: string, others: string[]): Promise<Acknowledged | undefined> {
  const config = makeConfig();
  const layers = [makeBlob(1_000 + Math.floor(Math.random() * 30_000))];
  if (Math.random() < 0.6) layers.push(shared[Math.floor(Math.random() * shared.length)]!);
  const manifest = imageManifest({ config, layers });
  const blobs = [config, ...layers];
  for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
    if (attempt > 1) tally.retries++;
    if (!(await sendBlobs(name, blobs, others, attempt > 1))) continue;
    const res = await call('PUT', `/v2/${name}/manifests/${tag}`, {
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
    if (res.status === 201) {
      tally.pushes++;
      return { manifest, blobs };
    }
    if (res.status === 404 && code(res) === 'MANIFEST_BLOB_UNKNOWN') continue;
    if (res.status === 400 && code(res) === 'BLOB_UPLOAD_INVALID') continue;
    tally.unexpected.push(`PUT manifest ${res.status} ${res.text().slice(0, 200)}`);
    return undefined;
  }
  tally.unexpected.push(`push of ${name}:${tag} refused ${PUSH_ATTEMPTS} times`);
  return undefined;
}

async function pullAndCheck(name: string, tag: string, image: Acknowledged, where: string): Promise<void> {
  const res = await call('GET', `/v2/${name}/manifests/${tag}`, {
    headers: { accept: image.manifest.mediaType },
  });
  if (res.status !== 200 || res.headers.get('docker-content-digest') !== image.manifest.digest) {
    tally.unexpected.push(`${where}: GET ${name}:${tag} ${res.status} ${res.text().slice(0, 200)}`);
    return;
  }
  for (const blob of image.blobs) {
    const b = await call('GET', `/v2/${name}/blobs/${blob.digest}`);
    const hash = `sha256:${createHash('sha256').update(b.body).digest('hex')}`;
    if (b.status !== 200 || hash !== blob.digest) {
      tally.unexpected.push(
        `${where}: blob ${blob.digest} of ${name}:${tag}: ${b.status}, hashes to ${hash}`,
      );
    }
  }
}

/** One client's loop over its own name; returns the tags it still holds. */
async function worker(name: string, others: string[], until: number): Promise<Map<string, Acknowledged>> {
  const tags = new Map<string, Acknowledged>();
  let n = 0;
  while (Date.now() < until) {
    const roll = Math.random();
    const held = [...tags.entries()];
    const pick = held[Math.floor(Math.random() * held.length)];
    if (roll < 0.4 || !pick) {
      const tag = `t${n++}`;
      const image = await push(name, tag, others);
      if (image) tags.set(tag, image);
    } else if (roll < 0.55) {
      const tag = `r${n++}-${randomBytes(2).toString('hex')}`;
      const res = await call('PUT', `/v2/${name}/manifests/${tag}`, {
        headers: { 'content-type': pick[1].manifest.mediaType },
        body: pick[1].manifest.bytes,
      });
      if (res.status === 201) tags.set(tag, pick[1]);
      else tally.unexpected.push(`retag ${res.status} ${res.text().slice(0, 200)}`);
    } else if (roll < 0.75) {
      const digest = pick[1].manifest.digest;
      const res = await call('DELETE', `/v2/${name}/manifests/${digest}`);
      if (res.status !== 202) tally.unexpected.push(`DELETE ${res.status} ${res.text().slice(0, 200)}`);
      for (const [tag, image] of held) if (image.manifest.digest === digest) tags.delete(tag);
      tally.deletes++;
    } else {
      await pullAndCheck(name, pick[0], pick[1], 'during load');
      tally.pulls++;
    }
  }
  return tags;
}

test(`gc soak: ${CLIENTS} clients for ${SECONDS}s while gc runs every 2s with no grace`, async () => {
  const names = Array.from({ length: CLIENTS }, (_, i) => uniqueName(`soak${i}`));
  const until = Date.now() + SECONDS * 1000;
  const held = await Promise.all(
    names.map((name) =>
      worker(
        name,
        names.filter((n) => n !== name),
        until,
      ),
    ),
  );

  assert.deepEqual(tally.serverErrors, [], 'no 5xx');
  assert.deepEqual(tally.unexpected, [], 'only retryable spec errors');
  for (const [i, tags] of held.entries()) {
    for (const [tag, image] of tags) await pullAndCheck(names[i]!, tag, image, 'after load');
  }
  assert.deepEqual(tally.unexpected, [], 'every acknowledged tag pullable, every blob hashes right');

  // A last run once the scheduled one (if any) is done: nothing unreferenced is left.
  let last: { status: number; body: { run: { id: string } } };
  for (;;) {
    last = await callApi(gantry.url, 'POST', '/gc', { auth: ADMIN_AUTH, body: { graceSeconds: 0 } });
    if (last.status === 202) break;
    assert.equal(last.status, 409, JSON.stringify(last.body));
    await new Promise((r) => setTimeout(r, 200));
  }
  const run = await waitForRun(gantry.url, last.body.run.id);
  assert.equal(run.state, 'finished', JSON.stringify(run));
  const expected = new Set<string>();
  for (const tags of held) {
    for (const image of tags.values()) {
      expected.add(image.manifest.digest);
      for (const blob of image.blobs) expected.add(blob.digest);
    }
  }
  const stored = new Set((await storedBlobs(gantry.dataDir)).keys());
  assert.deepEqual(
    [...stored].filter((d) => !expected.has(d)),
    [],
    'everything unreferenced is gone',
  );
  assert.deepEqual(
    [...expected].filter((d) => !stored.has(d)),
    [],
    'everything referenced is stored',
  );

  const runs = await callApi(gantry.url, 'GET', '/gc/runs', { auth: ADMIN_AUTH });
  const scheduled = runs.body.runs.filter((r: { trigger: string }) => r.trigger === 'schedule');
  assert.ok(scheduled.length >= Math.min(3, SECONDS / 4), `gc ran during the load: ${scheduled.length} runs`);
  assert.deepEqual(
    runs.body.runs.filter((r: { state: string }) => r.state === 'failed'),
    [],
    'no run failed',
  );
  const removed = scheduled.reduce((n: number, r: { blobsRemoved: number }) => n + r.blobsRemoved, 0);
  process.stderr.write(
    `soak: ${tally.requests} requests, ${tally.pushes} pushes (${tally.retries} retried), ` +
      `${tally.deletes} deletes, ${tally.pulls} pulls, ${scheduled.length} gc runs removed ${removed} blobs\n`,
  );
  assert.ok(removed > 0, 'the runs during the load removed something');
});
