import { call, expectStatus } from '../lib/client.ts';
import { describeWalk, medianWalk } from '../lib/paging.ts';
import { makeSmallImage, pushSmallImage, putManifest } from '../lib/registry.ts';
import { type BenchOptions, imageName, measured, type Scenario } from '../lib/scenario.ts';
import { runPool } from '../lib/stats.ts';

// Scenario 7: one manifest under 1,000 tags (300 with --quick) (a tag PUT is a manifest PUT by tag). Times the full
// `tags/list`, and a client that asks for pages of 100 and follows Link headers to the end.

const tagCount = (options: BenchOptions) => (options.quick ? 300 : 1000);
const runs = (options: BenchOptions) => (options.quick ? 10 : 50);
const tagName = (i: number) => `t${String(i).padStart(4, '0')}`;

export const tagsList: Scenario = {
  name: 'tags',
  reps: () => 1,
  rows: (options) => [
    {
      key: 'tags-full',
      label: `Tags list, ${tagCount(options)} tags, one GET (median of ${runs(options)})`,
      unit: 'ms',
      higherIsBetter: false,
      op: 'list',
    },
    {
      key: 'tags-paged',
      label: `Tags list walked with ?n=100 + Link (median of ${runs(options)})`,
      unit: 'ms',
      higherIsBetter: false,
      op: 'walk',
    },
  ],
  async prepare(target, options) {
    const name = imageName('bench-tags');
    const image = await makeSmallImage('tags');
    await pushSmallImage(target, name, image, tagName(0));
    await runPool(tagCount(options) - 1, 8, async (i) => {
      await putManifest(target, name, tagName(i + 1), image.manifest);
    });
    const check = await call(target, `/v2/${name}/tags/list`);
    expectStatus(check, 200, 'GET tags/list');
    const count = (JSON.parse(check.body.toString('utf8')) as { tags?: unknown[] }).tags?.length;
    if (count !== tagCount(options))
      throw new Error(`tags/list has ${count} tags, want ${tagCount(options)}`);
    const path = `/v2/${name}/tags/list`;
    return {
      async measure() {
        const full = await measured(target, () => medianWalk(target, path, 'tags', runs(options)));
        const paged = await measured(target, () =>
          medianWalk(target, `${path}?n=100`, 'tags', runs(options)),
        );
        return {
          'tags-full': {
            value: full.result.ms,
            ops: runs(options),
            cpuMs: full.cpuMs,
            note: describeWalk(full.result.walk),
          },
          'tags-paged': {
            value: paged.result.ms,
            ops: runs(options),
            cpuMs: paged.cpuMs,
            note: describeWalk(paged.result.walk),
          },
        };
      },
    };
  },
};
