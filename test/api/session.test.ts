/**
 * Web UI sessions: POST /api/v1/session sets an HttpOnly, SameSite=Strict cookie and returns the
 * CSRF token; the cookie authenticates /api/v1 (never /v2); changes need X-CSRF-Token; DELETE
 * signs out; a password change or disabling the account ends the session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, PASSWORD } from '../auth/support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { request } from '../support/http.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: Json;
}

describe('web UI sessions', () => {
  let gantry: RunningGantry;
  let url = '';

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    url = gantry.url;
    for (const name of ['alice', 'bob', 'carol']) {
      await admin(url, 'POST', '/users', { name, password: PASSWORD, groups: ['developers'] }, 201);
    }
  });
  after(() => gantry?.stop());

  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    request(url, method, path, {
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const signIn = async (user: string, password = PASSWORD, headers: Record<string, string> = {}) => {
    const res = await call('POST', '/api/v1/session', headers, { user, password });
    assert.equal(res.status, 200, res.text());
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0] as string;
    const body = res.json<Json>();
    return { cookie, csrf: body.csrfToken as string, setCookie, body } satisfies SignedIn;
  };

  it('signs in with a password: an HttpOnly, SameSite=Strict cookie for 12 hours and a CSRF token', async () => {
    const s = await signIn('alice');
    assert.match(s.cookie, /^gantry_session=[\w-]+\.[\w-]+\.[\w-]+$/);
    const attributes = s.setCookie.split(';').map((a) => a.trim());
    for (const a of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']) {
      assert.ok(attributes.includes(a), `${a} missing in ${s.setCookie}`);
    }
    assert.ok(!attributes.includes('Secure'), 'plain HTTP gets no Secure attribute');
    assert.deepEqual(Object.keys(s.body).sort(), ['admin', 'csrfToken', 'groups', 'name']);
    assert.equal(s.body.name, 'alice');
    assert.equal(s.body.admin, false);
    assert.deepEqual(s.body.groups, ['developers']);
    assert.ok(s.csrf.length >= 32);

    const me = await call('GET', '/api/v1/me', { cookie: s.cookie });
    assert.equal(me.status, 200, me.text());
    const body = me.json<Json>();
    assert.equal(body.name, 'alice');
    assert.equal(body.authenticated, true);
    assert.equal(body.via, 'session');
    assert.equal(body.csrfToken, s.csrf, 'a reloaded page recovers the CSRF token from /me');
  });

  it('refuses wrong credentials with 401 and no browser challenge, and rate-limits them', async () => {
    const wrong = await call('POST', '/api/v1/session', {}, { user: 'bob', password: 'not-it' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(wrong.headers.get('www-authenticate'), null);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const missing = await call('POST', '/api/v1/session', {}, { user: 'bob' });
    assert.equal(missing.status, 400);
    for (let i = 0; i < 5; i++) await call('POST', '/api/v1/session', {}, { user: 'bob', password: 'nope' });
    const limited = await call('POST', '/api/v1/session', {}, { user: 'bob', password: PASSWORD });
    assert.equal(limited.status, 429, limited.text());
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });

  it('sets Secure when the request came over https through a trusted proxy', async () => {
    const proxied = await startGantry({ openAccess: false, env: { GANTRY_TRUST_PROXY: 'true' } });
    try {
      const res = await request(proxied.url, 'POST', '/api/v1/session', {
        headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
        body: JSON.stringify({ user: 'admin', password: 'gantry-test-admin' }),
      });
      assert.equal(res.status, 200, res.text());
      assert.match(res.headers.get('set-cookie') ?? '', /; Secure(;|$)/);
    } finally {
      await proxied.stop();
    }
  });

  it('needs X-CSRF-Token on changes, not on reads', async () => {
    const s = await signIn('carol');
    const read = await call('GET', '/api/v1/groups', { cookie: s.cookie });
    assert.equal(read.status, 200, read.text());
    const body = { currentPassword: PASSWORD, password: 'carols-new-password' };
    const attempts: Record<string, string>[] = [
      { cookie: s.cookie },
      { cookie: s.cookie, 'x-csrf-token': 'wrong' },
    ];
    for (const headers of attempts) {
      const refused = await call('PATCH', '/api/v1/me', headers, body);
      assert.equal(refused.status, 403, refused.text());
      assert.match(refused.json<Json>().detail, /missing or wrong CSRF token/);
    }
    const del = await call('DELETE', '/api/v1/repositories/docker-dev-local', { cookie: s.cookie });
    assert.equal(del.status, 403);
    assert.match(del.json<Json>().detail, /CSRF/);
    // With the token the request goes through to the usual checks.
    const create = await call(
      'POST',
      '/api/v1/repositories',
      { cookie: s.cookie, 'x-csrf-token': s.csrf },
      { key: 'carol-local' },
    );
    assert.equal(create.status, 403, create.text());
    assert.match(create.json<Json>().detail, /carol may not manage/);
    const admin = await signIn('admin', 'gantry-test-admin');
    const made = await call(
      'POST',
      '/api/v1/repositories',
      { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      { key: 'session-local' },
    );
    assert.equal(made.status, 201, made.text());
    // Basic credentials need no CSRF token (no cookie, no ambient authority).
    const basic = `Basic ${Buffer.from('admin:gantry-test-admin').toString('base64')}`;
    const gone = await call('DELETE', '/api/v1/repositories/session-local', { authorization: basic });
    assert.equal(gone.status, 204);
  });

  it('an Authorization header wins over the cookie', async () => {
    const s = await signIn('alice');
    const basic = `Basic ${Buffer.from(`carol:${PASSWORD}`).toString('base64')}`;
    const me = await call('GET', '/api/v1/me', { cookie: s.cookie, authorization: basic });
    assert.equal(me.status, 200, me.text());
    assert.equal(me.json<Json>().name, 'carol');
    assert.equal(me.json<Json>().via, 'basic');
    assert.equal(me.json<Json>().csrfToken, undefined);
  });

  it('signs out: DELETE clears the cookie', async () => {
    const s = await signIn('alice');
    const out = await call('DELETE', '/api/v1/session', { cookie: s.cookie });
    assert.equal(out.status, 204);
    const cleared = out.headers.get('set-cookie') ?? '';
    assert.match(cleared, /^gantry_session=;/);
    assert.match(cleared, /Max-Age=0/);
    assert.match(cleared, /HttpOnly/);
    // Without the cookie the browser is anonymous again.
    const me = await call('GET', '/api/v1/me');
    assert.equal(me.json<Json>().authenticated, false);
    // A copy of the cookie kept from before is worthless: the session ended on the server.
    const replay = await call('GET', '/api/v1/me', { cookie: s.cookie });
    assert.equal(replay.status, 401, replay.text());
    assert.match(replay.json<Json>().detail, /you signed out of this session; sign in again/);
    // Other sessions of the same user go on.
    const other = await signIn('alice');
    const again = await call('DELETE', '/api/v1/session', { cookie: s.cookie });
    assert.equal(again.status, 204, 'signing out twice is harmless');
    assert.equal((await call('GET', '/api/v1/me', { cookie: other.cookie })).json<Json>().name, 'alice');
    const audit = await admin(url, 'GET', '/audit?action=session.end&actor=alice', undefined, 200);
    assert.equal((audit.events as Json[]).length, 1, JSON.stringify(audit));
  });

  it('a password change ends the session; a broken cookie is a 401 without a challenge', async () => {
    const s = await signIn('alice');
    const change = await call(
      'PATCH',
      '/api/v1/me',
      { cookie: s.cookie, 'x-csrf-token': s.csrf },
      { currentPassword: PASSWORD, password: 'alices-new-password' },
    );
    assert.equal(change.status, 200, change.text());
    const after = await call('GET', '/api/v1/me', { cookie: s.cookie });
    assert.equal(after.status, 401, after.text());
    assert.match(after.json<Json>().detail, /session has ended/);
    assert.equal(after.headers.get('www-authenticate'), null);
    assert.match(
      after.headers.get('set-cookie') ?? '',
      /^gantry_session=; .*Max-Age=0/,
      'the dead cookie is dropped',
    );
    // Signing in again works with the stale cookie still present.
    const again = await call(
      'POST',
      '/api/v1/session',
      { cookie: s.cookie, 'content-type': 'application/json' },
      { user: 'alice', password: 'alices-new-password' },
    );
    assert.equal(again.status, 200, again.text());

    const tampered = await call('GET', '/api/v1/me', { cookie: `${s.cookie.slice(0, -4)}AAAA` });
    assert.equal(tampered.status, 401);
    assert.match(tampered.json<Json>().detail, /session is not valid/);
  });

  it('disabling the account ends the session', async () => {
    await admin(url, 'POST', '/users', { name: 'dave', password: PASSWORD }, 201);
    const s = await signIn('dave');
    assert.equal((await call('GET', '/api/v1/me', { cookie: s.cookie })).status, 200);
    await admin(url, 'PATCH', '/users/dave', { disabled: true }, 200);
    assert.equal((await call('GET', '/api/v1/me', { cookie: s.cookie })).status, 401);
  });

  it('/v2 ignores the cookie', async () => {
    const s = await signIn('admin', 'gantry-test-admin');
    const base = await call('GET', '/v2/', { cookie: s.cookie });
    assert.equal(base.status, 401);
    const catalog = await call('GET', '/v2/_catalog', { cookie: s.cookie });
    assert.ok(catalog.status === 401 || catalog.json<Json>().repositories.length === 0, catalog.text());
    const push = await call('POST', '/v2/docker-dev-local/app/blobs/uploads/', { cookie: s.cookie });
    assert.equal(push.status, 401);
  });

  it('browser requests get 401 problems without WWW-Authenticate', async () => {
    const fromScripts: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'empty' },
      { 'x-requested-with': 'XMLHttpRequest' },
    ];
    for (const headers of fromScripts) {
      const api = await call('GET', '/api/v1/users', headers);
      assert.equal(api.status, 401);
      assert.equal(api.headers.get('www-authenticate'), null, JSON.stringify(headers));
    }
    const cli = await call('GET', '/api/v1/users');
    assert.equal(cli.status, 401);
    assert.match(cli.headers.get('www-authenticate') ?? '', /^Basic/);
  });
});
