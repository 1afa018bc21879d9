import type { Target } from '../lib/client.ts';
import { describeWalk, medianWalk } from '../lib/paging.ts';
import { makeSmallImage, mountOrPush, pushSmallImage, putManifest } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Sample, type Scenario } from '../lib/scenario.ts';
import { runPool } from '../lib/stats.ts';

// Scenario 8: many image names with one manifest each; the catalog fetched whole (a client that
// follows Link headers from a bare `/v2/_catalog`, and one that asks for `?n=1000`). The other
// scenarios' images are in the catalog too, the same handful on both servers.

const runs = (options: BenchOptions) => (options.quick ? 10 : 50);
const repoCount = (options: BenchOptions) => (options.quick ? 100 : 500);
const repoName = (i: number) => imageName(`bench-cat-${String(i).padStart(3, '0')}`);

async function fillCatalog(target: Target, count: number): Promise<void> {
  const image = await makeSmallImage('catalog');
  const first = repoName(0);
  await pushSmallImage(target, first, image, 'v1');
  await runPool(count - 1, 8, async (i) => {
    const name = repoName(i + 1);
    await mountOrPush(target, name, first, image.config);
    await mountOrPush(target, name, first, image.layer);
    await putManifest(target, name, 'v1', image.manifest);
  });
}

async function timeWalk(target: Target, path: string, options: BenchOptions): Promise<Sample> {
  const { cpuMs, result } = await measured(target, () =>
    medianWalk(target, path, 'repositories', runs(options)),
  );
  return { value: result.ms, ops: runs(options), cpuMs, note: describeWalk(result.walk) };
}

export const catalog: Scenario = {
  name: 'catalog',
  reps: () => 1,
  rows: (options) => [
    {
      key: 'catalog-default',
      label: `Catalog, ${repoCount(options)} images, /v2/_catalog + Link (median of ${runs(options)})`,
      unit: 'ms',
      higherIsBetter: false,
      op: 'walk',
    },
    {
      key: 'catalog-n1000',
      label: `Catalog, ${repoCount(options)} images, ?n=1000 (median of ${runs(options)})`,
      unit: 'ms',
      higherIsBetter: false,
      op: 'walk',
    },
  ],
  async prepare(target, options) {
    await fillCatalog(target, repoCount(options));
    return {
      async measure() {
        return {
          'catalog-default': await timeWalk(target, '/v2/_catalog', options),
          'catalog-n1000': await timeWalk(target, '/v2/_catalog?n=1000', options),
        };
      },
    };
  },
};
