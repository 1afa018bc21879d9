import { performance } from 'node:perf_hooks';

import { type GeneratedBlob, generateBlob, sha256 } from '../lib/blobgen.ts';
import { call, expectStatus, header, type Target } from '../lib/client.ts';
import { startCpuProbe } from '../lib/proc.ts';
import { MANIFEST_ACCEPT, ociManifest, pushMonolithic, pushSmall, putManifest } from '../lib/registry.ts';
import {
  type BenchOptions,
  imageName,
  type Prepared,
  type RowSpec,
  type Sample,
  type Scenario,
} from '../lib/scenario.ts';
import { adminPostJson } from '../lib/servers.ts';
import { MiB, median } from '../lib/stats.ts';

// Scenario 11: promotion of an image that is already in the registry into another repository.
// Three images are pushed once (untimed) to `docker-dev-local/bench-promo/<kind>:src` on both
// servers: 1 layer of 64 KiB, 5 layers of 40 MiB (200 MiB; 5 × 8 MiB with --quick) and 50 layers
// of 64 KiB. Each operation then puts the image under a fresh image name (and a fresh tag) in a
// target, sequentially, so every one links all the blobs anew:
// - Gantry: one `POST /api/v1/promotions` (mode copy, metadata only) into a local repository the
//   scenario creates without gates (`bench-promo-a/-b/-c`, one per image);
// - the reference, the cheapest copy distribution allows: a cross-repository mount
//   (`POST /v2/<target>/blobs/uploads/?mount=<digest>&from=<source>`, 201) of the config and every
//   layer, then PUT of the manifest by tag; the whole sequence is one operation.
// Then, on both servers, what a client without either does (pull, retag, push) for the big image:
// GET the manifest, GET every blob in full, POST + one PUT ?digest= of every blob (streamed from
// the generator, the bytes just read) into a fresh name, PUT the manifest.
// Values are per-operation latency: the median of each repetition's operations, median over
// repetitions; the notes give the median and p90 over all operations of all repetitions.

const SOURCE_TAG = 'src';
const SMALL_LAYER = 64 * 1024;

interface Kind {
  id: 'one' | 'five' | 'fifty';
  layers: (options: BenchOptions) => { count: number; size: number };
  /** Gantry's target repository for this image (created without gates). */
  targetRepository: string;
  seedBase: number;
}

const KINDS: Kind[] = [
  {
    id: 'one',
    layers: () => ({ count: 1, size: SMALL_LAYER }),
    targetRepository: 'bench-promo-a',
    seedBase: 20_000,
  },
  {
    id: 'five',
    layers: (options) => ({ count: 5, size: (options.quick ? 8 : 40) * MiB }),
    targetRepository: 'bench-promo-b',
    seedBase: 20_100,
  },
  {
    id: 'fifty',
    layers: () => ({ count: 50, size: SMALL_LAYER }),
    targetRepository: 'bench-promo-c',
    seedBase: 20_200,
  },
];
/** Where pull/retag/push writes on both servers (the big image only). */
const COPY_REPOSITORY = 'bench-promo-d';
const COPY_KIND = 'five';

/** Promotions per image kind per repetition, and repetitions. */
const opsPerRep = () => 10;
const WARM_UP = 3;
const repsOf = (options: BenchOptions) => (options.quick ? 1 : 3);

const promoKey = (kind: Kind['id']) => `promotion-${kind}`;
const COPY_KEY = 'promotion-pull-push';

interface Image {
  kind: Kind;
  source: string;
  config: { body: Buffer; digest: string };
  layers: GeneratedBlob[];
  manifest: Buffer;
  manifestDigest: string;
  bytes: number;
}

const images = new Map<string, Image>();

function imageOf(kind: Kind, options: BenchOptions): Image {
  const { count, size } = kind.layers(options);
  const cacheKey = `${kind.id}:${count}:${size}`;
  const cached = images.get(cacheKey);
  if (cached) return cached;
  const layers = Array.from({ length: count }, (_, i) => generateBlob(kind.seedBase + i, size));
  const configBody = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'gantry.bench': `promotion-${kind.id}` } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const config = { body: configBody, digest: sha256(configBody) };
  const manifest = ociManifest(
    { digest: config.digest, size: configBody.length },
    layers.map((l) => ({ digest: l.digest, size: l.size })),
  );
  const image: Image = {
    kind,
    source: imageName(`bench-promo/${kind.id}`),
    config,
    layers,
    manifest,
    manifestDigest: sha256(manifest),
    bytes: manifest.length + configBody.length + layers.reduce((sum, l) => sum + l.size, 0),
  };
  images.set(cacheKey, image);
  return image;
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function imageText(kind: Kind, options: BenchOptions): string {
  const { count, size } = kind.layers(options);
  return `${count} layer${count === 1 ? '' : 's'}, ${sizeText(count * size)}`;
}

async function pushImage(target: Target, image: Image): Promise<void> {
  await pushSmall(target, image.source, image.config.body, image.config.digest);
  for (const layer of image.layers) await pushMonolithic(target, image.source, layer);
  const digest = await putManifest(target, image.source, SOURCE_TAG, image.manifest);
  if (digest && digest !== image.manifestDigest)
    throw new Error(`PUT manifest ${image.source}: digest ${digest}, want ${image.manifestDigest}`);
}

/** The target holds the manifest under `tag` with the same digest, and serves a layer. */
async function checkCopy(target: Target, name: string, tag: string, image: Image): Promise<void> {
  const reply = await call(target, `/v2/${name}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
  expectStatus(reply, 200, `GET manifest ${name}:${tag}`);
  if (sha256(reply.body) !== image.manifestDigest)
    throw new Error(`GET manifest ${name}:${tag}: body is not ${image.manifestDigest}`);
  const layer = image.layers.at(-1)!;
  const head = await call(target, `/v2/${name}/blobs/${layer.digest}`, { method: 'HEAD' });
  expectStatus(head, 200, `HEAD layer in ${name}`);
  if (Number(header(head, 'content-length')) !== layer.size)
    throw new Error(`HEAD layer in ${name}: Content-Length ${header(head, 'content-length')}`);
}

/** Gantry: one promotion request, copy mode, into `repository`/`image`:`tag`. */
async function promote(target: Target, image: Image, repository: string, name: string, tag: string) {
  const text = JSON.stringify({
    source: `${image.source}:${SOURCE_TAG}`,
    target: { repository, image: name },
    tags: [tag],
    mode: 'copy',
  });
  return call(target, '/api/v1/promotions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
    body: text,
  });
}

function checkPromoted(reply: Awaited<ReturnType<typeof promote>>, image: Image, what: string): void {
  expectStatus(reply, 201, what);
  const result = JSON.parse(reply.body.toString('utf8')) as { promoted?: unknown; digest?: unknown };
  if (result.promoted !== true || result.digest !== image.manifestDigest)
    throw new Error(`${what}: promoted ${String(result.promoted)}, digest ${String(result.digest)}`);
}

/** The reference: mount the config and every layer from the source, then PUT the manifest. */
async function mountAndPut(target: Target, image: Image, name: string, tag: string): Promise<void> {
  const from = encodeURIComponent(image.source);
  for (const digest of [image.config.digest, ...image.layers.map((l) => l.digest)]) {
    const reply = await call(
      target,
      `/v2/${name}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${from}`,
      {
        method: 'POST',
      },
    );
    expectStatus(reply, 201, `POST mount ${digest.slice(0, 19)} into ${name}`);
  }
  await putManifest(target, name, tag, image.manifest);
}

/** Pull (manifest, every blob in full), retag, push (every blob POST + PUT, manifest) into `name`. */
async function pullRetagPush(target: Target, image: Image, name: string, tag: string): Promise<void> {
  const manifest = await call(target, `/v2/${image.source}/manifests/${SOURCE_TAG}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  expectStatus(manifest, 200, `GET manifest ${image.source}`);
  const config = await call(target, `/v2/${image.source}/blobs/${image.config.digest}`);
  expectStatus(config, 200, 'GET config');
  for (const layer of image.layers) {
    const reply = await call(target, `/v2/${image.source}/blobs/${layer.digest}`, { discard: true });
    expectStatus(reply, 200, `GET layer ${layer.digest.slice(0, 19)}`);
    if (reply.bytes !== layer.size) throw new Error(`GET layer: ${reply.bytes} bytes, want ${layer.size}`);
  }
  await pushSmall(target, name, config.body, image.config.digest);
  for (const layer of image.layers) await pushMonolithic(target, name, layer);
  await putManifest(target, name, tag, manifest.body);
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

function spread(all: number[]): string {
  const sorted = [...all].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(2)} ms, p90 ${percentile(sorted, 0.9).toFixed(2)} ms over ${sorted.length}`;
}

/** Times `op` once per index, sequentially, with the server's CPU read around the block. */
async function block(
  target: Target,
  count: number,
  op: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; cpuMs: number }> {
  const probe = await startCpuProbe(target.pid);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    latencies.push(performance.now() - t0);
  }
  return { latencies, cpuMs: await probe.stop() };
}

async function createRepository(target: Target, key: string): Promise<void> {
  await adminPostJson(
    target,
    '/api/v1/repositories',
    { key, kind: 'local' },
    `POST /api/v1/repositories ${key}`,
  );
}

export const promotion: Scenario = {
  name: 'promotion',
  reps: repsOf,
  rows: (options): RowSpec[] => [
    ...KINDS.map(
      (kind): RowSpec => ({
        key: promoKey(kind.id),
        label:
          `Promotion, ${imageText(kind, options)}: gantry API, reference mount ×${kind.layers(options).count + 1} ` +
          `+ manifest PUT (${repsOf(options) * opsPerRep()} sequential)`,
        unit: 'ms',
        higherIsBetter: false,
        op: 'promotion',
      }),
    ),
    {
      key: COPY_KEY,
      label: `Pull, retag, push through the client, ${imageText(KINDS[1]!, options)} (${repsOf(options)} sequential)`,
      unit: 'ms',
      higherIsBetter: false,
      op: 'copy',
      baseline: promoKey(COPY_KIND),
    },
  ],
  async prepare(target, options) {
    const gantry = target.label === 'gantry';
    const kinds = KINDS.map((kind) => imageOf(kind, options));
    if (gantry) {
      for (const key of [...KINDS.map((k) => k.targetRepository), COPY_REPOSITORY])
        await createRepository(target, key);
    }
    for (const image of kinds) await pushImage(target, image);
    // WARM_UP untimed promotions per image: the endpoint is there, promotes, the copy is served,
    // and the server's code paths are warm (JIT on Gantry) before anything is timed.
    for (const image of kinds) {
      const repository = image.kind.targetRepository;
      for (let i = 0; i < WARM_UP; i++) {
        const name = `${image.kind.id}-warm-${i}`;
        if (gantry) checkPromoted(await promote(target, image, repository, name, 'warm'), image, 'warm-up');
        else await mountAndPut(target, image, `${repository}/${name}`, 'warm');
        await checkCopy(target, `${repository}/${name}`, 'warm', image);
      }
    }
    const all = new Map<string, number[]>();
    const prepared: Prepared = {
      async measure(rep) {
        const got: Record<string, Sample> = {};
        // Rotate the order of the images from one repetition to the next.
        const order = [...kinds.slice(rep % kinds.length), ...kinds.slice(0, rep % kinds.length)];
        for (const image of order) {
          const repository = image.kind.targetRepository;
          const nameOf = (i: number) => `${image.kind.id}-r${rep}-${i}`;
          const tagOf = (i: number) => `p${rep}-${i}`;
          const { latencies, cpuMs } = await block(target, opsPerRep(), async (i) => {
            if (gantry) {
              const reply = await promote(target, image, repository, nameOf(i), tagOf(i));
              checkPromoted(reply, image, `promotion ${image.kind.id} ${i}`);
            } else {
              await mountAndPut(target, image, `${repository}/${nameOf(i)}`, tagOf(i));
            }
          });
          const last = opsPerRep() - 1;
          await checkCopy(target, `${repository}/${nameOf(last)}`, tagOf(last), image);
          const key = promoKey(image.kind.id);
          const pooled = [...(all.get(key) ?? []), ...latencies];
          all.set(key, pooled);
          got[key] = { value: median(latencies), ops: latencies.length, cpuMs, note: spread(pooled) };
        }
        const big = kinds.find((k) => k.kind.id === COPY_KIND)!;
        const copyName = `${COPY_REPOSITORY}/${big.kind.id}-copy-r${rep}`;
        const copy = await block(target, 1, () => pullRetagPush(target, big, copyName, 'copy'));
        await checkCopy(target, copyName, 'copy', big);
        const pooled = [...(all.get(COPY_KEY) ?? []), ...copy.latencies];
        all.set(COPY_KEY, pooled);
        const mb = (2 * big.bytes) / 1e6;
        got[COPY_KEY] = {
          value: median(copy.latencies),
          ops: 1,
          cpuMs: copy.cpuMs,
          note: `${spread(pooled)}; ${mb.toFixed(0)} MB through the client each`,
        };
        return got;
      },
    };
    return prepared;
  },
  async teardown() {
    images.clear();
  },
};
