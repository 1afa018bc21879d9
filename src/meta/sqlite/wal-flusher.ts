import { type FileHandle, open } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Group commit for SQLite in WAL mode. The database runs with `synchronous = NORMAL`, so a
 * commit only writes the WAL; before a write call resolves, `ensureDurable()` fsyncs the WAL
 * file. Calls that arrive while an fsync is in flight share the next one, so 32 concurrent
 * pushes cost a few fsyncs instead of 32 serialised ones, and nothing is acknowledged before
 * it is on disk: the same promise as `synchronous = FULL`.
 *
 * Why this is safe: after a power loss SQLite replays only WAL frames whose checksums are
 * valid up to the last complete commit, so an unsynced tail is ignored, never half-applied;
 * checkpoints under NORMAL fsync the WAL before copying it. fsync on any descriptor of a file
 * flushes that file's data (Linux), so our own descriptor serves.
 *
 * What changed is counted with SQLite's total_changes(): a read changes nothing and costs no fsync.
 */
export class WalFlusher {
  /** How many fsyncs ran: for tests and diagnostics. */
  syncs = 0;
  #durable = 0;
  #inFlight: Promise<void> | undefined;
  #file: FileHandle | undefined;
  readonly #changes: BetterSqlite3.Statement;

  constructor(
    database: BetterSqlite3.Database,
    private readonly walPath: string,
  ) {
    this.#changes = database.prepare('select total_changes()').pluck();
  }

  /** Resolves once every change committed before the call is on disk. */
  async ensureDurable(): Promise<void> {
    const target = this.#count();
    while (this.#durable < target) {
      if (!this.#inFlight) {
        const covers = this.#count();
        this.#inFlight = this.#fsync()
          .then(() => {
            this.#durable = Math.max(this.#durable, covers);
          })
          .finally(() => {
            this.#inFlight = undefined;
          });
      }
      await this.#inFlight;
    }
  }

  async close(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
    await this.#file?.close();
    this.#file = undefined;
  }

  #count(): number {
    return Number(this.#changes.get());
  }

  async #fsync(): Promise<void> {
    this.#file ??= await open(this.walPath, 'r');
    await this.#file.sync();
    this.syncs++;
  }
}
