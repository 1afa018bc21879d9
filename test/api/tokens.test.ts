import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { callApi, type Json, problem } from './support.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const bearer = (token: string) => `Bearer ${token}`;
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);
const CAROL = basicAuth('carol', 'carol-password');

/**
 * A module that moves the server's clock forward by GANTRY_TEST_CLOCK_SHIFT_MS, loaded into the
 * server process with NODE_OPTIONS=--import: "the same server, some days later".
 */
const SHIFTED_CLOCK = `
const shift = Number(process.env.GANTRY_TEST_CLOCK_SHIFT_MS ?? 0);
const RealDate = Date;
class ShiftedDate extends RealDate {
  constructor(...args) { if (args.length === 0) super(RealDate.now() + shift); else super(...args); }
  static now() { return RealDate.now() + shift; }
}
globalThis.Date = ShiftedDate;
`;

describe('API tokens', () => {
  let gantry: RunningGantry;
  let dataDir: string;

  const call = (method: string, path: string, options?: { auth?: string; body?: unknown }) =>
    callApi(gantry.url, method, path, options);
  const admin = (method: string, path: string, body?: unknown) => call(method, path, { auth: ADMIN, body });

  /** Creates a token as `auth`; returns its value and view. */
  async function createToken(auth: string, body: Record<string, unknown>) {
    const res = await call('POST', '/tokens', { auth, body });
    assert.equal(res.status, 201, res.text);
    return res.body as Json;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gantry-tokens-'));
    gantry = await startGantry({
      dataDir,
      env: { GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD },
      openAccess: false,
    });
    assert.equal((await admin('POST', '/users', { name: 'carol', password: 'carol-password' })).status, 201);
    assert.equal((await admin('POST', '/users', { name: 'ci-bot', robot: true })).status, 201);
  });
  after(async () => {
    await gantry.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the value once: in the reply to the POST, never in lists or reads', async () => {
    const created = await call('POST', '/tokens', { auth: CAROL, body: { name: 'laptop' } });
    assert.equal(created.status, 201, created.text);
    const { token, id } = created.body;
    assert.match(token, /^gat_[a-z0-9]{16}_[A-Za-z0-9_-]{32}$/);
    assert.equal(created.headers.get('location'), `/api/v1/tokens/${id}`);
    assert.equal(created.body.owner, 'carol');
    assert.equal(created.body.name, 'laptop');
    assert.equal(created.body.targets, null);
    assert.equal(created.body.revokedAt, null);
    const days = (Date.parse(created.body.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days <= 90, `default expiry is 90 days, got ${days}`);
    assert.ok(!('secretHash' in created.body));

    // The secret is base64url and may itself contain '_': take everything after the id.
    const secret = token.slice('gat_'.length + 17);
    assert.equal(secret.length, 32);
    const listed = await call('GET', '/tokens', { auth: CAROL });
    assert.deepEqual(
      listed.body.tokens.map((t: Json) => [t.id, t.name]),
      [[id, 'laptop']],
    );
    const read = await call('GET', `/tokens/${id}`, { auth: CAROL });
    for (const text of [listed.text, read.text]) {
      assert.ok(!text.includes(secret));
      assert.doesNotMatch(text, /secretHash|"token"/);
    }
  });

  it('works as a Basic password and as a Bearer token; /me tells which token', async () => {
    const { token, id } = await createToken(CAROL, { name: 'ci-main' });
    const asBearer = await call('GET', '/me', { auth: bearer(token) });
    assert.equal(asBearer.status, 200);
    assert.deepEqual(asBearer.body, {
      name: 'carol',
      authenticated: true,
      admin: false,
      groups: [],
      via: 'api-token',
      token: { id, name: 'ci-main', targets: null, actions: null },
    });
    const asPassword = await call('GET', '/me', { auth: basicAuth('carol', token) });
    assert.equal(asPassword.body.via, 'basic');
    assert.equal(asPassword.body.token.id, id);
    await problem(
      call('GET', '/me', { auth: basicAuth('admin', token) }),
      401,
      /belongs to carol, not admin/,
    );
    await problem(
      call('GET', '/me', { auth: bearer(`${token.slice(0, -4)}AAAA`) }),
      401,
      /unknown API token/,
    );
  });

  it('revoking makes it fail at once with a 401; others cannot see or revoke your tokens', async () => {
    const { token, id } = await createToken(CAROL, { name: 'to-revoke' });
    assert.equal((await call('GET', '/me', { auth: bearer(token) })).status, 200);
    const mine = await createToken(ADMIN, { name: 'admins-own' });
    await problem(call('DELETE', `/tokens/${mine.id}`, { auth: CAROL }), 404, /does not exist/);
    await problem(call('GET', `/tokens/${mine.id}`, { auth: CAROL }), 404, /does not exist/);

    const revoked = await call('DELETE', `/tokens/${id}`, { auth: CAROL });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.id, id);
    assert.ok(Date.parse(revoked.body.revokedAt) > 0);
    await problem(call('GET', '/me', { auth: bearer(token) }), 401, /API token to-revoke was revoked/);
    await problem(call('GET', '/me', { auth: basicAuth('carol', token) }), 401, /was revoked/);
    // Administrators revoke anyone's.
    const other = await createToken(CAROL, { name: 'admin-revokes' });
    assert.equal((await admin('DELETE', `/tokens/${other.id}`)).status, 200);
    assert.equal((await call('GET', '/me', { auth: bearer(other.token) })).status, 401);
    await problem(
      admin('DELETE', '/tokens/0000000000000000'),
      404,
      /API token 0000000000000000 does not exist/,
    );
  });

  it('an API token cannot create API tokens, even an administrator’s', async () => {
    const { token } = await createToken(ADMIN, { name: 'admin-ci' });
    await problem(
      call('POST', '/tokens', { auth: bearer(token), body: { name: 'more' } }),
      403,
      /API tokens cannot create API tokens/,
    );
    await problem(
      call('POST', '/tokens', { auth: basicAuth('admin', token), body: { name: 'more' } }),
      403,
      /API tokens cannot create/,
    );
    // It may still manage, being an unrestricted token of an administrator.
    assert.equal((await call('GET', '/users', { auth: bearer(token) })).status, 200);
  });

  it('limited tokens narrow their owner: targets and actions', async () => {
    const targeted = await createToken(ADMIN, { name: 'dev-only', targets: ['development'] });
    assert.deepEqual(targeted.targets, ['development']);
    await problem(
      call('GET', '/users', { auth: bearer(targeted.token) }),
      403,
      /only administrators may list users/,
    );
    const readOnly = await createToken(ADMIN, { name: 'read-only', actions: ['read'] });
    await problem(
      call('GET', '/users', { auth: bearer(readOnly.token) }),
      403,
      /does not carry the manage action/,
    );
    const me = await call('GET', '/me', { auth: bearer(readOnly.token) });
    assert.deepEqual(me.body.token.actions, ['read']);

    await problem(
      call('POST', '/tokens', { auth: CAROL, body: { name: 'x', targets: ['nope'] } }),
      400,
      /no such permission targets: nope/,
    );
    await problem(
      call('POST', '/tokens', { auth: CAROL, body: { name: 'x', actions: ['fly'] } }),
      400,
      /unknown actions "fly"/,
    );
    await problem(
      call('POST', '/tokens', { auth: CAROL, body: { name: 'x', expiresInDays: -1 } }),
      400,
      /expiresInDays must be a whole number/,
    );
    await problem(call('POST', '/tokens', { auth: CAROL, body: {} }), 400, /name must be 1-128 characters/);
    await problem(call('POST', '/tokens', { body: { name: 'x' } }), 401, /sign in/);
  });

  it('tokens for other users are for administrators; listing others’ tokens too', async () => {
    await problem(
      call('POST', '/tokens', { auth: CAROL, body: { name: 'x', owner: 'admin' } }),
      403,
      /only administrators may create API tokens for other users/,
    );
    const robot = await createToken(ADMIN, { name: 'pipeline', owner: 'ci-bot' });
    assert.equal(robot.owner, 'ci-bot');
    const me = await call('GET', '/me', { auth: bearer(robot.token) });
    assert.equal(me.body.name, 'ci-bot');
    await problem(admin('POST', '/tokens', { name: 'x', owner: 'ghost' }), 400, /user ghost does not exist/);

    const robots = await admin('GET', '/tokens?owner=ci-bot');
    assert.deepEqual(
      robots.body.tokens.map((t: Json) => t.name),
      ['pipeline'],
    );
    const all = await admin('GET', '/tokens?all=true');
    assert.ok(all.body.tokens.some((t: Json) => t.owner === 'carol'));
    assert.ok(all.body.tokens.some((t: Json) => t.owner === 'admin'));
    assert.doesNotMatch(all.text, /gat_|secretHash/);
    const own = await admin('GET', '/tokens');
    assert.ok(own.body.tokens.every((t: Json) => t.owner === 'admin'));
    await problem(call('GET', '/tokens?owner=ci-bot', { auth: CAROL }), 403, /only administrators/);
    await problem(call('GET', '/tokens?all=true', { auth: CAROL }), 403, /only administrators/);
  });

  it('deleting a user ends their tokens', async () => {
    const { token } = await createToken(ADMIN, { name: 'doomed', owner: 'ci-bot' });
    assert.equal((await call('GET', '/me', { auth: bearer(token) })).status, 200);
    assert.equal((await admin('DELETE', '/users/ci-bot')).status, 204);
    assert.equal((await call('GET', '/me', { auth: bearer(token) })).status, 401);
    assert.deepEqual((await admin('GET', '/tokens?owner=ci-bot')).body.tokens, []);
  });

  it('expired tokens stop working; tokens made with expiresInDays 0 never expire', async () => {
    const shortLived = await createToken(CAROL, { name: 'one-day', expiresInDays: 1 });
    const longer = await createToken(CAROL, { name: 'thirty-days', expiresInDays: 30 });
    const forever = await createToken(CAROL, { name: 'forever', expiresInDays: 0 });
    assert.equal(forever.expiresAt, null);
    assert.equal((await call('GET', '/me', { auth: bearer(shortLived.token) })).status, 200);

    // The same server, two days later.
    await gantry.stop({ keepData: true });
    const clock = join(dataDir, 'shifted-clock.mjs');
    await writeFile(clock, SHIFTED_CLOCK);
    gantry = await startGantry({
      dataDir,
      openAccess: false,
      env: {
        GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD,
        GANTRY_TEST_CLOCK_SHIFT_MS: String(2 * 86_400_000),
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(clock).href}`.trim(),
      },
    });
    await problem(
      call('GET', '/me', { auth: bearer(shortLived.token) }),
      401,
      /API token one-day expired at /,
    );
    assert.equal((await call('GET', '/me', { auth: bearer(longer.token) })).status, 200);
    assert.equal((await call('GET', '/me', { auth: bearer(forever.token) })).status, 200);
    const listed = await call('GET', '/tokens', { auth: CAROL });
    const oneDay = listed.body.tokens.find((t: Json) => t.name === 'one-day');
    assert.ok(oneDay.expiresAt < new Date(Date.now() + 2 * 86_400_000).toISOString());
  });
});
