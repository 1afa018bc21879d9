import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { callApi, type Json, problem } from './support.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const ADMIN = basicAuth('admin', ADMIN_PASSWORD);

describe('identity API: me, users, groups, permission targets', () => {
  let gantry: RunningGantry;

  const call = (method: string, path: string, options?: { auth?: string; body?: unknown }) =>
    callApi(gantry.url, method, path, options);
  const admin = (method: string, path: string, body?: unknown) => call(method, path, { auth: ADMIN, body });

  before(async () => {
    gantry = await startGantry({ env: { GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD }, openAccess: false });
  });
  after(() => gantry.stop());

  it('GET /me says who the caller is, anonymous included; wrong credentials are a 401', async () => {
    const anonymous = await call('GET', '/me');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.body, {
      name: 'anonymous',
      authenticated: false,
      admin: false,
      groups: [],
      via: 'none',
    });
    const me = await admin('GET', '/me');
    assert.deepEqual(me.body, { name: 'admin', authenticated: true, admin: true, groups: [], via: 'basic' });
    const wrong = await call('GET', '/me', { auth: basicAuth('admin', 'not-the-password') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic realm="gantry"/);
    assert.match(wrong.body.detail, /wrong user name or password/);
  });

  it('administrators create, read, change and delete users; views never carry the password hash', async () => {
    const created = await admin('POST', '/users', {
      name: 'alice',
      password: 'alice-password-1',
      email: 'alice@example.com',
      groups: ['readers'],
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/api/v1/users/alice');
    assert.deepEqual(
      { ...created.body, createdAt: undefined, updatedAt: undefined },
      {
        name: 'alice',
        email: 'alice@example.com',
        admin: false,
        disabled: false,
        robot: false,
        groups: ['readers'],
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    const robot = await admin('POST', '/users', { name: 'ci-bot', robot: true });
    assert.equal(robot.status, 201);
    assert.equal(robot.body.robot, true);

    const list = await admin('GET', '/users');
    assert.deepEqual(
      list.body.users.map((u: Json) => [u.name, u.admin, u.robot]),
      [
        ['admin', true, false],
        ['alice', false, false],
        ['ci-bot', false, true],
      ],
    );
    assert.doesNotMatch(JSON.stringify(list.body), /passwordHash|argon2/);
    assert.equal((await admin('GET', '/users/alice')).body.email, 'alice@example.com');

    const changed = await admin('PATCH', '/users/alice', { email: 'a@example.org', groups: ['developers'] });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.email, 'a@example.org');
    assert.deepEqual(changed.body.groups, ['developers']);
    assert.doesNotMatch(JSON.stringify(changed.body), /passwordHash|argon2/);

    assert.equal((await admin('POST', '/users', { name: 'temp', password: 'temp-password' })).status, 201);
    assert.equal((await admin('DELETE', '/users/temp')).status, 204);
    await problem(admin('GET', '/users/temp'), 404, /user temp does not exist/);
  });

  it('refuses bad users with a detail that says what to send', async () => {
    await problem(
      admin('POST', '/users', { name: 'Bad Name', password: 'long-enough' }),
      400,
      /user name "Bad Name" is invalid/,
    );
    await problem(admin('POST', '/users', { name: 'bob', password: 'short' }), 400, /at least 8 characters/);
    await problem(admin('POST', '/users', { name: 'bob' }), 400, /password must be a string.*robot/);
    await problem(admin('POST', '/users', { name: 'anonymous', password: 'long-enough' }), 400, /reserved/);
    await problem(
      admin('POST', '/users', { name: 'bob', password: 'long-enough', groups: ['nope'] }),
      400,
      /group nope does not exist/,
    );
    await problem(
      admin('POST', '/users', { name: 'alice', password: 'long-enough' }),
      409,
      /user alice exists already/,
    );
    await problem(admin('POST', '/users', [1]), 400, /JSON object/);
    await problem(admin('PATCH', '/users/alice', { admin: 'yes' }), 400, /admin must be true or false/);
    await problem(admin('PATCH', '/users/alice', { password: 'short' }), 400, /at least 8 characters/);
    await problem(admin('PATCH', '/users/nobody', { email: 'x' }), 404, /user nobody does not exist/);
    await problem(admin('DELETE', '/users/nobody'), 404, /user nobody does not exist/);
  });

  it('keeps an enabled administrator: the last one cannot be deleted, demoted or disabled', async () => {
    await problem(admin('DELETE', '/users/admin'), 409, /admin is the last enabled administrator/);
    await problem(admin('PATCH', '/users/admin', { admin: false }), 409, /last enabled administrator/);
    await problem(admin('PATCH', '/users/admin', { disabled: true }), 409, /last enabled administrator/);
    assert.equal(
      (await admin('POST', '/users', { name: 'root2', password: 'root2-password', admin: true })).status,
      201,
    );
    assert.equal((await admin('DELETE', '/users/root2')).status, 204);
  });

  it('non-administrators get 403 for users and for changes, anonymous callers 401', async () => {
    const alice = basicAuth('alice', 'alice-password-1');
    await problem(call('GET', '/users', { auth: alice }), 403, /only administrators may list users/);
    await problem(call('GET', '/users/alice', { auth: alice }), 403, /only administrators/);
    await problem(
      call('POST', '/users', { auth: alice, body: { name: 'x', password: 'long-enough' } }),
      403,
      /only administrators may create users/,
    );
    await problem(
      call('POST', '/groups', { auth: alice, body: { name: 'x' } }),
      403,
      /only administrators may create groups/,
    );
    await problem(
      call('PUT', '/permissions/development', { auth: alice, body: { repositories: ['*'] } }),
      403,
      /only administrators/,
    );
    await problem(call('DELETE', '/permissions/development', { auth: alice }), 403, /only administrators/);
    // Signed-in users may read groups and permission targets.
    assert.equal((await call('GET', '/groups', { auth: alice })).status, 200);
    assert.equal((await call('GET', '/permissions/development', { auth: alice })).status, 200);
    for (const path of ['/users', '/groups', '/groups/readers', '/permissions', '/permissions/development']) {
      const res = await call('GET', path);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /Basic/);
    }
    await problem(call('POST', '/users', { body: { name: 'x', password: 'long-enough' } }), 401, /sign in/);
    await problem(
      call('PATCH', '/me', { body: { currentPassword: 'x', password: 'long-enough' } }),
      401,
      /sign in/,
    );
  });

  it('groups: create with members, change, delete; members show up in their users and /me', async () => {
    const created = await admin('POST', '/groups', {
      name: 'qa',
      description: 'Testers',
      members: ['alice'],
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/api/v1/groups/qa');
    assert.deepEqual(
      { ...created.body, createdAt: undefined },
      {
        name: 'qa',
        description: 'Testers',
        members: ['alice'],
        createdAt: undefined,
      },
    );
    const alice = basicAuth('alice', 'alice-password-1');
    assert.deepEqual((await call('GET', '/me', { auth: alice })).body.groups, ['developers', 'qa']);
    assert.deepEqual((await admin('GET', '/users/alice')).body.groups, ['developers', 'qa']);

    const listed = await call('GET', '/groups', { auth: alice });
    assert.deepEqual(
      listed.body.groups.map((g: Json) => g.name),
      ['ci', 'customers', 'developers', 'qa', 'readers', 'release-managers'],
    );
    const changed = await admin('PATCH', '/groups/qa', {
      description: 'Quality',
      members: ['alice', 'ci-bot'],
    });
    assert.deepEqual([changed.body.description, changed.body.members], ['Quality', ['alice', 'ci-bot']]);

    await problem(admin('POST', '/groups', { name: 'qa' }), 409, /group qa exists already/);
    await problem(admin('POST', '/groups', { name: 'Q A' }), 400, /group name "Q A" is invalid/);
    await problem(
      admin('POST', '/groups', { name: 'ops', members: ['nobody'] }),
      400,
      /user nobody does not exist/,
    );
    await problem(admin('PATCH', '/groups/qa', { members: ['ghost'] }), 400, /user ghost does not exist/);
    await problem(
      admin('PATCH', '/groups/qa', { members: 'alice' }),
      400,
      /members must be a list of strings/,
    );
    await problem(admin('PATCH', '/groups/nope', { description: 'x' }), 404, /group nope does not exist/);
    assert.equal((await admin('GET', '/groups/ops')).status, 404);

    assert.equal((await admin('DELETE', '/groups/qa')).status, 204);
    await problem(admin('GET', '/groups/qa'), 404, /group qa does not exist/);
    await problem(admin('DELETE', '/groups/qa'), 404, /group qa does not exist/);
    assert.deepEqual((await call('GET', '/me', { auth: alice })).body.groups, ['developers']);
  });

  it('permission targets: create, read flattened, replace, delete; the grants take effect', async () => {
    // erin is in no group: only the target below lets her see anything.
    assert.equal((await admin('POST', '/users', { name: 'erin', password: 'erin-password' })).status, 201);
    const erin = basicAuth('erin', 'erin-password');
    assert.equal((await call('GET', '/repositories/docker-prod-local', { auth: erin })).status, 404);
    const created = await admin('POST', '/permissions', {
      name: 'erin-prod',
      description: 'Erin reads production',
      repositories: ['docker-prod-local'],
      images: { include: ['team/**'], exclude: ['team/secret'] },
      users: { erin: ['read'] },
      groups: { readers: ['read'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), '/api/v1/permissions/erin-prod');
    assert.deepEqual(
      { ...created.body, createdAt: undefined, updatedAt: undefined },
      {
        name: 'erin-prod',
        description: 'Erin reads production',
        repositories: { include: ['docker-prod-local'], exclude: [] },
        images: { include: ['team/**'], exclude: ['team/secret'] },
        users: { erin: ['read'] },
        groups: { readers: ['read'] },
        anonymous: [],
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.equal((await call('GET', '/repositories/docker-prod-local', { auth: erin })).status, 200);
    const listed = await call('GET', '/permissions', { auth: erin });
    assert.ok(listed.body.permissions.some((t: Json) => t.name === 'erin-prod' && t.users.erin));

    const replaced = await admin('PUT', '/permissions/erin-prod', {
      repositories: { include: ['docker-staging-local'] },
      users: { erin: ['deploy'] },
    });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual(replaced.body.repositories, { include: ['docker-staging-local'], exclude: [] });
    assert.deepEqual(replaced.body.users, { erin: ['deploy'] });
    assert.deepEqual(replaced.body.groups, {});
    assert.equal(replaced.body.description, 'Erin reads production');
    assert.equal((await call('GET', '/repositories/docker-prod-local', { auth: erin })).status, 404);

    const base = { name: 'p2', repositories: ['docker-dev-local'] };
    await problem(
      admin('POST', '/permissions', { ...base, users: { alice: ['fly'] } }),
      400,
      /users\.alice has unknown actions "fly"; actions are read, annotate/,
    );
    await problem(
      admin('POST', '/permissions', { ...base, anonymous: ['read', 'write'] }),
      400,
      /anonymous has unknown actions "write"/,
    );
    await problem(
      admin('POST', '/permissions', { ...base, users: { ghost: ['read'] } }),
      400,
      /user ghost does not exist/,
    );
    await problem(
      admin('POST', '/permissions', { ...base, groups: { phantoms: ['read'] } }),
      400,
      /group phantoms does not exist/,
    );
    await problem(
      admin('POST', '/permissions', { name: 'p2' }),
      400,
      /repositories must be a list of patterns/,
    );
    await problem(
      admin('POST', '/permissions', { ...base, name: 'P 2' }),
      400,
      /permission target name "P 2" is invalid/,
    );
    await problem(
      admin('POST', '/permissions', { ...base, name: 'erin-prod' }),
      409,
      /permission target erin-prod exists already/,
    );
    await problem(admin('PUT', '/permissions/nope', base), 404, /permission target nope does not exist/);

    assert.equal((await admin('DELETE', '/permissions/erin-prod')).status, 204);
    await problem(admin('GET', '/permissions/erin-prod'), 404, /permission target erin-prod does not exist/);
    await problem(admin('DELETE', '/permissions/erin-prod'), 404, /does not exist/);
  });

  it('PATCH /me changes your own password: the old one stops working at once', async () => {
    const old = basicAuth('alice', 'alice-password-1');
    assert.equal((await call('GET', '/me', { auth: old })).status, 200);
    await problem(
      call('PATCH', '/me', {
        auth: old,
        body: { currentPassword: 'wrong-password', password: 'alice-password-2' },
      }),
      403,
      /currentPassword is wrong/,
    );
    await problem(
      call('PATCH', '/me', { auth: old, body: { currentPassword: 'alice-password-1', password: 'short' } }),
      400,
      /at least 8/,
    );
    await problem(
      call('PATCH', '/me', { auth: old, body: { password: 'alice-password-2' } }),
      400,
      /currentPassword/,
    );
    await problem(
      call('PATCH', '/me', { auth: old, body: { admin: true } }),
      400,
      /only your password can be changed here \(not admin\)/,
    );
    assert.equal((await admin('GET', '/users/alice')).body.admin, false);
    const changed = await call('PATCH', '/me', {
      auth: old,
      body: { currentPassword: 'alice-password-1', password: 'alice-password-2' },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.name, 'alice');
    assert.equal((await call('GET', '/me', { auth: old })).status, 401);
    assert.equal(
      (await call('GET', '/me', { auth: basicAuth('alice', 'alice-password-2') })).body.name,
      'alice',
    );
  });

  it('a disabled user cannot sign in; enabled again, they can', async () => {
    const alice = basicAuth('alice', 'alice-password-2');
    assert.equal((await admin('PATCH', '/users/alice', { disabled: true })).body.disabled, true);
    assert.equal((await call('GET', '/me', { auth: alice })).status, 401);
    assert.equal((await admin('PATCH', '/users/alice', { disabled: false })).body.disabled, false);
    assert.equal((await call('GET', '/me', { auth: alice })).status, 200);
  });
});
