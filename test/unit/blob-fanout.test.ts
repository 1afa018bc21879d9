import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type Duplex, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { BlobFanout, LAG_LIMIT, REPLAY_LIMIT } from '../../src/repos/remote/blob-fanout.ts';
import type { ByteRange } from '../../src/storage/blob-store.ts';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A blob of `size` bytes that differ from chunk to chunk, and an upstream sending it in 1 MiB chunks. */
function upstreamOf(size: number) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) bytes.writeUInt32LE(i, i);
  const body = () =>
    Readable.from(
      (function* () {
        for (let at = 0; at < size; at += MiB) yield bytes.subarray(at, Math.min(at + MiB, size));
      })(),
    );
  return { bytes, body };
}

/** A store that keeps what it consumed, and opens it (or a range of it) once complete. */
function memoryStore() {
  let stored: Buffer | undefined;
  return {
    store: async (body: Readable) => {
      stored = await buffer(body);
    },
    open: async (range?: ByteRange) => {
      assert.ok(stored, 'opened before the blob was stored');
      return Readable.from([range ? stored.subarray(range.start, range.end + 1) : stored]);
    },
  };
}

describe('pull-through fan-out of one upstream download', () => {
  it('a client that does not read is fed at most LAG_LIMIT, then continues from the store where it stopped', async () => {
    const size = LAG_LIMIT * 3 + 12345;
    const { bytes, body } = upstreamOf(size);
    const store = memoryStore();
    const ranges: (ByteRange | undefined)[] = [];
    const fanout = new BlobFanout();
    const transfer = await fanout.join('k', async () => ({ size, body: body() }), store.store);
    assert.ok(transfer);
    const stalled = transfer.follow((range) => {
      ranges.push(range);
      return store.open(range);
    });
    await transfer.done;
    assert.equal(transfer.state, 'stored');
    // What the client's stream holds: its writable side (not taken yet) and its readable side.
    const buffered = (stalled as Duplex).writableLength + stalled.readableLength;
    assert.ok(buffered <= LAG_LIMIT + 2 * MiB, `a stalled client holds ${buffered} bytes`);
    const got = await buffer(stalled);
    assert.equal(got.length, size);
    assert.equal(sha(got), sha(bytes));
    assert.equal(ranges.length, 1);
    assert.equal(ranges[0]?.end, size - 1);
    assert.ok((ranges[0]?.start ?? 0) > LAG_LIMIT, JSON.stringify(ranges));
  });

  it('a client that reads along gets every byte live; late joiners get the replay or the store', async () => {
    const size = REPLAY_LIMIT + 5 * MiB;
    const { bytes, body } = upstreamOf(size);
    const store = memoryStore();
    let opened = 0;
    const openStored = (range?: ByteRange) => {
      opened++;
      return store.open(range);
    };
    const fanout = new BlobFanout();
    const start = async () => {
      const t = await fanout.join('k', async () => ({ size, body: body() }), store.store);
      assert.ok(t);
      return t;
    };
    const transfer = await start();
    const live = buffer(transfer.follow(openStored));
    assert.equal(await start(), transfer, 'a second miss joins the running download');
    const early = buffer(transfer.follow(openStored));
    await transfer.done;
    const late = await buffer(transfer.follow(openStored));
    for (const got of [await live, await early, late]) assert.equal(sha(got), sha(bytes));
    assert.equal(opened, 1, 'only the client that came after the download read the store');
  });

  it('a failed download fails its clients', async () => {
    const fanout = new BlobFanout();
    const broken = new Readable({
      read() {
        this.destroy(new Error('upstream went away'));
      },
    });
    const transfer = await fanout.join(
      'k',
      async () => ({ size: 10, body: broken }),
      async (body) => {
        await buffer(body);
      },
    );
    assert.ok(transfer);
    await assert.rejects(
      buffer(transfer.follow(() => Promise.reject(new Error('not stored')))),
      /upstream went away|premature close/i,
    );
    assert.equal(transfer.state, 'failed');
  });
});
