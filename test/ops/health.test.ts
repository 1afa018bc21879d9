/**
 * GET /healthz and GET /readyz (issue #16) on a running server: liveness answers without asking
 * anything; readiness checks that the database answers and the storage takes writes, and says
 * which part failed (503) until it recovers. Probes are not logged at info level.
 */
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningGantry, startGantry } from '../support/gantry.ts';

describe('health and readiness probes', () => {
  let gantry: RunningGantry;
  before(async () => {
    gantry = await startGantry({ env: { GANTRY_LOG_LEVEL: 'info' } });
  });
  after(() => gantry?.stop());

  const get = async (path: string) => {
    const res = await fetch(`${gantry.url}${path}`);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  it('/healthz answers 200 without credentials', async () => {
    const res = await get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('/readyz is 200 with database and storage checked', async () => {
    const res = await get('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ready: true, checks: { database: 'ok', storage: 'ok' } });
  });

  it('/readyz is 503 naming the storage while it takes no writes, and 200 again after', async () => {
    const tmp = join(gantry.dataDir, 'storage', 'tmp');
    await rename(tmp, `${tmp}.away`);
    try {
      const res = await get('/readyz');
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, {
        ready: false,
        reason: 'the storage does not take writes',
        checks: { database: 'ok', storage: 'failed' },
      });
      // The reason is for the operator's log, not the caller: no paths or error codes here.
      assert.doesNotMatch(JSON.stringify(res.body), /ENOENT|\/tmp/);
      // Liveness does not depend on it: restarting the process would not help.
      assert.equal((await get('/healthz')).status, 200);
    } finally {
      await rename(`${tmp}.away`, tmp);
    }
    assert.equal((await get('/readyz')).status, 200);
    const logged = () =>
      gantry
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The log reaches us through the child's stdout, a little after the answers: wait for it.
    for (let i = 0; i < 50 && !logged().some((l) => l.msg === 'ready again'); i++) await sleep(100);
    const lines = logged();
    // One error when readiness was lost, one line when it came back; not one per probe.
    assert.equal(lines.filter((l) => l.msg === 'not ready').length, 1);
    assert.equal(lines.filter((l) => l.msg === 'ready again').length, 1);
    assert.equal(
      lines.filter((l) => l.msg === 'request' && (l.path === '/readyz' || l.path === '/healthz')).length,
      0,
      'probes are logged at debug only',
    );
  });
});
