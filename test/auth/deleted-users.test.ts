/**
 * A user deleted and created again under the same name is a different user: every credential
 * issued to the first one (web session cookie, refresh token, registry access token, API token,
 * a password verified and cached minutes ago) is refused at once, and the new one starts with
 * nothing but works with their own credentials. Over HTTP against a running server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, api, PASSWORD } from '../auth/support.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { request } from '../support/http.ts';

const NEW_PASSWORD = 'a-different-horse-77';
const DEV = 'docker-dev-local';

interface Credentials {
  cookie: string;
  refresh: string;
  access: string;
  apiToken: string;
}

describe('deleted users do not come back', () => {
  let gantry: RunningGantry;
  let url = '';
  let old: Credentials;

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    url = gantry.url;
    await admin(url, 'POST', '/users', { name: 'zoe', password: PASSWORD, groups: ['developers'] }, 201);
    old = await credentialsOf('zoe', PASSWORD);
  });
  after(() => gantry?.stop());

  const form = (fields: Record<string, string>) =>
    request(url, 'POST', '/v2/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const me = (headers: Record<string, string>) => request(url, 'GET', '/api/v1/me', { headers });
  const tags = (token: string) =>
    request(url, 'GET', `/v2/${DEV}/team/app/tags/list`, { headers: { authorization: `Bearer ${token}` } });
  const refreshWith = (refresh: string) =>
    form({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      service: 'gantry',
      scope: `repository:${DEV}/team/app:pull`,
    });

  /** Signs in every way a client can, and checks each credential works. */
  async function credentialsOf(user: string, password: string): Promise<Credentials> {
    const session = await request(url, 'POST', '/api/v1/session', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    assert.equal(session.status, 200, session.text());
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const grant = await form({
      grant_type: 'password',
      username: user,
      password,
      service: 'gantry',
      scope: `repository:${DEV}/team/app:pull`,
      access_type: 'offline',
      client_id: 'docker',
    });
    assert.equal(grant.status, 200, grant.text());
    const { refresh_token: refresh, token: access } = grant.json<{ refresh_token: string; token: string }>();
    const token = await admin(url, 'POST', '/tokens', { owner: user, name: 'laptop' }, 201);
    const creds = { cookie, refresh, access, apiToken: token.token as string };
    assert.equal((await me({ cookie })).status, 200, 'session works');
    assert.equal((await me({ authorization: basicAuth(user, password) })).status, 200, 'Basic works');
    assert.equal((await me({ authorization: `Bearer ${creds.apiToken}` })).status, 200, 'API token works');
    assert.equal((await refreshWith(refresh)).status, 200, 'refresh token works');
    const t = await tags(access);
    assert.notEqual(t.status, 401, `registry token works: ${t.text()}`);
    return creds;
  }

  it('after delete and re-create with the same name, every old credential is refused', async () => {
    await admin(url, 'DELETE', '/users/zoe', undefined, 204);
    await admin(url, 'POST', '/users', { name: 'zoe', password: NEW_PASSWORD, groups: ['developers'] }, 201);

    const session = await me({ cookie: old.cookie });
    assert.equal(session.status, 401, `old session cookie: ${session.text()}`);
    const basic = await me({ authorization: basicAuth('zoe', PASSWORD) });
    assert.equal(basic.status, 401, `old password, verified and cached before: ${basic.text()}`);
    const token = await me({ authorization: `Bearer ${old.apiToken}` });
    assert.equal(token.status, 401, `old API token: ${token.text()}`);
    const tokenAsPassword = await me({ authorization: basicAuth('zoe', old.apiToken) });
    assert.equal(tokenAsPassword.status, 401, `old API token as a password: ${tokenAsPassword.text()}`);
    const refresh = await refreshWith(old.refresh);
    assert.equal(refresh.status, 401, `old refresh token: ${refresh.text()}`);
    const registry = await tags(old.access);
    assert.equal(registry.status, 401, `old registry token: ${registry.text()}`);
  });

  it('the new user starts with nothing and works with their own credentials', async () => {
    const tokens = await api(url, 'GET', '/tokens?owner=zoe');
    assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
    assert.deepEqual(tokens.json.tokens, [], 'the old API token is not listed for the new zoe');
    const fresh = await credentialsOf('zoe', NEW_PASSWORD);
    assert.notEqual(fresh.apiToken, old.apiToken);
  });

  it('deleting a user ends their sessions and tokens at once, without re-creating', async () => {
    await admin(url, 'POST', '/users', { name: 'yuri', password: PASSWORD, groups: ['developers'] }, 201);
    const yuri = await credentialsOf('yuri', PASSWORD);
    await admin(url, 'DELETE', '/users/yuri', undefined, 204);
    assert.equal((await me({ cookie: yuri.cookie })).status, 401);
    assert.equal((await me({ authorization: `Bearer ${yuri.apiToken}` })).status, 401);
    assert.equal((await refreshWith(yuri.refresh)).status, 401);
    assert.equal((await tags(yuri.access)).status, 401);
  });
});
