import { EventEmitter } from 'node:events';
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import type { ByteRange } from '../../storage/blob-store.ts';

/**
 * Bytes kept in memory per transfer so that clients joining late get them replayed. Beyond
 * this, late joiners wait until the blob is stored and read it from there.
 */
export const REPLAY_LIMIT = 8 * 1024 * 1024;

/**
 * Bytes waiting in one client's stream before it stops being fed live. The download runs at the
 * speed of the store, not of the slowest client; a client that falls this far behind continues
 * from the stored blob, at the byte it had reached, once the download is done — so memory per
 * client stays bounded whatever the blob's size.
 */
export const LAG_LIMIT = 8 * 1024 * 1024;

/** Opens the stored blob, or the range of it from where a client continues. */
export type OpenStored = (range?: ByteRange) => Promise<Readable>;

/** One upstream download of a blob, shared by every client that asks while it runs. */
export class Transfer extends EventEmitter {
  #chunks: Buffer[] | undefined = [];
  #received = 0;
  state: 'running' | 'stored' | 'failed' = 'running';
  error: Error | undefined;
  /** Settles when the blob is stored (or the download failed). */
  readonly done: Promise<void>;
  #settle!: () => void;

  constructor(readonly size: number) {
    super();
    this.done = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  add(chunk: Buffer): void {
    this.#received += chunk.length;
    if (this.#chunks && this.#received <= REPLAY_LIMIT) this.#chunks.push(chunk);
    else this.#chunks = undefined;
    this.emit('chunk', chunk);
  }

  finish(): void {
    this.state = 'stored';
    this.#settle();
    this.emit('stored');
  }

  fail(error: Error): void {
    this.state = 'failed';
    this.error = error;
    this.#settle();
    this.emit('failed', error);
  }

  /**
   * A stream of the whole blob for one more client: what arrived so far, then the rest as it
   * arrives. When the replay buffer was given up, or the blob is stored already, it reads the
   * stored blob once the transfer is done; so does a client that falls LAG_LIMIT behind, from
   * the byte it had reached.
   */
  follow(openStored: OpenStored): Readable {
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const fromStore = (start: number) => {
      void this.done.then(async () => {
        if (this.state === 'failed') return out.destroy(this.error);
        if (start >= this.size) return out.end();
        try {
          const range = start === 0 ? undefined : { start, end: this.size - 1 };
          pipeline(await openStored(range), out, () => undefined);
        } catch (e) {
          out.destroy(e as Error);
        }
      });
    };
    if (this.state !== 'running' || !this.#chunks) {
      fromStore(0);
      return out;
    }
    let sent = 0;
    const send = (chunk: Buffer) => {
      sent += chunk.length;
      out.write(chunk);
    };
    for (const chunk of this.#chunks) send(chunk);
    const onChunk = (chunk: Buffer) => {
      if (out.writableLength <= LAG_LIMIT) return send(chunk);
      detach();
      fromStore(sent);
    };
    const onStored = () => {
      detach();
      out.end();
    };
    const onFailed = (error: Error) => {
      detach();
      out.destroy(error);
    };
    const detach = () => {
      this.off('chunk', onChunk);
      this.off('stored', onStored);
      this.off('failed', onFailed);
    };
    this.on('chunk', onChunk);
    this.once('stored', onStored);
    this.once('failed', onFailed);
    out.once('close', detach);
    return out;
  }
}

/**
 * At most one upstream download per digest at a time: the first miss starts it, streaming the
 * bytes into the store (which verifies the digest) while recording them for the clients; misses
 * that come while it runs join it.
 */
export class BlobFanout {
  readonly #running = new Map<string, Promise<Transfer | undefined>>();

  /** The keys of the transfers starting or running now. */
  keys(): IterableIterator<string> {
    return this.#running.keys();
  }

  /**
   * Joins or starts the transfer of `key`. `open` asks upstream (undefined: it does not have
   * the blob); `store` consumes the recorded stream and resolves once the blob is stored.
   */
  join(
    key: string,
    open: () => Promise<{ size: number; body: Readable } | undefined>,
    store: (body: Readable, size: number) => Promise<void>,
  ): Promise<Transfer | undefined> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = this.#start(open, store).then(
      (transfer) => {
        if (!transfer) this.#running.delete(key);
        else void transfer.done.then(() => this.#running.delete(key));
        return transfer;
      },
      (error: unknown) => {
        this.#running.delete(key);
        throw error;
      },
    );
    this.#running.set(key, started);
    return started;
  }

  async #start(
    open: () => Promise<{ size: number; body: Readable } | undefined>,
    store: (body: Readable, size: number) => Promise<void>,
  ): Promise<Transfer | undefined> {
    const upstream = await open();
    if (!upstream) return undefined;
    const transfer = new Transfer(upstream.size);
    const recorder = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        transfer.add(chunk);
        callback(null, chunk);
      },
    });
    const recorded = pipeline(upstream.body, recorder, () => undefined);
    store(recorded, upstream.size).then(
      () => transfer.finish(),
      (error: unknown) => transfer.fail(error instanceof Error ? error : new Error(String(error))),
    );
    return transfer;
  }
}
