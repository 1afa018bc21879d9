import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { describeMetadataStore } from './metadata-store-suite.ts';
import { ensureRepository, fakeDigest, pushImage } from './suite/harness.ts';

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-meta-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describeMetadataStore('sqlite file', async () => {
  const { dir, cleanup } = await tempDir();
  return { store: await SqliteMetadataStore.open({ file: join(dir, 'meta.db') }), cleanup };
});

describeMetadataStore('sqlite :memory:', async () => ({
  store: await SqliteMetadataStore.open({ file: ':memory:' }),
}));

it('sqlite: data survives close and reopen of the same file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'meta.db');
    const first = await SqliteMetadataStore.open({ file });
    await ensureRepository(first, 'dev');
    const digest = await pushImage(first, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    await first.close();
    const second = await SqliteMetadataStore.open({ file });
    try {
      assert.equal(await second.tags.resolve('dev', 'app', 'v1'), digest);
      assert.deepEqual(await second.manifests.catalog({}), ['dev/app']);
    } finally {
      await second.close();
    }
  } finally {
    await cleanup();
  }
});

it('sqlite: close lets a transaction in flight finish', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'meta.db');
    let armed = false;
    let closing: Promise<void> | undefined;
    const first: SqliteMetadataStore = await SqliteMetadataStore.open({
      file,
      log: (event) => {
        // Close between two statements of the put's transaction (the links before it are
        // transactions of their own).
        if (
          armed &&
          !closing &&
          event.level === 'query' &&
          event.query.sql.startsWith('insert into "manifests"')
        ) {
          closing = first.close();
        }
      },
    });
    await ensureRepository(first, 'dev');
    await first.blobs.link('dev', 'app', fakeDigest('config a'), 1);
    await first.blobs.link('dev', 'app', fakeDigest('layer a'), 1);
    armed = true;
    const digest = await pushImage(first, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    assert.ok(closing, 'close() was called during the transaction');
    await closing;
    await assert.rejects(first.tags.resolve('dev', 'app', 'v1'), 'the store is closed');
    const second = await SqliteMetadataStore.open({ file });
    try {
      assert.equal(await second.tags.resolve('dev', 'app', 'v1'), digest);
    } finally {
      await second.close();
    }
  } finally {
    await cleanup();
  }
});

// Another process on the same file (a CLI, a second server) must queue on SQLite's write lock,
// not fail: transactions begin IMMEDIATE and busy_timeout waits for the lock.
it('sqlite: two processes pushing to the same file at once all land', async () => {
  const { dir, cleanup } = await tempDir();
  const file = join(dir, 'meta.db');
  const store = await SqliteMetadataStore.open({ file });
  try {
    await ensureRepository(store, 'dev');
    const count = 60;
    const child = startWriter(file, 'child', count);
    await child.ready; // the child's start-up (seconds under tsx) must not hide the overlap
    for (let i = 0; i < count; i++) {
      await pushImage(store, { repository: 'dev', image: 'app', label: `parent ${i}`, tag: 'parent-latest' });
    }
    await child.done;
    for (const label of ['parent', 'child']) {
      for (let i = 0; i < count; i++) {
        assert.ok(
          await store.manifests.get('dev', 'app', fakeDigest(`manifest ${label} ${i}`)),
          `${label} ${i}`,
        );
      }
      assert.equal((await store.tags.history('dev', 'app', `${label}-latest`)).length, count);
    }
  } finally {
    await store.close();
    await cleanup();
  }
});

function startWriter(
  file: string,
  label: string,
  count: number,
): { ready: Promise<void>; done: Promise<void> } {
  const script = join(import.meta.dirname, 'concurrent-writer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, file, label, `${count}`]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`)),
    );
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    done.then(() => reject(new Error('writer exited before it was ready')), reject);
  });
  return { ready, done };
}

// Group commit: concurrent writes share fsyncs of the WAL, every write still waits for one, and
// reads cause none.
it('sqlite: concurrent writes share WAL fsyncs; each resolves only after one; reads cost none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-sqlite-'));
  const store = await SqliteMetadataStore.open({ file: join(dir, 'meta.db') });
  try {
    const flusher = store.flusher;
    assert.ok(flusher, 'an on-disk store in the default mode groups commits');
    await ensureRepository(store, 'dev');
    const before = flusher.syncs;
    await store.blobs.link('dev', 'app', fakeDigest('one'), 1);
    assert.equal(flusher.syncs, before + 1, 'a lone write waits for its own fsync');
    const writes = Array.from({ length: 50 }, (_, i) =>
      store.blobs.link('dev', 'app', fakeDigest(`b${i}`), i),
    );
    await Promise.all(writes);
    const grouped = flusher.syncs - before - 1;
    assert.ok(grouped >= 1 && grouped < 50, `50 concurrent writes took ${grouped} fsyncs`);
    const afterWrites = flusher.syncs;
    await store.blobs.get('dev', 'app', fakeDigest('b7'));
    await store.tags.list('dev', 'app', {});
    assert.equal(flusher.syncs, afterWrites, 'reads fsync nothing');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
