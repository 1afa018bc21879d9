/**
 * The conformance suite every BlobStore driver passes. A driver's test file is a few lines:
 *
 *   describeBlobStore('fs', async () => { …; return { store, cleanup, leftovers } });
 *
 * `make` is called before every test (each test gets an empty store); `cleanup` after it.
 * `leftovers` lists the driver's temporary files: any left after a test fails that test.
 * `skip` names tests a back end cannot run here (e.g. cloud credentials absent), with the reason;
 * naming a test that does not exist fails, so a skip list cannot silently rot.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Digest, type DigestAlgorithm, digestOf } from '../../src/oci/digest.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import {
  BlobNotFoundError,
  DigestMismatchError,
  SizeMismatchError,
  UploadNotFoundError,
  UploadOffsetError,
} from '../../src/storage/errors.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup?: () => Promise<void>;
  leftovers?: () => Promise<string[]>;
}

export interface BlobStoreSuiteOptions {
  skip?: { reason: string; tests: string[] }[];
}

export function describeBlobStore(
  name: string,
  make: () => Promise<BlobStoreFixture>,
  options: BlobStoreSuiteOptions = {},
): void {
  const skipped = new Map(options.skip?.flatMap((s) => s.tests.map((t) => [t, s.reason] as const)));
  const defined = new Set<string>();
  let fixture: BlobStoreFixture | undefined;
  const store = (): BlobStore => {
    assert.ok(fixture, 'make() has not run');
    return fixture.store;
  };
  const noLeftovers = async (): Promise<void> => {
    assert.deepEqual((await fixture?.leftovers?.()) ?? [], [], 'temporary files left behind');
  };
  const test = (title: string, fn: () => Promise<void>): void => {
    defined.add(title);
    it(title, { skip: skipped.get(title) ?? false }, fn);
  };

  describe(`BlobStore conformance: ${name}`, () => {
    beforeEach(async () => {
      fixture = await make();
    });
    afterEach(async () => {
      try {
        await noLeftovers();
      } finally {
        await fixture?.cleanup?.();
        fixture = undefined;
      }
    });

    describeBlobs(test, store, noLeftovers);
    describeUploads(test, store);

    it('skip list names only tests of this suite', () => {
      assert.deepEqual(
        [...skipped.keys()].filter((t) => !defined.has(t)),
        [],
      );
    });
  });
}

type Define = (title: string, fn: () => Promise<void>) => void;

function describeBlobs(test: Define, store: () => BlobStore, noLeftovers: () => Promise<void>): void {
  test('put, stat, read, open, list and delete round trip', async () => {
    const a = Buffer.from('hello, gantry');
    const b = bytes(200_000, 7);
    assert.deepEqual(await store().put(digestOf(a), body(a)), { size: a.length });
    assert.deepEqual(await store().put(digestOf(b), body(...split(b, 3)), { size: b.length }), {
      size: b.length,
    });
    assert.equal(await store().stat(digestOf(a)), a.length);
    assert.equal(await store().stat(digestOf(b)), b.length);
    const copy = await store().read(digestOf(a));
    assert.deepEqual(copy, a);
    copy.fill(0); // the caller owns what read() returns; the stored blob must not change
    assert.deepEqual(await store().read(digestOf(a)), a);
    assert.deepEqual(await collect(await store().open(digestOf(b))), b);
    assert.deepEqual(
      await listBlobs(store()),
      sortBy([
        { digest: digestOf(a), size: a.length },
        { digest: digestOf(b), size: b.length },
      ]),
    );
    await store().delete(digestOf(a));
    assert.equal(await store().stat(digestOf(a)), undefined);
    assert.deepEqual(await listBlobs(store()), [{ digest: digestOf(b), size: b.length }]);
  });

  test('quarantine takes a blob out of the store; sweepTemporary leaves stored blobs alone', async () => {
    const data = Buffer.from('suspect bytes');
    await store().put(digestOf(data), body(data));
    assert.equal(await store().sweepTemporary(new Date(Date.now() + 60_000)), 0);
    assert.equal(await store().stat(digestOf(data)), data.length);
    await store().quarantine(digestOf(data));
    await store().quarantine(digestOf(data)); // absent: not an error
    assert.equal(await store().stat(digestOf(data)), undefined);
    assert.deepEqual(await listBlobs(store()), []);
  });

  test('stores the empty blob', async () => {
    const empty = Buffer.alloc(0);
    assert.deepEqual(await store().put(digestOf(empty), body(), { size: 0 }), { size: 0 });
    assert.equal(await store().stat(digestOf(empty)), 0);
    assert.deepEqual(await store().read(digestOf(empty)), empty);
    assert.deepEqual(await collect(await store().open(digestOf(empty))), empty);
  });

  test('open reads an inclusive range: first byte, last byte, middle, end past the blob', async () => {
    const data = bytes(100_000, 3);
    const d = await putBytes(store(), data);
    const range = async (start: number, end: number) => collect(await store().open(d, { start, end }));
    assert.deepEqual(await range(0, 0), data.subarray(0, 1));
    assert.deepEqual(await range(data.length - 1, data.length - 1), data.subarray(-1));
    assert.deepEqual(await range(1234, 77_776), data.subarray(1234, 77_777));
    assert.deepEqual(await range(99_990, 200_000), data.subarray(99_990));
  });

  test('put with a wrong digest rejects and stores nothing', async () => {
    const data = Buffer.from('the real content');
    const claimed = digestOf(Buffer.from('something else'));
    await rejectsWith(store().put(claimed, body(data)), DigestMismatchError, {
      expected: claimed,
      actual: digestOf(data),
    });
    assert.equal(await store().stat(claimed), undefined);
    assert.equal(await store().stat(digestOf(data)), undefined);
    assert.deepEqual(await listBlobs(store()), []);
    await noLeftovers();
  });

  test('put with an announced size shorter than the body rejects without reading it all', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => bytes(64 * 1024, i));
    let pulled = 0;
    const counting = Readable.from(
      (function* () {
        for (const chunk of chunks) {
          pulled++;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const d = digestOf(Buffer.concat(chunks));
    await rejectsWith(store().put(d, counting, { size: 100 }), SizeMismatchError, { expected: 100 });
    assert.ok(pulled < 16, `read ${pulled} of 64 chunks after the announced size was exceeded`);
    assert.equal(await store().stat(d), undefined);
    await noLeftovers();
  });

  test('put with an announced size longer than the body rejects', async () => {
    const data = bytes(5000, 1);
    await rejectsWith(store().put(digestOf(data), body(data), { size: 5001 }), SizeMismatchError, {
      expected: 5001,
      actual: 5000,
    });
    assert.equal(await store().stat(digestOf(data)), undefined);
    await noLeftovers();
  });

  test('put of an existing blob verifies the body and keeps the blob', async () => {
    const data = bytes(10_000, 5);
    const d = await putBytes(store(), data);
    assert.deepEqual(await store().put(d, body(...split(data, 4)), { size: data.length }), {
      size: data.length,
    });
    await rejectsWith(store().put(d, body(bytes(10_000, 6))), DigestMismatchError);
    await rejectsWith(store().put(d, body(data), { size: 1 }), SizeMismatchError);
    assert.deepEqual(await store().read(d), data);
    assert.deepEqual(await listBlobs(store()), [{ digest: d, size: data.length }]);
  });

  test('put aborted midway leaves nothing behind', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => bytes(64 * 1024, i));
    const d = digestOf(Buffer.concat(chunks));
    const controller = new AbortController();
    const slow = trickle(chunks.slice(0, 3), {
      gapMs: 20,
      afterwards: () => controller.abort(),
      rest: chunks.slice(3),
    });
    await assert.rejects(store().put(d, slow, { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(await store().stat(d), undefined);
    assert.deepEqual(await listBlobs(store()), []);
    await noLeftovers();
  });

  test('put whose body fails midway leaves nothing behind', async () => {
    const chunks = [bytes(50_000, 1), bytes(50_000, 2)];
    const d = digestOf(Buffer.concat(chunks));
    const failing = trickle(chunks, { gapMs: 10, afterwards: fail });
    await assert.rejects(store().put(d, failing), /client went away/);
    assert.equal(await store().stat(d), undefined);
    await noLeftovers();
  });

  test('sha512 blobs', async () => {
    const data = bytes(3000, 9);
    const d = digestOf(data, 'sha512');
    assert.deepEqual(await store().put(d, body(data)), { size: data.length });
    assert.equal(await store().stat(d), data.length);
    assert.equal(await store().stat(digestOf(data)), undefined, 'stored under sha512 only');
    assert.deepEqual(await store().read(d), data);
    assert.deepEqual(await collect(await store().open(d, { start: 10, end: 19 })), data.subarray(10, 20));
    assert.deepEqual(await listBlobs(store()), [{ digest: d, size: data.length }]);
    const wrong = digestOf(bytes(3000, 10), 'sha512');
    await rejectsWith(store().put(wrong, body(data)), DigestMismatchError, { actual: d });
  });

  test('absent blobs: stat is undefined, open and read throw BlobNotFoundError, delete is quiet', async () => {
    const d = digestOf(Buffer.from('never stored'));
    assert.equal(await store().stat(d), undefined);
    await rejectsWith(store().open(d), BlobNotFoundError, { digest: d });
    await rejectsWith(store().open(d, { start: 0, end: 0 }), BlobNotFoundError, { digest: d });
    await rejectsWith(store().read(d), BlobNotFoundError, { digest: d });
    await store().delete(d);
    assert.deepEqual(await listBlobs(store()), []);
  });

  test('an aborted signal rejects every method and changes nothing', async () => {
    const data = Buffer.from('abort me');
    const d = digestOf(data);
    const signal = AbortSignal.abort();
    const aborted = { name: 'AbortError' };
    await assert.rejects(store().put(d, body(data), { signal }), aborted);
    assert.equal(await store().stat(d), undefined);
    await putBytes(store(), data);
    await assert.rejects(store().stat(d, signal), aborted);
    await assert.rejects(store().read(d, signal), aborted);
    await assert.rejects(store().open(d, undefined, signal), aborted);
    await assert.rejects(store().delete(d, signal), aborted);
    await assert.rejects(listBlobs(store(), signal), aborted);
    assert.equal(await store().stat(d), data.length);
  });

  test('streams 32 MiB through put and open', async () => {
    const mib = 1024 * 1024;
    const hash = createHash('sha256');
    for (const chunk of generated(32, mib)) hash.update(chunk);
    const d = `sha256:${hash.digest('hex')}` as Digest;
    const source = Readable.from(generated(32, mib), { objectMode: false });
    assert.deepEqual(await store().put(d, source, { size: 32 * mib }), { size: 32 * mib });
    assert.equal(await store().stat(d), 32 * mib);
    const back = createHash('sha256');
    let size = 0;
    for await (const chunk of await store().open(d)) {
      back.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(size, 32 * mib);
    assert.equal(`sha256:${back.digest('hex')}`, d);
  });
}

function describeUploads(test: Define, store: () => BlobStore): void {
  test('upload: start, append in chunks, size, finish', async () => {
    const { uploads } = store();
    const parts = [bytes(1000, 1), bytes(70_000, 2), bytes(1, 3)];
    const whole = Buffer.concat(parts);
    await uploads.start('up-1');
    assert.equal(await uploads.size('up-1'), 0);
    let offset = 0;
    for (const part of parts) {
      const { size } = await uploads.append('up-1', body(...split(part, 2)), { offset });
      offset += part.length;
      assert.equal(size, offset);
      assert.equal(await uploads.size('up-1'), offset);
    }
    assert.deepEqual(await uploads.finish('up-1', digestOf(whole)), { size: whole.length });
    assert.equal(await uploads.size('up-1'), undefined);
    assert.deepEqual(await listUploadIds(store()), []);
    assert.deepEqual(await store().read(digestOf(whole)), whole);
    await rejectsWith(uploads.finish('up-1', digestOf(whole)), UploadNotFoundError, { id: 'up-1' });
  });

  test('an empty upload finishes as the empty blob', async () => {
    await store().uploads.start('empty');
    const d = digestOf(Buffer.alloc(0));
    assert.deepEqual(await store().uploads.finish('empty', d), { size: 0 });
    assert.equal(await store().stat(d), 0);
  });

  test('append at the wrong offset throws UploadOffsetError with the current size', async () => {
    const { uploads } = store();
    await uploads.start('off');
    await uploads.append('off', body(Buffer.from('abc')), { offset: 0 });
    for (const offset of [0, 2, 4]) {
      await rejectsWith(uploads.append('off', body(Buffer.from('zzz')), { offset }), UploadOffsetError, {
        id: 'off',
        size: 3,
        offset,
      });
    }
    assert.equal(await uploads.size('off'), 3);
    await uploads.append('off', body(Buffer.from('def')), { offset: 3 });
    assert.deepEqual(await uploads.finish('off', digestOf(Buffer.from('abcdef'))), { size: 6 });
  });

  test('starting an existing upload id fails and keeps its bytes', async () => {
    const { uploads } = store();
    await uploads.start('twice');
    await uploads.append('twice', body(Buffer.from('kept')), { offset: 0 });
    await assert.rejects(uploads.start('twice'));
    assert.equal(await uploads.size('twice'), 4);
    assert.deepEqual(await uploads.finish('twice', digestOf(Buffer.from('kept'))), { size: 4 });
  });

  test('finish with a wrong digest keeps the upload, which can still grow and finish', async () => {
    const { uploads } = store();
    const first = bytes(5000, 1);
    const second = bytes(3000, 2);
    await uploads.start('fix');
    await uploads.append('fix', body(first), { offset: 0 });
    const wrong = digestOf(Buffer.from('not it'));
    await rejectsWith(uploads.finish('fix', wrong), DigestMismatchError, {
      expected: wrong,
      actual: digestOf(first),
    });
    assert.equal(await uploads.size('fix'), first.length);
    assert.equal(await store().stat(wrong), undefined);
    assert.deepEqual(await listUploadIds(store()), ['fix']);
    // The client may now send what it forgot: the verification above must not spoil the upload.
    await uploads.append('fix', body(second), { offset: first.length });
    const whole = Buffer.concat([first, second]);
    assert.deepEqual(await uploads.finish('fix', digestOf(whole)), { size: whole.length });
    assert.deepEqual(await store().read(digestOf(whole)), whole);
  });

  test('finish with a sha512 digest', async () => {
    const { uploads } = store();
    const data = bytes(9000, 4);
    await uploads.start('five12');
    await uploads.append('five12', body(data.subarray(0, 4000)), { offset: 0 });
    await uploads.append('five12', body(data.subarray(4000)), { offset: 4000 });
    await rejectsWith(uploads.finish('five12', digestOf(bytes(9000, 5), 'sha512')), DigestMismatchError);
    assert.deepEqual(await uploads.finish('five12', digestOf(data, 'sha512')), { size: data.length });
    assert.deepEqual(await store().read(digestOf(data, 'sha512')), data);
    assert.equal(await store().stat(digestOf(data)), undefined, 'stored under sha512 only');
  });

  test('finish of an upload whose blob exists keeps the blob and removes the upload', async () => {
    const data = bytes(4000, 8);
    const d = await putBytes(store(), data);
    await store().uploads.start('dup');
    await store().uploads.append('dup', body(data), { offset: 0 });
    assert.deepEqual(await store().uploads.finish('dup', d), { size: data.length });
    assert.equal(await store().uploads.size('dup'), undefined);
    assert.deepEqual(await store().read(d), data);
    assert.deepEqual(await listBlobs(store()), [{ digest: d, size: data.length }]);
  });

  test('cancel removes the upload; cancelling again is quiet', async () => {
    const { uploads } = store();
    const data = Buffer.from('to be discarded');
    await uploads.start('gone');
    await uploads.append('gone', body(data), { offset: 0 });
    await uploads.cancel('gone');
    assert.equal(await uploads.size('gone'), undefined);
    assert.deepEqual(await listUploadIds(store()), []);
    await rejectsWith(uploads.finish('gone', digestOf(data)), UploadNotFoundError);
    await rejectsWith(uploads.append('gone', body(data), { offset: 15 }), UploadNotFoundError);
    await uploads.cancel('gone');
    assert.equal(await store().stat(digestOf(data)), undefined);
  });

  test('unknown and malformed upload ids', async () => {
    const { uploads } = store();
    const d = digestOf(Buffer.from('x'));
    for (const id of ['unknown', '../escape', 'a/b', '', 'x'.repeat(65)]) {
      assert.equal(await uploads.size(id), undefined, id);
      await rejectsWith(uploads.append(id, body(Buffer.from('x')), { offset: 0 }), UploadNotFoundError);
      await rejectsWith(uploads.finish(id, d), UploadNotFoundError);
      await uploads.cancel(id);
    }
    for (const id of ['../escape', 'a/b', '', 'x'.repeat(65), 'sp ace']) {
      await assert.rejects(uploads.start(id), `start accepted ${JSON.stringify(id)}`);
    }
    assert.deepEqual(await listUploadIds(store()), []);
  });

  test('a body that fails midway keeps the bytes that arrived and the upload stays usable', async () => {
    const { uploads } = store();
    const chunks = [bytes(30_000, 1), bytes(30_000, 2), bytes(30_000, 3)];
    const whole = Buffer.concat(chunks);
    await uploads.start('flaky');
    const failing = trickle(chunks.slice(0, 2), { gapMs: 30, afterwards: fail });
    await assert.rejects(uploads.append('flaky', failing, { offset: 0 }), /client went away/);
    assert.equal(await uploads.size('flaky'), 60_000);
    const rest = whole.subarray(60_000);
    assert.deepEqual(await uploads.append('flaky', body(rest), { offset: 60_000 }), { size: whole.length });
    assert.deepEqual(await uploads.finish('flaky', digestOf(whole)), { size: whole.length });
    assert.deepEqual(await store().read(digestOf(whole)), whole);
  });

  test('an append aborted midway keeps a prefix and the upload stays usable', async () => {
    const { uploads } = store();
    const chunks = Array.from({ length: 30 }, (_, i) => bytes(16_384, i));
    const whole = Buffer.concat(chunks);
    const controller = new AbortController();
    await uploads.start('stop');
    const slow = trickle(chunks.slice(0, 2), {
      gapMs: 30,
      afterwards: () => controller.abort(),
      rest: chunks.slice(2),
    });
    await assert.rejects(uploads.append('stop', slow, { offset: 0, signal: controller.signal }), {
      name: 'AbortError',
    });
    const kept = await uploads.size('stop');
    assert.ok(kept !== undefined && kept >= 32_768 && kept < whole.length, `kept ${kept} bytes`);
    await uploads.append('stop', body(whole.subarray(kept)), { offset: kept });
    assert.deepEqual(await uploads.finish('stop', digestOf(whole)), { size: whole.length });
  });

  test('append with maxBytes rejects a longer body with SizeMismatchError', async () => {
    const { uploads } = store();
    const data = bytes(10_000, 2);
    await uploads.start('cap');
    await uploads.append('cap', body(data.subarray(0, 1000)), { offset: 0, maxBytes: 1000 });
    await rejectsWith(
      uploads.append('cap', body(...split(data.subarray(1000), 3)), { offset: 1000, maxBytes: 500 }),
      SizeMismatchError,
      { expected: 500 },
    );
    const kept = await uploads.size('cap');
    assert.ok(kept !== undefined && kept >= 1000 && kept <= 1500, `kept ${kept} bytes`);
    await uploads.append('cap', body(data.subarray(kept)), { offset: kept });
    assert.deepEqual(await uploads.finish('cap', digestOf(data)), { size: data.length });
  });

  test('concurrent appends to one upload never interleave', async () => {
    const { uploads } = store();
    const a = Array.from({ length: 4 }, (_, i) => bytes(8192, 10 + i));
    const b = Array.from({ length: 4 }, (_, i) => bytes(8192, 20 + i));
    await uploads.start('race');
    // The lead lets both calls get past any offset check before either body sends a byte.
    const both = await Promise.allSettled([
      uploads.append('race', trickle(a, { gapMs: 5, leadMs: 30 }), { offset: 0 }),
      uploads.append('race', trickle(b, { gapMs: 5, leadMs: 30 }), { offset: 0 }),
    ]);
    const won = both.map((r) => r.status === 'fulfilled');
    assert.equal(won.filter(Boolean).length, 1, 'exactly one append at offset 0 may win');
    const winner = Buffer.concat(won[0] ? a : b);
    assert.equal(await uploads.size('race'), winner.length);
    // Appends that do follow on: either both land in call order, or the second is refused.
    const c = [bytes(8192, 30), bytes(8192, 31)];
    const d = [bytes(8192, 40), bytes(8192, 41)];
    const cLength = winner.length + 16_384;
    const next = await Promise.allSettled([
      uploads.append('race', trickle(c, { gapMs: 5 }), { offset: winner.length }),
      uploads.append('race', trickle(d, { gapMs: 5 }), { offset: cLength }),
    ]);
    assert.equal(next[0].status, 'fulfilled');
    const whole = Buffer.concat([winner, ...c, ...(next[1].status === 'fulfilled' ? d : [])]);
    assert.deepEqual(await uploads.finish('race', digestOf(whole)), { size: whole.length });
  });

  test('list uploads', async () => {
    const { uploads } = store();
    const before = Date.now();
    await uploads.start('one');
    await uploads.start('two');
    await uploads.append('two', body(Buffer.from('x')), { offset: 0 });
    const listed = await collectIterable(uploads.list());
    assert.deepEqual(listed.map((u) => u.id).sort(), ['one', 'two']);
    for (const { modified } of listed) {
      assert.ok(modified instanceof Date);
      assert.ok(Math.abs(modified.getTime() - before) < 60_000, `modified ${modified.toISOString()}`);
    }
    await uploads.finish('two', digestOf(Buffer.from('x')));
    assert.deepEqual(await listUploadIds(store()), ['one']);
  });
}

// --- helpers --------------------------------------------------------------------------------

/** Deterministic bytes: the same (length, seed) gives the same content in every run. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** `count` chunks of `size` bytes, made one at a time so no whole blob is ever in memory. */
function* generated(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.alloc(size, i);
    chunk.writeUInt32BE(i, 0);
    chunk.write(createHash('sha256').update(String(i)).digest('hex'), size / 2);
    yield chunk;
  }
}

function split(data: Buffer, parts: number): Buffer[] {
  const step = Math.ceil(data.length / parts);
  return Array.from({ length: parts }, (_, i) => data.subarray(i * step, (i + 1) * step));
}

function body(...chunks: Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false });
}

/**
 * A body that waits `leadMs`, then sends `chunks` with a pause after each (so the store has
 * consumed them), then runs `afterwards` (throw to fail the body, or abort a controller), then
 * keeps sending `rest` slowly.
 */
function trickle(
  chunks: Buffer[],
  options: { gapMs: number; leadMs?: number; afterwards?: () => void; rest?: Buffer[] },
): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    await delay(options.leadMs ?? 0);
    for (const chunk of chunks) {
      yield chunk;
      await delay(options.gapMs);
    }
    options.afterwards?.();
    for (const chunk of options.rest ?? []) {
      yield chunk;
      await delay(options.gapMs);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

function fail(): never {
  throw new Error('client went away');
}

async function putBytes(store: BlobStore, data: Buffer, algorithm: DigestAlgorithm = 'sha256') {
  const d = digestOf(data, algorithm);
  await store.put(d, body(data));
  return d;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collectIterable<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** list() without `modified`, which is checked here: when the bytes were written, not later. */
async function listBlobs(store: BlobStore, signal?: AbortSignal) {
  const listed = await collectIterable(store.list(signal));
  for (const { modified } of listed) {
    assert.ok(modified instanceof Date && modified.getTime() <= Date.now() + 1000, String(modified));
  }
  return sortBy(listed.map(({ digest, size }) => ({ digest, size })));
}

async function listUploadIds(store: BlobStore): Promise<string[]> {
  return (await collectIterable(store.uploads.list())).map((u) => u.id).sort();
}

function sortBy<T extends { digest: Digest }>(items: T[]): T[] {
  return [...items].sort((x, y) => x.digest.localeCompare(y.digest));
}

/** Rejects with an instance of `type` whose fields equal `fields`. */
async function rejectsWith<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  fields: Partial<Record<keyof E, unknown>> = {},
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    for (const [key, value] of Object.entries(fields)) {
      assert.deepEqual((error as unknown as Record<string, unknown>)[key], value, `${type.name}.${key}`);
    }
    return true;
  });
}
