import { generateBlob } from '../lib/blobgen.ts';
import { call, expectStatus } from '../lib/client.ts';
import { pushMonolithic } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Scenario } from '../lib/scenario.ts';
import { MiB, mbPerSecond } from '../lib/stats.ts';

// Scenario 3: one big blob pushed once (untimed), then streamed back and discarded per repetition.

const sizeMiB = (options: BenchOptions) => (options.quick ? 32 : 512);

export const blobPullLarge: Scenario = {
  name: 'pull-large',
  reps: (options) => (options.quick ? 1 : 3),
  rows: (options) => [
    {
      key: 'pull-large',
      label: `Blob pull ${sizeMiB(options)} MiB`,
      unit: 'MB/s',
      higherIsBetter: true,
      op: 'pull',
    },
  ],
  async prepare(target, options) {
    const blob = generateBlob(3000, sizeMiB(options) * MiB);
    const name = imageName('bench-pull-large');
    await pushMonolithic(target, name, blob);
    return {
      async measure() {
        const { ms, cpuMs, result } = await measured(target, () =>
          call(target, `/v2/${name}/blobs/${blob.digest}`, { discard: true }),
        );
        expectStatus(result, 200, 'GET large blob');
        if (result.bytes !== blob.size)
          throw new Error(`GET large blob: ${result.bytes} of ${blob.size} bytes`);
        return { 'pull-large': { value: mbPerSecond(blob.size, ms), ops: 1, cpuMs } };
      },
    };
  },
};
