import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../../config/logger.ts';

/** Why `expression` is no cron expression, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The first time after `from` the expression names (in UTC). */
export function nextRun(expression: string, from: Date): Date {
  return CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: from }).next().toDate();
}

/** setTimeout's ceiling; a later time is reached by waiting in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `job` at every time the cron expression names, in UTC, until stopped. A job still
 * running when the next time comes is not started twice: the next start is computed after it
 * ends. Errors are logged; the schedule goes on.
 */
export function startSchedule(options: { expression: string; job: () => Promise<void>; log: Logger }): {
  stop(): void;
} {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const plan = (from: Date) => {
    if (stopped) return;
    const at = nextRun(options.expression, from);
    const wait = () => {
      const delay = at.getTime() - Date.now();
      if (delay > MAX_DELAY_MS) {
        timer = setTimeout(wait, MAX_DELAY_MS);
      } else {
        timer = setTimeout(
          () => {
            options
              .job()
              .catch((err: unknown) => options.log.warn({ err }, 'scheduled job failed'))
              .finally(() => plan(new Date(Math.max(Date.now(), at.getTime()))));
          },
          Math.max(0, delay),
        );
      }
      timer.unref();
    };
    wait();
  };
  plan(new Date());
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
