// Retention evaluation over many tags, without HTTP and without the reference registry (it has
// no retention): a metadata store filled straight through SQLite with `--tags` tags (default
// 100,000; 1,000 images × 100 tags, each tag its own manifest, a third of them pulled), then the
// steps RetentionService.evaluate takes, timed: the inventory read and the decisions.
//
//   node --import tsx bench/scenarios/retention.ts [--tags 100000] [--reps 3]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { checkRetention, retentionOf } from '../../src/lifecycle/lifecycle-settings.ts';
import { evaluateRetention, HOLD_PROPERTY } from '../../src/lifecycle/retention-engine.ts';
import type { RepositoryRecord } from '../../src/meta/records.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { DEFAULT_TAG_RULES, immutableRule, isFloating } from '../../src/promote/tag-rules.ts';

const TAGS_PER_IMAGE = 100;
const REPOSITORY = 'bench-retention-local';
const RULES = [
  { keep: 'last', count: 10, tags: 'main-*' },
  { keep: 'last', count: 5, tags: 'v*', order: 'semver' },
  { keep: 'newer', days: 14 },
  { remove: 'untagged', days: 30 },
  { remove: 'not-pulled', days: 90 },
];

function fill(file: string, tags: number, now: number): void {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();
  db.prepare(
    'insert into repositories (key, kind, description, settings, created_at) values (?, ?, ?, ?, ?)',
  ).run(REPOSITORY, 'local', '', JSON.stringify({ retention: { rules: RULES } }), at(0));
  db.prepare(
    'insert into repository_usage (repository, image_count, size_bytes, last_push_at) values (?, 0, 0, null)',
  ).run(REPOSITORY);
  const manifest = db.prepare(
    'insert into manifests (repository, image, name, digest, media_type, size, created_at) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const tag = db.prepare(
    'insert into tags (repository, image, tag, digest, updated_at) values (?, ?, ?, ?, ?)',
  );
  const pull = db.prepare('insert into manifest_pulls (repository, digest, last_pulled_at) values (?, ?, ?)');
  const all = db.transaction(() => {
    for (let i = 0; i < tags; i++) {
      const image = `team/app-${Math.floor(i / TAGS_PER_IMAGE)}`;
      const n = i % TAGS_PER_IMAGE;
      const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
      // Spread over a year, newest last; every fourth tag a version, the rest branch builds.
      const age = (TAGS_PER_IMAGE - n) * 3.6 * 86_400_000;
      const name = n % 4 === 0 ? `v1.${n}.0` : `main-${n}`;
      manifest.run(
        REPOSITORY,
        image,
        `${REPOSITORY}/${image}`,
        digest,
        'application/vnd.oci.image.manifest.v1+json',
        500,
        at(age),
      );
      tag.run(REPOSITORY, image, name, digest, at(age));
      if (i % 3 === 0) pull.run(REPOSITORY, digest, at(age / 4));
    }
  });
  all();
  db.close();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tags: { type: 'string' }, reps: { type: 'string' } } });
  const tags = Number(values.tags ?? 100_000);
  const reps = Number(values.reps ?? 3);
  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-retention-'));
  const file = join(dir, 'gantry.db');
  try {
    const now = Date.now();
    const created = await SqliteMetadataStore.open({ file });
    await created.close();
    let t = performance.now();
    fill(file, tags, now);
    process.stderr.write(`# filled ${tags} tags in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    const meta = await SqliteMetadataStore.open({ file });
    const repo = (await meta.repositories.get(REPOSITORY)) as RepositoryRecord;
    const settings = retentionOf(repo);
    if (!settings) throw new Error(`rules rejected: ${checkRetention(repo.settings.retention).join('; ')}`);
    const rows: string[] = [];
    for (let rep = 0; rep < reps; rep++) {
      t = performance.now();
      const inventory = await meta.lifecycle.inventory(REPOSITORY, {
        laterStages: [],
        propertyKeys: [HOLD_PROPERTY],
      });
      const read = performance.now() - t;
      t = performance.now();
      const items = evaluateRetention({
        rules: settings.rules,
        inventory,
        now: new Date(now),
        immutableRule: (tag) => immutableRule(DEFAULT_TAG_RULES, tag),
        floating: false,
        isFloating,
        snapshotHeld: new Set(),
      });
      const decide = performance.now() - t;
      const removed = items.filter((i) => i.action === 'remove').length;
      rows.push(
        `| ${rep + 1} | ${tags} | ${read.toFixed(0)} | ${decide.toFixed(0)} | ${(read + decide).toFixed(0)} | ${items.length} | ${removed} |`,
      );
    }
    await meta.close();
    process.stdout.write(
      [
        `Retention evaluation, ${tags} tags (${tags / TAGS_PER_IMAGE} images), rules: ${JSON.stringify(RULES)}`,
        '',
        '| rep | tags | inventory read ms | decisions ms | total ms | items | remove |',
        '|---|---|---|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
