import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../config/logger.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { retentionOf } from './lifecycle-settings.ts';
import type { RetentionService } from './retention-service.ts';

/** The actor the tag history and the audit log name for scheduled runs. */
export const SCHEDULE_ACTOR = 'retention-schedule';

/**
 * Runs each local repository's retention rules at the times of its `retention.schedule` (cron,
 * server time zone UTC). Checks once per `tickMs`; a run that comes due while the previous one of
 * the same repository is still going is skipped, not queued. A schedule changed in the settings
 * takes effect at its next due time. One node only for now: several nodes would each run it
 * (harmless, the second finds nothing left, but wasteful) until a lease row decides.
 */
export class RetentionScheduler {
  #timer: NodeJS.Timeout | undefined;
  #next = new Map<string, { schedule: string; at: number }>();
  #running = new Set<string>();

  constructor(
    private readonly repos: Pick<RepositoryService, 'list'>,
    private readonly retention: Pick<RetentionService, 'run'>,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(tickMs = 30_000): void {
    this.#timer ??= setInterval(() => void this.tick(), tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check: starts the runs that are due. Exposed for tests. */
  async tick(): Promise<void> {
    const now = this.now();
    const seen = new Set<string>();
    const due: Promise<void>[] = [];
    for (const repo of this.repos.list()) {
      const schedule = retentionOf(repo)?.schedule;
      if (schedule === undefined) continue;
      seen.add(repo.key);
      const planned = this.#next.get(repo.key);
      if (planned === undefined || planned.schedule !== schedule) {
        this.#next.set(repo.key, { schedule, at: nextTime(schedule, now) });
        continue;
      }
      if (planned.at > now.getTime() || this.#running.has(repo.key)) continue;
      this.#next.set(repo.key, { schedule, at: nextTime(schedule, now) });
      due.push(this.runOne(repo.key));
    }
    for (const key of this.#next.keys()) if (!seen.has(key)) this.#next.delete(key);
    await Promise.all(due);
  }

  private async runOne(key: string): Promise<void> {
    this.#running.add(key);
    try {
      const run = await this.retention.run(key, { dryRun: false, actor: SCHEDULE_ACTOR });
      this.log.info(
        { repository: key, removed: run.removed, skipped: run.skipped },
        'scheduled retention run',
      );
    } catch (err) {
      this.log.error({ err, repository: key }, 'scheduled retention run failed');
    } finally {
      this.#running.delete(key);
    }
  }
}

function nextTime(schedule: string, after: Date): number {
  return CronExpressionParser.parse(schedule, { currentDate: after, tz: 'UTC' }).next().getTime();
}
