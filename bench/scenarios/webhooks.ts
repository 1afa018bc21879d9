// Webhook delivery must never slow the request that caused the event. This measures push and
// promotion latency on one Gantry with no webhook subscriptions and with ten (nine answering a
// receiver at once, one whose receiver never answers), in alternating windows so background
// load falls on both alike, and prints the ratio (the target: within 5 %).
//
//   node --import tsx bench/scenarios/webhooks.ts [--quick]
//
// A push here is a small image (config + one 1 KiB layer + manifest, each a request); a
// promotion is one POST /api/v1/promotions (copy, metadata only) into a repository without
// gates. Values are per-operation latency in ms: median and p90 over all operations of a mode.
// Not part of bench/run.ts: that runner compares Gantry with the reference registry, which has
// no webhooks.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configWith, pushSingle, registry } from '../../test/api/promotion-support.ts';
import { admin, api } from '../../test/auth/support.ts';
import { startGantry } from '../../test/support/gantry.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const ROUNDS = values.quick ? 3 : 6;
const OPS = values.quick ? 15 : 40;
const TARGET = 'bench-webhook-target';

/**
 * A receiver in a process of its own, so its work does not land on the bench's client (which
 * times the requests): answers 200 at once, or never.
 */
async function receiver(hang: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const code = `
    const held = [];
    let received = 0;
    const server = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => { received++; if (${hang}) held.push(res); else res.end('ok'); });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    process.on('SIGTERM', () => { console.error('receiver ${hang ? 'hanging' : 'fast'}: ' + received + ' requests'); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((done) =>
    child.stdout.once('data', (b: Buffer) => done(b.toString().trim())),
  );
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: async () => {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const fast = await receiver(false);
  const hanging = await receiver(true);
  const gantry = await startGantry({
    env: { GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8', GANTRY_WEBHOOK_TIMEOUT_SECONDS: '30' },
  });
  try {
    await admin(gantry.url, 'POST', '/repositories', { key: TARGET, kind: 'local' }, 201);
    const client = registry(gantry.url);
    const samples = {
      none: { push: [] as number[], promote: [] as number[] },
      ten: { push: [] as number[], promote: [] as number[] },
    };
    let n = 0;
    const subscribe = async (): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const url = i === 0 ? hanging.url : fast.url;
        const made = await admin(
          gantry.url,
          'POST',
          '/webhooks',
          { url, secret: 'bench-secret-0123456789' },
          201,
        );
        ids.push(made.id as string);
      }
      return ids;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('none' | 'ten')[] = round % 2 === 0 ? ['none', 'ten'] : ['ten', 'none'];
      for (const mode of order) {
        const ids = mode === 'ten' ? await subscribe() : [];
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < OPS + 2; i++) {
          const image = `docker-dev-local/bench-wh/i${n++}`;
          let t = performance.now();
          await pushSingle(client, image, 'v1', configWith());
          const pushMs = performance.now() - t;
          t = performance.now();
          const res = await api(gantry.url, 'POST', '/promotions', { source: `${image}:v1`, target: TARGET });
          const promoteMs = performance.now() - t;
          if (res.status !== 201) throw new Error(`promotion: ${res.status} ${JSON.stringify(res.json)}`);
          if (i < 2) continue; // warm-up of the window
          samples[mode].push.push(pushMs);
          samples[mode].promote.push(promoteMs);
        }
        for (const id of ids) await admin(gantry.url, 'DELETE', `/webhooks/${id}`, undefined, 204);
      }
    }
    const rows: string[] = [
      '| operation | no subscriptions | 10 subscriptions (1 hanging) | ratio |',
      '|---|---|---|---|',
    ];
    for (const op of ['push', 'promote'] as const) {
      const a = [...samples.none[op]].sort((x, y) => x - y);
      const b = [...samples.ten[op]].sort((x, y) => x - y);
      const ma = quantile(a, 0.5);
      const mb = quantile(b, 0.5);
      rows.push(
        `| ${op} | ${ma.toFixed(2)} ms (p90 ${quantile(a, 0.9).toFixed(2)}) | ${mb.toFixed(2)} ms (p90 ${quantile(b, 0.9).toFixed(2)}) | ×${(mb / ma).toFixed(3)} |`,
      );
    }
    process.stdout.write(`${rows.join('\n')}\n\n${ROUNDS} rounds × ${OPS} operations per mode\n`);
  } finally {
    await gantry.stop();
    await fast.close();
    await hanging.close();
  }
}

await main();
