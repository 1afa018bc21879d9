import { type GeneratedBlob, generateBlob, sha256 } from '../lib/blobgen.ts';
import { call, expectStatus, header, keepAliveAgent, type Target } from '../lib/client.ts';
import { MANIFEST_ACCEPT, ociManifest, pushMonolithic, pushSmall, putManifest } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Sample, type Scenario } from '../lib/scenario.ts';
import { startReference } from '../lib/servers.ts';
import { MiB, mbPerSecond } from '../lib/stats.ts';

// Scenario 9: a pull through a pull-through cache. A third registry (the reference) is the
// upstream both caches share. Gantry caches through a remote repository (`bench-remote`); the
// reference side is a second reference process started with `proxy.remoteurl` = upstream, and the
// CPU probe reads that process. Before each repetition a fresh image `bench/remote-<rep>` (config
// and two layers) is pushed upstream, untimed; then on each cache: cold miss = manifest by tag and
// both blobs of the never-pulled image, warm hit = the same pull again once the cache settled
// (SETTLE_MS later, untimed: a cache still committing the blobs it just streamed is not a warm
// hit, and both sides get the same pause). On Gantry the
// same bytes are then pushed into a local repository (after the remote pulls, so the blob store
// cannot already hold them for the cold miss) and pulled from there, untimed push, timed pull.

const LAYERS = 2;
const TAG = 'bench';
const REMOTE_KEY = 'bench-remote';
const layerMiB = (options: BenchOptions) => (options.quick ? 4 : 32);

interface UpstreamImage {
  /** `bench/remote-<rep>` */
  name: string;
  config: { body: Buffer; digest: string };
  layers: GeneratedBlob[];
  manifest: Buffer;
  manifestDigest: string;
  /** Manifest, config and layers: what one pull reads. */
  bytes: number;
}

function makeImage(rep: number, options: BenchOptions): UpstreamImage {
  const layers = Array.from({ length: LAYERS }, (_, i) =>
    generateBlob(9000 + rep * LAYERS + i, layerMiB(options) * MiB),
  );
  const configBody = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'gantry.bench': `remote-${rep}-${process.pid}-${Date.now()}` } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const config = { body: configBody, digest: sha256(configBody) };
  const manifest = ociManifest(
    { digest: config.digest, size: configBody.length },
    layers.map((l) => ({ digest: l.digest, size: l.size })),
  );
  const bytes = manifest.length + configBody.length + layers.reduce((sum, l) => sum + l.size, 0);
  return { name: `bench/remote-${rep}`, config, layers, manifest, manifestDigest: sha256(manifest), bytes };
}

async function pushImage(target: Target, name: string, image: UpstreamImage): Promise<void> {
  await pushSmall(target, name, image.config.body, image.config.digest);
  for (const layer of image.layers) await pushMonolithic(target, name, layer);
  const digest = await putManifest(target, name, TAG, image.manifest);
  if (digest && digest !== image.manifestDigest)
    throw new Error(`PUT manifest ${name}: digest ${digest}, want ${image.manifestDigest}`);
}

/** Manifest by tag, then config and layers, each fully read and checked; returns the bytes read. */
async function pullImage(target: Target, name: string, image: UpstreamImage): Promise<number> {
  const manifest = await call(target, `/v2/${name}/manifests/${TAG}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  expectStatus(manifest, 200, `GET manifest ${name}:${TAG}`);
  if (sha256(manifest.body) !== image.manifestDigest)
    throw new Error(`GET manifest ${name}:${TAG}: body is not ${image.manifestDigest}`);
  const served = header(manifest, 'docker-content-digest');
  if (served && served !== image.manifestDigest)
    throw new Error(
      `GET manifest ${name}:${TAG}: Docker-Content-Digest ${served}, want ${image.manifestDigest}`,
    );
  let bytes = manifest.body.length;
  const blobs = [{ digest: image.config.digest, size: image.config.body.length }, ...image.layers];
  for (const blob of blobs) {
    const reply = await call(target, `/v2/${name}/blobs/${blob.digest}`, { discard: true });
    expectStatus(reply, 200, `GET blob ${name}@${blob.digest.slice(0, 19)}`);
    if (reply.bytes !== blob.size)
      throw new Error(`GET blob ${name}@${blob.digest.slice(0, 19)}: ${reply.bytes} of ${blob.size} bytes`);
    bytes += reply.bytes;
  }
  return bytes;
}

async function timedPull(target: Target, name: string, image: UpstreamImage): Promise<Sample> {
  const { ms, cpuMs, result } = await measured(target, () => pullImage(target, name, image));
  return { value: mbPerSecond(result, ms), ops: 1, cpuMs };
}

// Shared by both sides for one run of the scenario; `teardown` stops it.
let upstream: Promise<{ target: Target; stop(): Promise<void> }> | undefined;
const images = new Map<number, Promise<UpstreamImage>>();

function startUpstream() {
  upstream ??= startReference().then((server) => ({
    target: { label: 'upstream', url: server.url, pid: server.pid, agent: keepAliveAgent(8) },
    stop: () => server.stop(),
  }));
  return upstream;
}

/** The image of repetition `rep`, pushed upstream by whichever side gets to that rep first. */
function upstreamImage(rep: number, options: BenchOptions): Promise<UpstreamImage> {
  let image = images.get(rep);
  if (!image) {
    image = (async () => {
      const { target } = await startUpstream();
      const made = makeImage(rep, options);
      await pushImage(target, made.name, made);
      return made;
    })();
    images.set(rep, image);
  }
  return image;
}

/** Gantry: a remote repository in front of upstream; names are `bench-remote/<upstream name>`. */
async function prepareGantry(target: Target, options: BenchOptions, upstreamUrl: string) {
  const body = JSON.stringify({
    key: REMOTE_KEY,
    kind: 'remote',
    settings: { url: upstreamUrl, ttlSeconds: 300 },
  });
  const reply = await call(target, '/api/v1/repositories', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    body,
  });
  if (reply.status !== 200) expectStatus(reply, 201, `POST /api/v1/repositories ${REMOTE_KEY}`);
  return {
    async measure(rep: number): Promise<Record<string, Sample>> {
      const image = await upstreamImage(rep, options);
      const name = `${REMOTE_KEY}/${image.name}`;
      const cold = await timedPull(target, name, image);
      await settle();
      const warm = await timedPull(target, name, image);
      const local = imageName(`bench-remote-local-${rep}`);
      await pushImage(target, local, image);
      const direct = await timedPull(target, local, image);
      return { 'remote-cold': cold, 'remote-warm': warm, 'remote-local': direct };
    },
  };
}

const SETTLE_MS = 3000;
const settle = () => new Promise((done) => setTimeout(done, SETTLE_MS));

/** The reference: a second process configured as a pull-through cache of upstream, same names. */
async function prepareReference(target: Target, options: BenchOptions, upstreamUrl: string) {
  const proxy = await startReference({ proxyRemoteUrl: upstreamUrl });
  const cache: Target = { label: target.label, url: proxy.url, pid: proxy.pid, agent: keepAliveAgent(8) };
  return {
    async measure(rep: number): Promise<Record<string, Sample>> {
      const image = await upstreamImage(rep, options);
      const cold = await timedPull(cache, image.name, image);
      await settle();
      const warm = await timedPull(cache, image.name, image);
      return { 'remote-cold': cold, 'remote-warm': warm };
    },
    async close() {
      cache.agent.destroy();
      await proxy.stop();
    },
  };
}

const pullLabel = (options: BenchOptions) =>
  `manifest + config + ${LAYERS} × ${layerMiB(options)} MiB layers`;

export const remote: Scenario = {
  name: 'remote',
  reps: (options) => (options.quick ? 1 : 3),
  rows: (options) => [
    {
      key: 'remote-cold',
      label: `Pull-through cache, cold miss: ${pullLabel(options)}`,
      unit: 'MB/s',
      higherIsBetter: true,
      op: 'pull',
    },
    {
      key: 'remote-warm',
      label: `Pull-through cache, warm hit: the same pull again, 3 s later`,
      unit: 'MB/s',
      higherIsBetter: true,
      op: 'pull',
    },
    {
      key: 'remote-warm-vs-local',
      label:
        'Gantry alone: local pull of the same bytes (in the reference column) vs warm hit; ratio = warm/local',
      unit: 'MB/s',
      higherIsBetter: true,
      op: 'pull',
      judgedSideOnly: { first: 'remote-local', second: 'remote-warm' },
    },
  ],
  async prepare(target, options) {
    const { target: up } = await startUpstream();
    return target.label === 'gantry'
      ? prepareGantry(target, options, up.url)
      : prepareReference(target, options, up.url);
  },
  async teardown() {
    const running = upstream;
    upstream = undefined;
    images.clear();
    if (!running) return;
    const { target, stop } = await running;
    target.agent.destroy();
    await stop();
  },
};
