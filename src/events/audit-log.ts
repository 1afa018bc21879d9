import type { Logger } from '../config/logger.ts';
import type { AuditEvent, AuditOutcome, AuditQuery } from '../meta/identity-records.ts';
import type { AuditMeta } from '../meta/identity-store.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  repository?: string | null;
  outcome?: AuditOutcome;
  address?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Events are written in batches this often, so a burst of pushes costs one commit per batch. */
const FLUSH_MS = 25;

/**
 * The audit log: who did what to what, when, from where, and whether it was allowed. Recording
 * never blocks or fails the request: events are batched and appended shortly after (a crash can
 * lose the last FLUSH_MS of events, never a change's own data); `flush()` waits for them.
 */
export class AuditLog {
  private pending: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: AuditMeta,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(entry: AuditEntry): void {
    this.pending.push({
      at: this.now().toISOString(),
      actor: entry.actor,
      action: entry.action,
      repository: entry.repository ?? null,
      target: entry.target,
      outcome: entry.outcome ?? 'success',
      address: entry.address ?? null,
      detail: entry.detail ?? null,
    });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is pending; resolves when everything recorded so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() =>
        this.meta
          .append(batch)
          .catch((err) => this.log.error({ err, events: batch.length }, 'audit events lost')),
      );
    }
    return this.writing;
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    await this.flush();
    return this.meta.query(query);
  }
}
