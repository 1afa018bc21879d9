/**
 * One failed login counts once, whatever the client sends for it. containerd (`ctr --user`)
 * posts the OAuth2 password form to /v2/token and, on a 401, asks GET /v2/token with Basic:
 * measured with a logging proxy, one attempt is these two requests. With the default limit of
 * five failures, the account must pause on the sixth attempt, not the third.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { request } from '../support/http.ts';
import { admin, PASSWORD } from './support.ts';

const SCOPE = 'repository:docker-dev-local/team/app:pull';

describe('failed logins are counted once per attempt', () => {
  let gantry: RunningGantry;
  let containerd: RunningContainerd | undefined;

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    for (const name of ['carla', 'gus', 'cora'])
      await admin(gantry.url, 'POST', '/users', { name, password: PASSWORD }, 201);
  });
  after(async () => {
    await containerd?.stop();
    await gantry?.stop();
  });

  /** One attempt as containerd makes it: the OAuth2 form, then GET with Basic; both statuses. */
  async function containerdAttempt(user: string, password: string): Promise<[number, number]> {
    const form = await request(gantry.url, 'POST', '/v2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'containerd-client',
        grant_type: 'password',
        username: user,
        password,
        scope: SCOPE,
        service: 'gantry',
      }).toString(),
    });
    if (form.status !== 401) return [form.status, 0];
    const basic = await request(
      gantry.url,
      'GET',
      `/v2/token?scope=${encodeURIComponent(SCOPE)}&service=gantry`,
      {
        headers: { Authorization: basicAuth(user, password) },
      },
    );
    return [form.status, basic.status];
  }

  it('five wrong attempts as containerd makes them are refused as wrong; the sixth is paused', async () => {
    for (let i = 1; i <= 5; i++)
      assert.deepEqual(await containerdAttempt('carla', 'wrong-password'), [401, 401], `attempt ${i}`);
    const [sixth] = await containerdAttempt('carla', PASSWORD);
    assert.equal(sixth, 429, 'paused on the sixth attempt, even with the right password');
    const audit = await admin(gantry.url, 'GET', '/audit?action=login.failure&actor=carla', undefined, 200);
    const counted = (audit.events as { outcome: string }[]).filter((e) => e.outcome === 'failure');
    assert.equal(counted.length, 5, 'one audited failure per attempt');
  });

  it('different passwords in the form and in the repeat are two guesses, and count twice', async () => {
    for (let i = 0; i < 2; i++) {
      await request(gantry.url, 'POST', '/v2/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'gus', password: `a-${i}` }).toString(),
      });
      const basic = await request(gantry.url, 'GET', '/v2/token?service=gantry', {
        headers: { Authorization: basicAuth('gus', `b-${i}`) },
      });
      assert.equal(basic.status, 401);
    }
    const fifth = await request(gantry.url, 'POST', '/v2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: 'gus', password: 'c' }).toString(),
    });
    assert.equal(fifth.status, 401, 'the fifth guess is still answered');
    const sixth = await request(gantry.url, 'GET', '/v2/token?service=gantry', {
      headers: { Authorization: basicAuth('gus', 'd') },
    });
    assert.equal(sixth.status, 429, 'the sixth guess waits');
  });

  it('the real ctr: five wrong pulls answer 401, the sixth is paused', {
    skip: containerdUnavailableReason() ?? false,
    timeout: 180_000,
  }, async () => {
    containerd = await startContainerd({ namespace: 'gantry-login-failures' });
    const pull = (password: string) =>
      (containerd as RunningContainerd)
        .ctr(
          [
            'images',
            'pull',
            '--plain-http',
            '--user',
            `cora:${password}`,
            `${gantry.host}/docker-dev-local/team/app:1`,
          ],
          {
            timeoutMs: 60_000,
          },
        )
        .then(
          () => 'pulled',
          (e: { stderr?: Buffer | string; message?: string }) => String(e.stderr ?? e.message),
        );
    for (let i = 1; i <= 5; i++) {
      const out = await pull('wrong-password');
      assert.match(out, /401 Unauthorized/, `attempt ${i}: ${out}`);
      assert.doesNotMatch(out, /429/, `attempt ${i}: ${out}`);
    }
    const sixth = await pull(PASSWORD);
    assert.match(sixth, /429 Too Many Requests/, sixth);
  });
});
