import { smallBlob } from '../lib/blobgen.ts';
import { pushSmall } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Scenario } from '../lib/scenario.ts';
import { runPool } from '../lib/stats.ts';

// Scenario 5: many 4 KiB blobs, each POST + PUT ?digest= with the body (the containerd style), at
// concurrency 32. Every repetition pushes new random blobs, made before the clock starts.

const CONCURRENCY = 32;
const SIZE = 4096;
const count = (options: BenchOptions) => (options.quick ? 200 : 2000);

export const blobPushSmall: Scenario = {
  name: 'push-small',
  // Two repetitions only: at the reference's ~100 pushes/s the full size already takes a minute.
  reps: (options) => (options.quick ? 1 : 2),
  rows: (options) => [
    {
      key: 'push-small',
      label: `Blob push ${count(options)} × 4 KiB, POST + PUT, concurrency ${CONCURRENCY}`,
      unit: 'push/s',
      higherIsBetter: true,
      op: 'push',
    },
  ],
  async prepare(target, options) {
    const name = imageName('bench-push-small');
    return {
      async measure() {
        const blobs = Array.from({ length: count(options) }, () => smallBlob(SIZE));
        const pushOne = (i: number) => pushSmall(target, name, blobs[i]!.body, blobs[i]!.digest);
        const { ms, cpuMs } = await measured(target, () => runPool(blobs.length, CONCURRENCY, pushOne));
        return { 'push-small': { value: blobs.length / (ms / 1000), ops: blobs.length, cpuMs } };
      },
    };
  },
};
