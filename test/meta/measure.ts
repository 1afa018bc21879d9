// Measures the SQLite MetadataStore; not a test (no assertions), numbers for the README/bench:
//   node --import tsx test/meta/measure.ts
// - cost of one commit with synchronous=FULL and =NORMAL (the fsync of the WAL per commit);
// - tags.resolve latency with 1,000 tags (the manifest-GET-by-tag hot path);
// - manifests.catalog time with 500 and 5,000 names;
// - SQLite's plan for each hot query, to show every one is an index search, never a table scan.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import type { Synchronous } from '../../src/meta/sqlite/sqlite-dialect.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { ensureRepository, fakeDigest, manifestRecord, pushImage } from './suite/harness.ts';

interface Opened {
  store: SqliteMetadataStore;
  file: string;
  queries: { sql: string; parameters: readonly unknown[] }[];
}

/** With `logged`, every query's SQL is kept for `explain` (which costs time: off for timings). */
async function withStore<T>(
  synchronous: Synchronous,
  body: (o: Opened) => Promise<T>,
  logged = true,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-measure-'));
  const file = join(dir, 'meta.db');
  const queries: Opened['queries'] = [];
  const log = (e: { query: { sql: string; parameters: readonly unknown[] } }) => void queries.push(e.query);
  const store = await SqliteMetadataStore.open(logged ? { file, synchronous, log } : { file, synchronous });
  try {
    return await body({ store, file, queries });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function time(runs: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await op(i);
  return (performance.now() - start) / runs;
}

async function median(runs: number, op: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await op();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? Number.NaN;
}

async function commitCost(synchronous: Synchronous): Promise<void> {
  await withStore(synchronous, async ({ store }) => {
    await ensureRepository(store, 'dev');
    const link = await time(300, (i) => store.blobs.link('dev', 'app', fakeDigest(`l${i}`), 1));
    const put = await time(100, (i) =>
      pushImage(store, { repository: 'dev', image: 'app', label: `p${i}`, tag: `t${i % 10}` }),
    );
    console.log(
      `synchronous=${synchronous}: ${link.toFixed(2)} ms per commit (blob link); ` +
        `${put.toFixed(2)} ms per push (2 links + manifest put with tag = 3 commits)`,
    );
  });
}

async function resolveLatency(): Promise<void> {
  await withStore(
    'NORMAL',
    async ({ store, file }) => {
      await ensureRepository(store, 'dev');
      for (let img = 0; img < 10; img++) {
        for (let t = 0; t < 100; t++) {
          await pushImage(store, {
            repository: 'dev',
            image: `app-${img}`,
            label: `${img}/${t}`,
            tag: `v${t}`,
          });
        }
      }
      const pick = (i: number): [string, string] => [`app-${(i * 7) % 10}`, `v${(i * 13) % 100}`];
      const raw = new BetterSqlite3(file, { readonly: true });
      const stmt = raw.prepare('select digest from tags where repository = ? and image = ? and tag = ?');
      // Best of 5 rounds each, alternating: on a shared machine the minimum is the least noisy.
      let perResolve = Number.POSITIVE_INFINITY;
      let rawPer = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 5; round++) {
        perResolve = Math.min(perResolve, await time(20_000, (i) => store.tags.resolve('dev', ...pick(i))));
        rawPer = Math.min(rawPer, await time(20_000, async (i) => stmt.get('dev', ...pick(i))));
      }
      console.log(
        `tags.resolve, 1,000 tags: ${(perResolve * 1000).toFixed(1)} µs per call through the store ` +
          `(prepared statement on better-sqlite3 alone: ${(rawPer * 1000).toFixed(1)} µs)`,
      );
      raw.close();
    },
    false,
  );
}

async function catalogTime(names: number): Promise<void> {
  await withStore('NORMAL', async ({ store, file, queries }) => {
    for (let r = 0; r < 10; r++) await ensureRepository(store, `repo-${r}`);
    for (let i = 0; i < names; i++) {
      const [repository, image] = [`repo-${i % 10}`, `team-${i % 37}/app-${i}`];
      await pushImage(store, { repository, image, label: `${i}`, tag: 'v1' });
      await pushImage(store, { repository, image, label: `${i} b`, tag: 'v2' });
    }
    const all = await store.manifests.catalog({});
    const middle = all[Math.floor(all.length / 2)];
    const full = await median(21, () => store.manifests.catalog({}));
    const page = await median(201, () => store.manifests.catalog({ n: 100, last: middle }));
    queries.length = 0;
    const inRepo = await median(51, () => store.manifests.catalog({ n: 100 }, 'repo-3'));
    console.log(
      `catalog, ${all.length} names (${2 * names} manifests): all ${full.toFixed(2)} ms; ` +
        `page of 100 after the middle ${page.toFixed(3)} ms; page of 100 in one repository ${inRepo.toFixed(3)} ms`,
    );
    const raw = new BetterSqlite3(file, { readonly: true });
    explain(raw, 'manifests.catalog (one repository)', queries[0]);
    raw.close();
  });
}

async function otherPlans(): Promise<void> {
  await withStore('NORMAL', async ({ store, file, queries }) => {
    await ensureRepository(store, 'dev');
    const subject = await pushImage(store, { repository: 'dev', image: 'app', label: 'x', tag: 'v1' });
    const calls: [string, () => Promise<unknown>][] = [
      ['tags.resolve', () => store.tags.resolve('dev', 'app', 'v1')],
      ['manifests.catalog (all, paged)', () => store.manifests.catalog({ n: 10, last: 'a' })],
      ['tags.list', () => store.tags.list('dev', 'app', { n: 10, last: 'a' })],
      ['tags.history', () => store.tags.history('dev', 'app', 'v1', 10)],
      ['manifests.referrers', () => store.manifests.referrers('dev', 'app', subject)],
      ['blobs.isReferenced', () => store.blobs.isReferenced(subject)],
      ['uploads.listStartedBefore', () => store.uploads.listStartedBefore(new Date())],
      [
        'manifests.put (reference check)',
        () =>
          store.manifests.put({
            record: manifestRecord('dev', 'app', fakeDigest('y')),
            references: [{ digest: fakeDigest('config x'), kind: 'blob' }],
          }),
      ],
    ];
    const raw = new BetterSqlite3(file, { readonly: true });
    for (const [label, call] of calls) {
      queries.length = 0;
      await call();
      const query = queries.find((q) => q.sql.startsWith('select')) ?? queries[0];
      explain(raw, label, query);
    }
    raw.close();
  });
}

function explain(
  raw: BetterSqlite3.Database,
  label: string,
  query: Opened['queries'][number] | undefined,
): void {
  if (query === undefined) return;
  const rows = raw.prepare(`explain query plan ${query.sql}`).all(...query.parameters) as {
    detail: string;
  }[];
  console.log(`  plan of ${label}: ${query.sql}\n    ${rows.map((r) => r.detail).join('\n    ')}`);
}

await commitCost('FULL');
await commitCost('NORMAL');
await resolveLatency();
await catalogTime(500);
await catalogTime(5_000);
await otherPlans();
