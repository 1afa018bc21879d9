/**
 * The token endpoint and registry tokens over HTTP: Basic and OAuth2 grants, refresh tokens,
 * scope escalation, tampering, revoked API tokens, signing-key rotation, failed-login limits,
 * and that credentials never reach the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient, request } from '../support/http.ts';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from './support.ts';

const PROD = 'docker-prod-local/team/app';
const DEV = 'docker-dev-local/team/app';

async function tokenFor(
  url: string,
  scope: string,
  auth?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url, 'GET', `/v2/token?service=gantry&scope=${encodeURIComponent(scope)}`, {
    headers: auth ? { Authorization: auth } : {},
  });
  return { status: res.status, body: res.json<Record<string, unknown>>() };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

describe('token endpoint', () => {
  let gantry: RunningGantry;
  let ciToken: string;
  const dev = basicAuth('dev', PASSWORD);

  before(async () => {
    gantry = await startGantry({
      openAccess: false,
      env: { GANTRY_LOGIN_MAX_FAILURES: '3', GANTRY_LOG_LEVEL: 'debug' },
    });
    ({ ciToken } = await createRoles(gantry.url));
    const adminClient = new RegistryClient(gantry.url, { Authorization: ADMIN_AUTH });
    await allowDirectWrites(gantry.url, 'docker-prod-local');
    await adminClient.pushImage(PROD, '1.0');
    await adminClient.pushImage(DEV, '1.0');
  });
  after(async () => gantry?.stop());

  it('/v2/ challenges anonymous callers and lets a token or Basic credentials in', async () => {
    const anonymous = await request(gantry.url, 'GET', '/v2/');
    assert.equal(anonymous.status, 401);
    assert.match(
      anonymous.headers.get('www-authenticate') ?? '',
      /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/v2\/token",service="gantry"$/,
    );
    assert.equal((await request(gantry.url, 'GET', '/v2/', { headers: { Authorization: dev } })).status, 200);
    const { body } = await tokenFor(gantry.url, `repository:${DEV}:pull`, dev);
    assert.equal(
      (await request(gantry.url, 'GET', '/v2/', { headers: bearer(body.token as string) })).status,
      200,
    );
    const wrong = await request(gantry.url, 'GET', '/v2/', {
      headers: { Authorization: basicAuth('dev', 'nope-nope') },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json<{ errors: { code: string }[] }>().errors[0]?.code, 'UNAUTHORIZED');
  });

  it('grants only the intersection of the requested scope and the permissions', async () => {
    const { status, body } = await tokenFor(gantry.url, `repository:${PROD}:pull,push,delete`, dev);
    assert.equal(status, 200);
    assert.deepEqual(claimsOf(body.token as string).access, [
      { type: 'repository', name: PROD, actions: ['pull'] },
    ]);
    assert.equal(body.access_token, body.token);
    assert.equal(body.expires_in, 300);
    const push = await request(gantry.url, 'POST', `/v2/${PROD}/blobs/uploads/`, {
      headers: bearer(body.token as string),
    });
    assert.equal(push.status, 403, 'a pull token does not push');
    const pull = await request(gantry.url, 'GET', `/v2/${PROD}/tags/list`, {
      headers: bearer(body.token as string),
    });
    assert.equal(pull.status, 200);
    const otherName = await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, {
      headers: bearer(body.token as string),
    });
    assert.equal(otherName.status, 401, 'the token covers only the name it was issued for');
    assert.match(otherName.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const anonymous = await tokenFor(gantry.url, `repository:${PROD}:pull`);
    assert.equal(anonymous.status, 200, 'anonymous callers get a token too');
    assert.deepEqual(claimsOf(anonymous.body.token as string).access, [
      { type: 'repository', name: PROD, actions: [] },
    ]);
    assert.equal(claimsOf(anonymous.body.token as string).sub, 'anonymous');
  });

  it('refuses a token whose payload was changed', async () => {
    const { body } = await tokenFor(gantry.url, `repository:${PROD}:pull`, dev);
    const [header, payload, signature] = (body.token as string).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.access[0].actions = ['pull', 'push'];
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    const res = await request(gantry.url, 'POST', `/v2/${PROD}/blobs/uploads/`, { headers: bearer(forged) });
    assert.equal(res.status, 401);
    assert.match(res.text(), /signature is invalid/);
  });

  it('refuses a token for another service and a service it does not serve', async () => {
    const wrongService = await request(
      gantry.url,
      'GET',
      `/v2/token?service=elsewhere&scope=repository:${DEV}:pull`,
      {
        headers: { Authorization: dev },
      },
    );
    assert.equal(wrongService.status, 403);
    assert.match(
      wrongService.json<{ errors: { message: string }[] }>().errors[0]?.message ?? '',
      /"gantry", not "elsewhere"/,
    );
    const other = await startGantry({ env: { GANTRY_AUTH_SERVICE: 'other' } });
    try {
      const { status } = await tokenFor(other.url, `repository:${DEV}:pull`, ADMIN_AUTH);
      const foreign = (
        await request(other.url, 'GET', `/v2/token?service=other&scope=repository:${DEV}:pull`, {
          headers: { Authorization: ADMIN_AUTH },
        })
      ).json<{ token: string }>().token;
      assert.equal(status, 403, 'asking the other instance for service gantry fails');
      const res = await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(foreign) });
      assert.equal(res.status, 401, "another instance's token is not accepted");
    } finally {
      await other.stop();
    }
  });

  it('OAuth2: password grant with a refresh token, refresh grant, and a password change ends the refresh token', async () => {
    await admin(
      gantry.url,
      'POST',
      '/users',
      { name: 'olga', password: PASSWORD, groups: ['developers'] },
      201,
    );
    const form = (fields: Record<string, string>) =>
      request(gantry.url, 'POST', '/v2/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const first = await form({
      grant_type: 'password',
      username: 'olga',
      password: PASSWORD,
      service: 'gantry',
      scope: `repository:${DEV}:pull,push`,
      access_type: 'offline',
      client_id: 'docker',
    });
    assert.equal(first.status, 200, first.text());
    const { refresh_token: refresh, token } = first.json<{ refresh_token: string; token: string }>();
    assert.ok(refresh, 'a refresh token comes with access_type=offline');
    assert.deepEqual(claimsOf(token).access, [{ type: 'repository', name: DEV, actions: ['pull', 'push'] }]);
    const again = await form({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      service: 'gantry',
      scope: `repository:${DEV}:pull`,
    });
    assert.equal(again.status, 200, again.text());
    assert.equal(claimsOf(again.json<{ token: string }>().token).sub, 'olga');
    await admin(gantry.url, 'PATCH', '/users/olga', { password: 'a-new-password-9' }, 200);
    const after = await form({ grant_type: 'refresh_token', refresh_token: refresh, service: 'gantry' });
    assert.equal(after.status, 401);
    assert.match(after.text(), /log in again/);
    const badGrant = await form({ grant_type: 'client_credentials' });
    assert.equal(badGrant.status, 405);
    assert.match(badGrant.text(), /grant_type must be password or refresh_token/);
  });

  it('API tokens: as a password on the token endpoint, and revoked means refused, also for tokens issued before', async () => {
    const created = await admin(gantry.url, 'POST', '/tokens', { owner: 'dev', name: 'laptop' }, 201);
    const value = created.token as string;
    const { status, body } = await tokenFor(
      gantry.url,
      `repository:${DEV}:pull,push`,
      basicAuth('dev', value),
    );
    assert.equal(status, 200);
    const jwt = body.token as string;
    assert.equal(claimsOf(jwt).tid, created.id);
    assert.equal(
      (await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(jwt) })).status,
      200,
    );
    assert.equal(
      (await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(value) })).status,
      200,
      'the API token as a Bearer',
    );
    await admin(gantry.url, 'DELETE', `/tokens/${created.id}`, undefined, 200);
    assert.equal(
      (await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(jwt) })).status,
      401,
    );
    assert.equal(
      (await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(value) })).status,
      401,
    );
    assert.equal((await tokenFor(gantry.url, `repository:${DEV}:pull`, basicAuth('dev', value))).status, 401);
    const ci = await tokenFor(gantry.url, `repository:${PROD}:pull`, basicAuth('ci', ciToken));
    assert.deepEqual(
      claimsOf(ci.body.token as string).access,
      [{ type: 'repository', name: PROD, actions: [] }],
      'the CI token is scoped to development',
    );
  });

  it('rotating the signing key keeps old tokens working until retired keys are dropped', async () => {
    const old = (await tokenFor(gantry.url, `repository:${DEV}:pull`, dev)).body.token as string;
    const rotated = await admin(gantry.url, 'POST', '/auth/keys/rotate', {}, 200);
    const fresh = (await tokenFor(gantry.url, `repository:${DEV}:pull`, dev)).body.token as string;
    const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()).kid;
    assert.notEqual(kid(old), kid(fresh));
    assert.equal(kid(fresh), rotated.kid);
    const read = (t: string) => request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, { headers: bearer(t) });
    assert.equal((await read(old)).status, 200, 'a retired key still verifies');
    assert.equal((await read(fresh)).status, 200);
    await admin(gantry.url, 'POST', '/auth/keys/rotate', { dropRetired: true }, 200);
    assert.equal((await read(old)).status, 401, 'dropped keys verify nothing');
    assert.equal((await read(fresh)).status, 401);
    const newest = (await tokenFor(gantry.url, `repository:${DEV}:pull`, dev)).body.token as string;
    assert.equal((await read(newest)).status, 200);
  });

  it('pauses logins after repeated failures, per user, and audits them', async () => {
    await admin(gantry.url, 'POST', '/users', { name: 'mallory', password: PASSWORD }, 201);
    const wrong = basicAuth('mallory', 'guess-guess');
    for (let i = 0; i < 3; i++)
      assert.equal((await tokenFor(gantry.url, 'registry:catalog:*', wrong)).status, 401);
    const limited = await request(gantry.url, 'GET', '/v2/token?service=gantry', {
      headers: { Authorization: basicAuth('mallory', PASSWORD) },
    });
    assert.equal(limited.status, 429, 'even the right password waits');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(limited.json<{ errors: { code: string }[] }>().errors[0]?.code, 'TOOMANYREQUESTS');
    const onApi = await api(gantry.url, 'GET', '/me', undefined, basicAuth('mallory', PASSWORD));
    assert.equal(onApi.status, 429);
    assert.equal(
      (await tokenFor(gantry.url, 'registry:catalog:*', dev)).status,
      200,
      'other users are not affected',
    );
    const audit = await admin(gantry.url, 'GET', '/audit?action=login.failure&actor=mallory', undefined, 200);
    const events = audit.events as { outcome: string }[];
    assert.ok(events.filter((e) => e.outcome === 'failure').length >= 3);
    assert.ok(events.some((e) => e.outcome === 'denied'));
  });

  it('never logs credentials, even at debug level', async () => {
    const secret = 'do-not-log-this-password';
    await request(gantry.url, 'GET', `/v2/${DEV}/tags/list`, {
      headers: { Authorization: basicAuth('dev', secret) },
    });
    await request(gantry.url, 'GET', '/v2/token', {
      headers: { Authorization: basicAuth(ADMIN.user, ADMIN.password) },
    });
    await new Promise((r) => setTimeout(r, 200));
    const log = gantry.output();
    assert.ok(log.length > 0);
    for (const s of [
      secret,
      ADMIN.password,
      PASSWORD,
      ciToken,
      Buffer.from(`dev:${secret}`).toString('base64'),
    ]) {
      assert.equal(log.includes(s), false, `the log contains ${s.slice(0, 6)}…`);
    }
  });
});
