import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RetentionScheduler, SCHEDULE_ACTOR } from '../../src/lifecycle/retention-scheduler.ts';
import type { RetentionRun } from '../../src/lifecycle/retention-service.ts';
import type { RepositoryRecord } from '../../src/meta/records.ts';

const repo = (key: string, retention: unknown): RepositoryRecord => ({
  key,
  kind: 'local',
  description: '',
  createdAt: '2026-01-01T00:00:00.000Z',
  settings: retention === undefined ? {} : { retention },
});

describe('retention schedule', () => {
  it('runs each repository at the times of its cron expression, once per due time, as retention-schedule', async () => {
    let now = new Date('2026-03-01T02:59:00.000Z');
    const repos = [
      repo('nightly', { schedule: '0 3 * * *', rules: [{ keep: 'last', count: 1 }] }),
      repo('on-demand', { rules: [{ keep: 'last', count: 1 }] }),
      repo('none', undefined),
    ];
    const runs: string[] = [];
    const scheduler = new RetentionScheduler(
      { list: () => repos },
      {
        async run(key, options): Promise<RetentionRun> {
          runs.push(`${key} by ${options.actor} at ${now.toISOString()}`);
          return {
            repository: key,
            dryRun: options.dryRun,
            items: [],
            removed: { tags: 0, manifests: 0 },
            skipped: 0,
          };
        },
      },
      pino({ level: 'silent' }),
      () => now,
    );
    await scheduler.tick(); // plans 03:00
    now = new Date('2026-03-01T02:59:40.000Z');
    await scheduler.tick();
    assert.deepEqual(runs, []);
    now = new Date('2026-03-01T03:00:10.000Z');
    await scheduler.tick();
    now = new Date('2026-03-01T03:00:40.000Z');
    await scheduler.tick(); // the same due time does not run twice
    assert.deepEqual(runs, [`nightly by ${SCHEDULE_ACTOR} at 2026-03-01T03:00:10.000Z`]);
    now = new Date('2026-03-02T03:00:05.000Z');
    await scheduler.tick();
    assert.equal(runs.length, 2);
  });
});
