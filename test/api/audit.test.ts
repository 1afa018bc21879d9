import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type Json, problem } from './support.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
const DAVE_PASSWORD = 'dave-secret-password-1';
const DAVE_NEW_PASSWORD = 'dave-secret-password-2';

describe('audit log and signing keys API', () => {
  let gantry: RunningGantry;
  /** Token values handed out during the tests: they must never show up anywhere else. */
  const secrets = [ADMIN_PASSWORD, DAVE_PASSWORD, DAVE_NEW_PASSWORD, 'wrong-guess-1'];

  async function call(method: string, path: string, options: { auth?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = options.auth;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${gantry.url}${path.startsWith('/v2/') ? '' : '/api/v1'}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') && text !== '';
    return { status: res.status, text, body: (json ? JSON.parse(text) : undefined) as Json };
  }
  const admin = (method: string, path: string, body?: unknown) => call(method, path, { auth: ADMIN, body });
  const events = async (query: string) => {
    const res = await admin('GET', `/audit${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.events as Json[];
  };

  before(async () => {
    gantry = await startGantry({
      env: { GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD, GANTRY_LOG_LEVEL: 'debug' },
      openAccess: false,
    });
  });
  after(() => gantry.stop());

  it('records every identity change with actor, target and address, and no secrets', async () => {
    assert.equal((await admin('POST', '/users', { name: 'dave', password: DAVE_PASSWORD })).status, 201);
    assert.equal((await admin('PATCH', '/users/dave', { email: 'dave@example.com' })).status, 200);
    assert.equal((await admin('POST', '/groups', { name: 'ops', members: ['dave'] })).status, 201);
    assert.equal((await admin('PATCH', '/groups/ops', { description: 'Operations' })).status, 200);
    const target = { name: 'ops-deploy', repositories: ['docker-dev-local'], groups: { ops: ['deploy'] } };
    assert.equal((await admin('POST', '/permissions', target)).status, 201);
    assert.equal(
      (await admin('PUT', '/permissions/ops-deploy', { ...target, anonymous: ['read'] })).status,
      200,
    );
    const dave = basicAuth('dave', DAVE_PASSWORD);
    const issued = await call('POST', '/tokens', { auth: dave, body: { name: 'dave-ci' } });
    assert.equal(issued.status, 201);
    secrets.push(issued.body.token);
    assert.equal((await call('DELETE', `/tokens/${issued.body.id}`, { auth: dave })).status, 200);
    const changed = await call('PATCH', '/me', {
      auth: dave,
      body: { currentPassword: DAVE_PASSWORD, password: DAVE_NEW_PASSWORD },
    });
    assert.equal(changed.status, 200);
    assert.equal((await admin('DELETE', '/permissions/ops-deploy')).status, 204);
    assert.equal((await admin('DELETE', '/groups/ops')).status, 204);

    const all = await events('?limit=1000');
    const summary = all.map((e) => [e.actor, e.action, e.target, e.outcome]).reverse();
    assert.deepEqual(summary, [
      ['admin', 'user.create', 'dave', 'success'],
      ['admin', 'user.update', 'dave', 'success'],
      ['admin', 'group.create', 'ops', 'success'],
      ['admin', 'group.update', 'ops', 'success'],
      ['admin', 'permission.create', 'ops-deploy', 'success'],
      ['admin', 'permission.update', 'ops-deploy', 'success'],
      ['dave', 'token.issue', issued.body.id, 'success'],
      ['dave', 'token.revoke', issued.body.id, 'success'],
      ['dave', 'password.change', 'dave', 'success'],
      ['admin', 'permission.delete', 'ops-deploy', 'success'],
      ['admin', 'group.delete', 'ops', 'success'],
    ]);
    assert.ok(
      all.every((e) => e.address === '127.0.0.1' && typeof e.id === 'number' && Date.parse(e.at) > 0),
    );
    const tokenIssue = all.find((e) => e.action === 'token.issue');
    assert.deepEqual(tokenIssue.detail, { id: issued.body.id, name: 'dave-ci', owner: 'dave' });
    const { text } = await admin('GET', '/audit?limit=1000');
    for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret is in the audit log');
    assert.doesNotMatch(text, /argon2|secretHash/);
  });

  it('records failed logins as login.failure, without the password tried', async () => {
    await problem(
      call('GET', '/me', { auth: basicAuth('dave', 'wrong-guess-1') }),
      401,
      /wrong user name or password/,
    );
    await problem(
      call('GET', '/me', { auth: `Bearer gat_0123456789abcdef_${'x'.repeat(32)}` }),
      401,
      /unknown API token/,
    );
    const failures = await events('?action=login.failure');
    assert.deepEqual(
      failures.map((e) => [e.actor, e.target, e.outcome, e.detail.reason]),
      [
        ['unknown', 'api-token', 'failure', 'unknown API token'],
        ['dave', 'dave', 'failure', 'wrong user name or password'],
      ],
    );
    assert.deepEqual(
      (await events('?outcome=failure&actor=dave')).map((e) => e.action),
      ['login.failure'],
    );
  });

  it('filters by actor, action prefix, repository and time, and pages with before', async () => {
    const byDave = await events('?actor=dave');
    assert.ok(byDave.length >= 3 && byDave.every((e) => e.actor === 'dave'));
    const userActions = await events('?action=user.');
    assert.deepEqual(
      userActions.map((e) => e.action),
      ['user.update', 'user.create'],
    );
    assert.deepEqual(
      (await events('?action=user')).map((e) => e.action),
      [],
      'without the dot, an action matches exactly',
    );

    assert.equal((await admin('POST', '/repositories', { key: 'docker-audit-local' })).status, 201);
    const inRepo = await events('?repository=docker-audit-local');
    assert.deepEqual(
      inRepo.map((e) => [e.action, e.repository]),
      [['repository.create', 'docker-audit-local']],
    );

    await sleep(20);
    const middle = new Date().toISOString();
    await sleep(20);
    assert.equal((await admin('POST', '/users', { name: 'late', password: 'late-password' })).status, 201);
    assert.deepEqual(
      (await events(`?since=${middle}`)).map((e) => [e.action, e.target]),
      [['user.create', 'late']],
    );
    const before = await events(`?until=${middle}&action=user.`);
    assert.ok(!before.some((e) => e.target === 'late'));
    assert.ok(before.some((e) => e.target === 'dave'));
    assert.deepEqual(await events('?since=2000-01-01&until=2000-01-02'), []);

    const everything = await events('?limit=1000');
    const first = await admin('GET', '/audit?action=user.&limit=2');
    assert.deepEqual(
      first.body.events.map((e: Json) => e.target),
      ['late', 'dave'],
    );
    const lastId = first.body.events[1].id;
    assert.equal(first.body.next, `/api/v1/audit?action=user.&limit=2&before=${lastId}`);
    const second = await call('GET', first.body.next.replace('/api/v1', ''), { auth: ADMIN });
    assert.deepEqual(
      second.body.events.map((e: Json) => [e.action, e.target]),
      [['user.create', 'dave']],
    );
    assert.equal(second.body.next, undefined);
    const page = await events(`?limit=3&before=${everything[2].id}`);
    assert.deepEqual(
      page.map((e) => e.id),
      everything.slice(3, 6).map((e) => e.id),
    );
  });

  it('refuses bad queries, non-administrators (403) and anonymous callers (401)', async () => {
    await problem(admin('GET', '/audit?since=yesterday'), 400, /since must be an ISO 8601 time/);
    await problem(admin('GET', '/audit?until=2024-13-45T99:00:00Z'), 400, /until must be an ISO 8601 time/);
    await problem(admin('GET', '/audit?limit=5000'), 400, /limit must be a whole number from 1 to 1000/);
    await problem(admin('GET', '/audit?limit=0'), 400, /limit must be/);
    await problem(admin('GET', '/audit?before=x'), 400, /before must be a whole number/);
    await problem(admin('GET', '/audit?outcome=meh'), 400, /outcome must be one of success, denied, failure/);
    const dave = basicAuth('dave', DAVE_NEW_PASSWORD);
    await problem(call('GET', '/audit', { auth: dave }), 403, /only administrators may read the audit log/);
    await problem(call('GET', '/audit'), 401, /sign in/);
    await problem(call('GET', '/auth/keys', { auth: dave }), 403, /only administrators/);
    await problem(call('POST', '/auth/keys/rotate', { auth: dave }), 403, /only administrators/);
  });

  it('rotates signing keys; dropping retired keys ends the registry tokens they signed', async () => {
    const keys = await admin('GET', '/auth/keys');
    assert.equal(keys.body.keys.length, 1);
    const [key] = keys.body.keys;
    assert.equal(key.retiredAt, null);
    assert.equal(key.jwk.kid, key.kid);
    assert.equal(key.jwk.d, undefined, 'never the private key');

    const issued = await call('GET', '/v2/token?service=gantry', { auth: ADMIN });
    assert.equal(issued.status, 200, issued.text);
    const registryToken = `Bearer ${issued.body.token}`;
    // Registry tokens are for /v2 (the management API refuses them).
    const v2 = async () => (await call('GET', '/v2/', { auth: registryToken })).status;
    assert.equal(await v2(), 200);

    const rotated = await admin('POST', '/auth/keys/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.body.kid, key.kid);
    const after = (await admin('GET', '/auth/keys')).body.keys;
    assert.deepEqual(
      after.map((k: Json) => [k.kid, k.retiredAt === null]),
      [
        [key.kid, false],
        [rotated.body.kid, true],
      ],
    );
    // Retired keys still verify what they signed.
    assert.equal(await v2(), 200);

    const dropped = await admin('POST', '/auth/keys/rotate', { dropRetired: true });
    assert.equal(dropped.status, 200, dropped.text);
    assert.deepEqual(dropped.body.dropped.sort(), [key.kid, rotated.body.kid].sort());
    assert.deepEqual(
      (await admin('GET', '/auth/keys')).body.keys.map((k: Json) => k.kid),
      [dropped.body.kid],
    );
    assert.equal(await v2(), 401);
    await problem(
      admin('POST', '/auth/keys/rotate', { dropRetired: 'yes' }),
      400,
      /dropRetired must be true or false/,
    );

    const rotations = await events('?action=key.rotate');
    assert.deepEqual(
      rotations.map((e) => [e.actor, e.target]),
      [
        ['admin', dropped.body.kid],
        ['admin', rotated.body.kid],
      ],
    );
  });

  it('never writes passwords or token values to the server log', async () => {
    await gantry.stop({ keepData: false });
    const log = gantry.output();
    for (const secret of secrets) assert.ok(!log.includes(secret), 'a secret is in the server log');
  });
});
