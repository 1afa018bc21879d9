// Garbage collection at scale, generated straight into the stores (no HTTP):
//   node --import tsx bench/scenarios/gc.ts [--quick] [--blobs N] [--manifests M]
// Default 1,000,000 blobs and 100,000 manifests; --quick 50,000 and 5,000. Half the blobs are
// referenced by a manifest (kept), the other half only linked (their links and files go). Each
// manifest's own bytes are a blob file too. Prints the generation time, the run time, what was
// removed and the rate. Not part of bench/run.ts: it has no reference-registry counterpart.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { GarbageCollector } from '../../src/lifecycle/gc/collector.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    blobs: { type: 'string' },
    manifests: { type: 'string' },
  },
});
const BLOBS = Number(values.blobs ?? (values.quick ? 50_000 : 1_000_000));
const MANIFESTS = Number(values.manifests ?? (values.quick ? 5_000 : 100_000));
const PER_MANIFEST = Math.max(1, Math.floor(BLOBS / 2 / MANIFESTS));
const REPO = 'bench-local';

function digestOf(i: number, kind: string): { digest: string; hex: string; bytes: Buffer } {
  const bytes = Buffer.from(`${kind} ${i} ${'x'.repeat(40)}`);
  const hex = createHash('sha256').update(bytes).digest('hex');
  return { digest: `sha256:${hex}`, hex, bytes };
}

async function writeBlobFile(root: string, hex: string, bytes: Buffer): Promise<void> {
  const dir = join(root, 'blobs', 'sha256', hex.slice(0, 2));
  await writeFile(join(dir, hex), bytes);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-gc-'));
  const storage = join(dir, 'storage');
  try {
    const t0 = performance.now();
    const blobs = await FsBlobStore.open({ root: storage });
    for (let i = 0; i < 256; i++)
      await mkdir(join(storage, 'blobs', 'sha256', i.toString(16).padStart(2, '0')), { recursive: true });
    const file = join(dir, 'gantry.db');
    const seed = await SqliteMetadataStore.open({ file });
    await seed.repositories.create({
      key: REPO,
      kind: 'local',
      description: '',
      settings: {},
      createdAt: new Date().toISOString(),
    });
    await seed.close();

    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const link = db.prepare(
      'insert into blob_links (repository, image, digest, size, created_at) values (?, ?, ?, ?, ?)',
    );
    const manifest = db.prepare(
      `insert into manifests (repository, image, name, digest, media_type, size, created_at)
       values (?, ?, ?, ?, 'application/vnd.oci.image.manifest.v1+json', 100, ?)`,
    );
    const ref = db.prepare(
      "insert into manifest_refs (repository, image, digest, ref_digest, kind) values (?, ?, ?, ?, 'blob')",
    );
    const tag = db.prepare(
      'insert into tags (repository, image, tag, digest, updated_at) values (?, ?, ?, ?, ?)',
    );
    let pending: Promise<void>[] = [];
    const flushFiles = async () => {
      await Promise.all(pending);
      pending = [];
    };
    let blob = 0;
    for (let m = 0; m < MANIFESTS; m++) {
      const image = `img${m % 1000}`;
      const man = digestOf(m, 'manifest');
      pending.push(writeBlobFile(storage, man.hex, man.bytes));
      db.transaction(() => {
        manifest.run(REPO, image, `${REPO}/${image}`, man.digest, at);
        tag.run(REPO, image, `t${m}`, man.digest, at);
        for (let k = 0; k < PER_MANIFEST; k++, blob++) {
          const b = digestOf(blob, 'blob');
          link.run(REPO, image, b.digest, b.bytes.length, at);
          ref.run(REPO, image, man.digest, b.digest);
          pending.push(writeBlobFile(storage, b.hex, b.bytes));
        }
      })();
      if (pending.length >= 2000) await flushFiles();
    }
    // The other half: linked by no manifest (garbage).
    const garbageStart = blob;
    const insertLinks = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const b = digestOf(i, 'blob');
        link.run(REPO, `img${i % 1000}`, b.digest, b.bytes.length, at);
      }
    });
    for (let i = garbageStart; i < BLOBS; i += 5000) {
      const to = Math.min(BLOBS, i + 5000);
      insertLinks(i, to);
      for (let j = i; j < to; j++) {
        const b = digestOf(j, 'blob');
        pending.push(writeBlobFile(storage, b.hex, b.bytes));
        if (pending.length >= 2000) await flushFiles();
      }
    }
    await flushFiles();
    db.close();
    const generated = (performance.now() - t0) / 1000;

    const meta = await SqliteMetadataStore.open({ file });
    const log = pino({ level: 'silent' });
    const gc = new GarbageCollector({
      meta: meta.gc,
      blobs,
      log,
      settings: { graceSeconds: 0, deletesPerSecond: 0 },
    });
    const t1 = performance.now();
    const run = await gc.start({ dryRun: false, graceSeconds: 0, trigger: 'manual', actor: 'bench' });
    await gc.idle();
    const seconds = (performance.now() - t1) / 1000;
    const done = await gc.run(run.id);
    await meta.close();
    const files = BLOBS + MANIFESTS;
    const line = {
      blobs: BLOBS,
      manifests: MANIFESTS,
      generatedSeconds: Number(generated.toFixed(1)),
      gcSeconds: Number(seconds.toFixed(1)),
      state: done.state,
      linksRemoved: done.linksRemoved,
      blobsRemoved: done.blobsRemoved,
      blobFilesScannedPerSecond: Math.round(files / seconds),
      extrapolatedSecondsFor1M: Math.round((1_100_000 / files) * seconds),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (done.state !== 'finished' || done.blobsRemoved !== BLOBS - garbageStart) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
