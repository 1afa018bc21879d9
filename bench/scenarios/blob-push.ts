import { type GeneratedBlob, generateBlob } from '../lib/blobgen.ts';
import type { Target } from '../lib/client.ts';
import { pushChunked, pushMonolithic } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Sample, type Scenario } from '../lib/scenario.ts';
import { MiB, mbPerSecond } from '../lib/stats.ts';

// Scenarios 1 and 2: one big blob per repetition, new bytes each time (a fresh seed), so neither
// server can skip work because it already holds the digest.

const CHUNK = 8 * MiB;

function sizesMiB(options: BenchOptions): number[] {
  return options.quick ? [8, 32] : [64, 512];
}

type Style = 'monolithic' | 'chunked';

function pushScenario(style: Style, seedBase: number): Scenario {
  const reps = (options: BenchOptions) => (options.quick ? 1 : 3);
  const rowKey = (size: number) => `push-${style}-${size}`;
  const seedOf = (sizeIndex: number, rep: number) => seedBase + rep * 10 + sizeIndex;
  return {
    name: `push-${style}`,
    reps,
    rows: (options) =>
      sizesMiB(options).map((size) => ({
        key: rowKey(size),
        label:
          style === 'monolithic'
            ? `Blob push ${size} MiB, POST + one PUT`
            : `Blob push ${size} MiB, PATCH 8 MiB chunks`,
        unit: 'MB/s',
        higherIsBetter: true,
        op: 'push',
      })),
    async prepare(target: Target, options: BenchOptions) {
      const sizes = sizesMiB(options);
      // Untimed: the digests need a full pass over each blob before the push can name them.
      const blobs = sizes.map((size, i) =>
        Array.from({ length: reps(options) }, (_, rep) => generateBlob(seedOf(i, rep), size * MiB)),
      );
      const name = imageName(`bench-push-${style}`);
      return {
        async measure(rep: number) {
          const out: Record<string, Sample> = {};
          for (const [i, size] of sizes.entries()) {
            const blob = blobs[i]![rep]!;
            out[rowKey(size)] = await pushOnce(target, name, blob, style);
          }
          return out;
        },
      };
    },
  };
}

async function pushOnce(target: Target, name: string, blob: GeneratedBlob, style: Style): Promise<Sample> {
  const run = () =>
    style === 'monolithic' ? pushMonolithic(target, name, blob) : pushChunked(target, name, blob, CHUNK);
  const { ms, cpuMs } = await measured(target, run);
  return { value: mbPerSecond(blob.size, ms), ops: 1, cpuMs };
}

export const blobPushMonolithic = pushScenario('monolithic', 1000);
export const blobPushChunked = pushScenario('chunked', 2000);
