import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { digestOf } from '../../src/oci/digest.ts';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store.ts';
import { describeBlobStore } from './blob-store-suite.ts';

async function tempRoot(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'gantry-'));
}

describeBlobStore('fs', async () => {
  const root = await tempRoot();
  return {
    store: await FsBlobStore.open({ root }),
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
    leftovers: () => fs.readdir(path.join(root, 'tmp')),
  };
});

describe('FsBlobStore across a restart', () => {
  it('an upload continued by a new instance (no running hash) verifies by re-reading', async () => {
    const root = await tempRoot();
    try {
      const first = bytes('before the restart, ', 5000);
      const second = bytes('after the restart. ', 7000);
      const whole = Buffer.concat([first, second]);
      const before = await FsBlobStore.open({ root });
      await before.uploads.start('survivor');
      await before.uploads.append('survivor', Readable.from([first]), { offset: 0 });

      const after = await FsBlobStore.open({ root });
      assert.equal(await after.uploads.size('survivor'), first.length);
      await after.uploads.append('survivor', Readable.from([second]), { offset: first.length });
      await assert.rejects(after.uploads.finish('survivor', digestOf(first)), {
        name: 'DigestMismatchError',
      });
      assert.deepEqual(await after.uploads.finish('survivor', digestOf(whole)), { size: whole.length });
      assert.deepEqual(await after.read(digestOf(whole)), whole);
      // The old instance's stale running hash must not be trusted either.
      assert.equal(await before.uploads.size('survivor'), undefined);
      assert.deepEqual(await before.read(digestOf(whole)), whole);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('the old instance, whose running hash is stale, re-reads instead of trusting it', async () => {
    const root = await tempRoot();
    try {
      const first = bytes('abc', 4096);
      const second = bytes('xyz', 4096);
      const whole = Buffer.concat([first, second]);
      const before = await FsBlobStore.open({ root });
      await before.uploads.start('shared');
      await before.uploads.append('shared', Readable.from([first]), { offset: 0 });
      const other = await FsBlobStore.open({ root });
      await other.uploads.append('shared', Readable.from([second]), { offset: first.length });
      assert.deepEqual(await before.uploads.finish('shared', digestOf(whole)), { size: whole.length });
      assert.deepEqual(await before.read(digestOf(whole)), whole);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

function bytes(text: string, length: number): Buffer {
  return Buffer.from(text.repeat(Math.ceil(length / text.length)).slice(0, length));
}
