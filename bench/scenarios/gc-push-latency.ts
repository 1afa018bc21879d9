// Push latency with and without a garbage collection run going on:
//   node --import tsx bench/scenarios/gc-push-latency.ts [--quick]
// Starts Gantry, times image pushes (config + one 4 KiB layer + manifest, 4 clients), then puts
// garbage blob files straight into its store (100,000; --quick 30,000), starts a run with no
// grace period and times the same pushes while it works. Prints p50/p99 of both and the ratio.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ADMIN, basicAuth, startGantry } from '../../test/support/gantry.ts';
import { imageManifest, makeBlob, makeConfig, RegistryClient, uniqueName } from '../../test/support/http.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const GARBAGE = values.quick ? 30_000 : 100_000;
const PUSHES = values.quick ? 200 : 600;
const CLIENTS = 4;
const auth = basicAuth(ADMIN.user, ADMIN.password);

async function timedPushes(client: RegistryClient, count: number): Promise<number[]> {
  const times: number[] = [];
  let left = count;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const name = uniqueName('lat');
      while (left-- > 0) {
        const config = makeConfig();
        const layer = makeBlob(4096);
        const t0 = performance.now();
        await client.pushBlob(name, config);
        await client.pushBlob(name, layer);
        await client.pushManifest(name, `t${left}`, imageManifest({ config, layers: [layer] }));
        times.push(performance.now() - t0);
      }
    }),
  );
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const gantry = await startGantry();
try {
  const client = new RegistryClient(gantry.url);
  await timedPushes(client, 40); // warm-up
  const quiet = await timedPushes(client, PUSHES);

  const root = join(gantry.dataDir, 'storage', 'blobs', 'sha256');
  const old = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < GARBAGE; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, GARBAGE - i) }, async () => {
        const bytes = randomBytes(64);
        const hex = createHash('sha256').update(bytes).digest('hex');
        await mkdir(join(root, hex.slice(0, 2)), { recursive: true });
        const file = join(root, hex.slice(0, 2), hex);
        await writeFile(file, bytes);
        await utimes(file, old, old);
      }),
    );
  }
  const started = await fetch(`${gantry.url}/api/v1/gc`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ graceSeconds: 0 }),
  });
  const { run } = (await started.json()) as { run: { id: string } };
  const busy = await timedPushes(client, PUSHES);
  const state = (await (
    await fetch(`${gantry.url}/api/v1/gc/runs/${run.id}`, { headers: { authorization: auth } })
  ).json()) as { run: { state: string; blobsRemoved: number } };
  const line = {
    pushes: PUSHES,
    garbageFiles: GARBAGE,
    quietP50ms: Number(pct(quiet, 50).toFixed(1)),
    quietP99ms: Number(pct(quiet, 99).toFixed(1)),
    duringGcP50ms: Number(pct(busy, 50).toFixed(1)),
    duringGcP99ms: Number(pct(busy, 99).toFixed(1)),
    p99Ratio: Number((pct(busy, 99) / pct(quiet, 99)).toFixed(2)),
    gcStateAtEnd: state.run.state,
    gcBlobsRemovedMeanwhile: state.run.blobsRemoved,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  await gantry.stop();
}
