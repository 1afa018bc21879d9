import { generateBlob } from '../lib/blobgen.ts';
import { call, expectStatus } from '../lib/client.ts';
import { pushMonolithic } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Scenario } from '../lib/scenario.ts';
import { MiB, mbPerSecond, runPool } from '../lib/stats.ts';

// Scenario 4: many 1 MiB blobs pulled at concurrency 8 (pushed once, untimed).

const CONCURRENCY = 8;
const count = (options: BenchOptions) => (options.quick ? 50 : 200);

export const blobPullSmall: Scenario = {
  name: 'pull-small',
  reps: (options) => (options.quick ? 1 : 3),
  rows: (options) => [
    {
      key: 'pull-small-mbps',
      label: `Blob pull ${count(options)} × 1 MiB, concurrency ${CONCURRENCY}`,
      unit: 'MB/s',
      higherIsBetter: true,
      op: 'GET',
    },
    {
      key: 'pull-small-ops',
      label: `  same run, blobs per second`,
      unit: 'GET/s',
      higherIsBetter: true,
      op: 'GET',
    },
  ],
  async prepare(target, options) {
    const name = imageName('bench-pull-small');
    const blobs = Array.from({ length: count(options) }, (_, i) => generateBlob(4000 + i, MiB));
    await runPool(blobs.length, CONCURRENCY, (i) => pushMonolithic(target, name, blobs[i]!));
    return {
      async measure() {
        const pullOne = async (i: number) => {
          const blob = blobs[i]!;
          const reply = await call(target, `/v2/${name}/blobs/${blob.digest}`, { discard: true });
          expectStatus(reply, 200, 'GET 1 MiB blob');
          if (reply.bytes !== blob.size) throw new Error(`GET 1 MiB blob: got ${reply.bytes} bytes`);
        };
        const { ms, cpuMs } = await measured(target, () => runPool(blobs.length, CONCURRENCY, pullOne));
        const bytes = blobs.length * MiB;
        return {
          'pull-small-mbps': { value: mbPerSecond(bytes, ms), ops: blobs.length, cpuMs },
          'pull-small-ops': { value: blobs.length / (ms / 1000), ops: blobs.length, cpuMs },
        };
      },
    };
  },
};
