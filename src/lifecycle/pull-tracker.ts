import type { Logger } from '../config/logger.ts';
import type { LifecycleMeta } from '../meta/lifecycle-store.ts';
import type { Digest } from '../oci/digest.ts';

/**
 * Last-pulled times per (repository, digest), for retention's "not pulled for D days", without
 * a database write per pull: a manifest GET only sets a map entry (no allocation when the entry
 * exists), and the map is written as one batch every `flushMs` and at shutdown. A crash loses at
 * most the pulls of the last interval, which only makes an image look a little less recently
 * pulled; retention's windows are days.
 */
export class PullTracker {
  /** `repository \n digest` → epoch ms of the latest pull not yet written. */
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: LifecycleMeta,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notes a pull; O(1), never waits, never throws. */
  record(repository: string, digest: Digest): void {
    this.#pending.set(`${repository}\n${digest}`, this.now());
  }

  /** Pulls of `repository` not written yet, digest → ISO time (retention merges these in). */
  pendingFor(repository: string): Map<Digest, string> {
    const out = new Map<Digest, string>();
    const prefix = `${repository}\n`;
    for (const [key, at] of this.#pending)
      if (key.startsWith(prefix)) out.set(key.slice(prefix.length) as Digest, new Date(at).toISOString());
    return out;
  }

  /** Writes every `flushMs` from now on (unref'd: it never keeps the process alive). */
  start(flushMs: number): void {
    this.#timer ??= setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes what is pending; resolves when every pull recorded so far is stored (or logged lost). */
  flush(): Promise<void> {
    if (this.#pending.size === 0) return this.#writing;
    const batch = this.#pending;
    this.#pending = new Map();
    const pulls = [...batch].map(([key, at]) => {
      const cut = key.indexOf('\n');
      return {
        repository: key.slice(0, cut),
        digest: key.slice(cut + 1) as Digest,
        at: new Date(at).toISOString(),
      };
    });
    this.#writing = this.#writing.then(() =>
      this.meta.recordPulls(pulls).catch((err) => {
        // Kept for the next flush rather than lost, unless newer pulls replaced them meanwhile.
        for (const [key, at] of batch) if (!this.#pending.has(key)) this.#pending.set(key, at);
        this.log.warn(
          { err, pulls: pulls.length },
          'pull times not written yet; retrying with the next batch',
        );
      }),
    );
    return this.#writing;
  }
}
