import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type CliResult, runCli } from './support.ts';

const ADMIN_PASSWORD = 'admin-password-1';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

describe('gantry user, group, permission, token, audit, auth and whoami commands', () => {
  let gantry: RunningGantry;

  /** Runs `gantry --server <url> ...args` with a clean credentials environment. */
  function cli(
    args: string[],
    options: { env?: Record<string, string>; input?: string } = {},
  ): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    for (const name of ['GANTRY_USER', 'GANTRY_PASSWORD', 'GANTRY_TOKEN', 'GANTRY_URL']) {
      if (!options.env?.[name]) delete env[name];
    }
    return runCli(['--server', gantry.url, ...args], env, options.input ?? '');
  }
  /** As the administrator, with credentials on the command line. */
  const asAdmin = (...args: string[]) => cli(['--user', 'admin', '--password', ADMIN_PASSWORD, ...args]);
  const ok = (r: CliResult) => {
    assert.equal(r.code, 0, `stderr: ${r.stderr}`);
    return r.stdout;
  };
  // A request the server refused (`gantry: 403 …`) exits 1; a mistake the CLI catches itself, 2.
  const failed = (r: CliResult, message: RegExp) => {
    assert.equal(r.code, /^gantry: 4\d\d /.test(r.stderr) ? 1 : 2, `stdout: ${r.stdout}`);
    assert.match(r.stderr, message);
  };
  async function api(path: string): Promise<Json> {
    const res = await fetch(`${gantry.url}/api/v1${path}`, {
      headers: { authorization: basicAuth('admin', ADMIN_PASSWORD) },
    });
    assert.equal(res.status, 200);
    return res.json();
  }

  before(async () => {
    gantry = await startGantry({ env: { GANTRY_ADMIN_PASSWORD: ADMIN_PASSWORD }, openAccess: false });
  });
  after(() => gantry.stop());

  it('sends no credentials unless given, and says how to give them', async () => {
    const [anonymous, whoami, noPassword, wrong, admin] = await Promise.all([
      cli(['user', 'list']),
      cli(['whoami']),
      cli(['--user', 'admin', 'whoami']),
      cli(['--user', 'admin', '--password', 'nope-nope', 'whoami']),
      asAdmin('whoami'),
    ]);
    failed(
      anonymous,
      /^gantry: 401 Unauthorized: sign in first .*\(pass --user and --password, or --token\)\n$/,
    );
    assert.equal(ok(whoami), 'anonymous (not signed in)\n');
    failed(noPassword, /no password for admin: pass --password or set GANTRY_PASSWORD/);
    failed(wrong, /^gantry: 401 Unauthorized: wrong user name or password\n$/);
    assert.equal(ok(admin), 'admin (administrator) via basic; groups: -\n');
  });

  it('gantry user create/list/show/update/delete', async () => {
    const args = [
      'user',
      'create',
      'alice',
      '--password-stdin',
      '--email',
      'alice@example.com',
      '--group',
      'developers',
    ];
    const created = await cli(['--user', 'admin', '--password', ADMIN_PASSWORD, ...args], {
      input: 'alice-password-1\n',
    });
    assert.equal(ok(created), 'created user alice\n');
    const [whoami, bob, robo] = await Promise.all([
      // The password came from stdin; credentials may come from the environment.
      cli(['whoami'], { env: { GANTRY_USER: 'alice', GANTRY_PASSWORD: 'alice-password-1' } }),
      asAdmin('user', 'create', 'bob', '--password', 'bob-password-1'),
      asAdmin('user', 'create', 'robo', '--robot'),
    ]);
    assert.equal(ok(whoami), 'alice via basic; groups: developers\n');
    assert.equal(ok(bob), 'created user bob\n');
    assert.equal(ok(robo), 'created robot robo\n');

    const [list, show, update] = await Promise.all([
      asAdmin('user', 'list'),
      asAdmin('user', 'show', 'alice'),
      asAdmin('user', 'update', 'bob', '--admin', '--email', 'bob@example.com'),
    ]);
    assert.match(ok(list), /^NAME\s+KIND\s+STATE\s+GROUPS\s+EMAIL\n/);
    assert.match(list.stdout, /\nalice\s+user\s+enabled\s+developers\s+alice@example\.com\n/);
    assert.match(list.stdout, /\nrobo\s+robot\s+enabled\s+-\s+-\n/);
    assert.match(ok(show), /email:\s+alice@example\.com\n/);
    assert.equal(ok(update), 'updated user bob\n');
    const changed = await api('/users/bob');
    assert.deepEqual([changed.admin, changed.email], [true, 'bob@example.com']);
    assert.equal(ok(await asAdmin('user', 'delete', 'bob')), 'deleted user bob\n');

    const [badName, noPassword, duplicate, notAdmin] = await Promise.all([
      asAdmin('user', 'create', 'Bad Name', '--password', 'long-enough'),
      asAdmin('user', 'create', 'carol'),
      asAdmin('user', 'create', 'alice', '--password', 'long-enough'),
      cli(['--user', 'alice', '--password', 'alice-password-1', 'user', 'list']),
    ]);
    failed(badName, /^gantry: 400 Bad Request: user name "Bad Name" is invalid/);
    failed(noPassword, /give the password with --password-stdin or --password, or create a robot account/);
    failed(duplicate, /^gantry: 409 Conflict: user alice exists already\n$/);
    failed(notAdmin, /^gantry: 403 Forbidden: only administrators may list users\n$/);
  });

  it('gantry group create/update/show/list/delete', async () => {
    const created = await asAdmin('group', 'create', 'qa', '--member', 'alice', '--description', 'Testers');
    assert.equal(ok(created), 'created group qa with 1 member(s)\n');
    ok(await asAdmin('group', 'update', 'qa', '--add-member', 'robo', '--description', 'Quality'));
    const [show, list, unknown] = await Promise.all([
      asAdmin('group', 'show', 'qa'),
      asAdmin('group', 'list'),
      asAdmin('group', 'create', 'ops', '--member', 'ghost'),
    ]);
    assert.match(ok(show), /description:\s+Quality\nmembers:\s+alice, robo\n/);
    assert.match(ok(list), /\nqa\s+alice,robo\s+Quality\n/);
    failed(unknown, /400 Bad Request: user ghost does not exist/);
    ok(await asAdmin('group', 'update', 'qa', '--remove-member', 'robo'));
    assert.deepEqual((await api('/groups/qa')).members, ['alice']);
  });

  it('gantry permission create from flags, update just the parts given, create from a spec file', async () => {
    const created = await asAdmin(
      ...['permission', 'create', 'qa-deploy', '--description', 'QA pushes'],
      ...['--repo', 'docker-dev-local', '--repo', 'docker-qa-*', '--exclude-repo', 'docker-qa-secret'],
      ...['--image', 'team/**', '--exclude-image', 'team/private'],
      ...['--user', 'alice=read,deploy', '--group', 'qa=read', '--anonymous', 'read'],
    );
    assert.equal(ok(created), 'created permission target qa-deploy\n');
    const target = await api('/permissions/qa-deploy');
    assert.deepEqual(
      { ...target, createdAt: undefined, updatedAt: undefined },
      {
        name: 'qa-deploy',
        description: 'QA pushes',
        repositories: { include: ['docker-dev-local', 'docker-qa-*'], exclude: ['docker-qa-secret'] },
        images: { include: ['team/**'], exclude: ['team/private'] },
        users: { alice: ['read', 'deploy'] },
        groups: { qa: ['read'] },
        anonymous: ['read'],
        createdAt: undefined,
        updatedAt: undefined,
      },
    );

    ok(await asAdmin('permission', 'update', 'qa-deploy', '--user', 'robo=read', '--anonymous', ''));
    const updated = await api('/permissions/qa-deploy');
    assert.deepEqual(updated.users, { alice: ['read', 'deploy'], robo: ['read'] });
    assert.deepEqual(updated.anonymous, []);
    for (const part of ['repositories', 'images', 'groups', 'description']) {
      assert.deepEqual(updated[part], target[part], `${part} stays as it was`);
    }
    ok(
      await asAdmin('permission', 'update', 'qa-deploy', '--user', 'robo=', '--repo', 'docker-staging-local'),
    );
    const narrowed = await api('/permissions/qa-deploy');
    assert.deepEqual(narrowed.users, { alice: ['read', 'deploy'] });
    assert.deepEqual(narrowed.repositories, {
      include: ['docker-staging-local'],
      exclude: ['docker-qa-secret'],
    });

    const spec = join(gantry.dataDir, 'release.yaml');
    await writeFile(
      spec,
      'description: From a file\nrepositories: [docker-prod-local]\ngroups:\n  qa: [read, promote]\n',
    );
    const [show, fromFile, badAction, noRepo] = await Promise.all([
      asAdmin('permission', 'show', 'qa-deploy'),
      asAdmin('permission', 'create', 'qa-release', '--file', spec),
      asAdmin('permission', 'create', 'bad', '--repo', 'x', '--user', 'alice=fly'),
      asAdmin('permission', 'create', 'bad'),
    ]);
    assert.match(ok(show), /repositories:\s+docker-staging-local \(except docker-qa-secret\)\n/);
    assert.match(show.stdout, /users:\s+alice=read,deploy\n/);
    ok(fromFile);
    const release = await api('/permissions/qa-release');
    assert.deepEqual(
      [release.description, release.repositories.include, release.groups, release.images.include],
      ['From a file', ['docker-prod-local'], { qa: ['read', 'promote'] }, ['**']],
    );
    failed(badAction, /^gantry: 400 Bad Request: users\.alice has unknown actions "fly"/);
    failed(noRepo, /say which repositories the target covers with --repo/);
  });

  it('gantry token create prints the value once; it signs in until revoked', async () => {
    const alice = ['--user', 'alice', '--password', 'alice-password-1'];
    const created = await cli([
      ...alice,
      ...[
        'token',
        'create',
        '--name',
        'ci',
        '--target',
        'qa-deploy',
        '--action',
        'read',
        '--expires-days',
        '7',
      ],
    ]);
    const value = ok(created).trim();
    assert.match(value, /^gat_[a-z0-9]{16}_[A-Za-z0-9_-]{32}$/);
    assert.match(
      created.stderr,
      /created API token ci \(id [a-z0-9]{16}\) for alice, expiring .*only time its value is shown/,
    );
    const id = value.split('_')[1] as string;

    const [whoami, more, list] = await Promise.all([
      cli(['--token', value, 'whoami']),
      cli(['token', 'create', '--name', 'more'], { env: { GANTRY_TOKEN: value } }),
      cli([...alice, 'token', 'list']),
    ]);
    assert.equal(ok(whoami), `alice via API token ci (id ${id}); groups: developers, qa\n`);
    failed(more, /403 Forbidden: API tokens cannot create API tokens/);
    assert.match(ok(list), /^ID\s+NAME\s+OWNER\s+SCOPE\s+EXPIRES\s+LAST USED\s+STATE\n/);
    assert.match(
      list.stdout,
      new RegExp(`\\n${id}\\s+ci\\s+alice\\s+targets:qa-deploy actions:read\\s+\\S+\\s+\\S+\\s+active\\n`),
    );
    assert.ok(!list.stdout.includes(value));

    assert.equal(
      ok(await cli([...alice, 'token', 'revoke', id])),
      `revoked API token ci (id ${id}) of alice\n`,
    );
    failed(
      await cli(['whoami'], { env: { GANTRY_TOKEN: value } }),
      /^gantry: 401 Unauthorized: API token ci was revoked\n$/,
    );
  });

  it('gantry audit prints a table (or JSON) and passes the filters on', async () => {
    const [table, json, since] = await Promise.all([
      asAdmin('audit', '--action', 'user.', '--limit', '1000'),
      asAdmin('audit', '--json', '--limit', '1', '--action', 'token.'),
      asAdmin('audit', '--since', 'yesterday'),
    ]);
    const lines = ok(table).trimEnd().split('\n');
    assert.match(lines[0] as string, /^TIME\s+ACTOR\s+ACTION\s+REPOSITORY\s+TARGET\s+OUTCOME\s+ADDRESS$/);
    assert.match(
      table.stdout,
      /\n\d{4}-\d\d-\d\dT[\d:.]+Z\s+admin\s+user\.create\s+-\s+alice\s+success\s+127\.0\.0\.1\n/,
    );
    assert.ok(
      lines.slice(1).every((l) => /\sadmin\s+user\.(create|update|delete)\s/.test(l)),
      table.stdout,
    );
    assert.doesNotMatch(table.stdout, /password|gat_/);
    assert.equal(table.stderr, '');

    const reply = JSON.parse(ok(json));
    assert.deepEqual(
      reply.events.map((e: Json) => e.action),
      ['token.revoke'],
    );
    assert.match(reply.next, /before=\d+/);
    assert.equal(json.stderr, '');
    failed(since, /400 Bad Request: since must be an ISO 8601 time/);
  });

  it('gantry auth rotate-key, with and without dropping retired keys', async () => {
    const rotated = ok(await asAdmin('auth', 'rotate-key'));
    assert.match(rotated, /^new signing key [A-Za-z0-9_-]{43}\n$/);
    const dropped = ok(await asAdmin('auth', 'rotate-key', '--drop-retired'));
    assert.match(dropped, /^new signing key [A-Za-z0-9_-]{43}\ndropped 2 retired key\(s\)\n$/);
    assert.equal((await api('/auth/keys')).keys.length, 1);
  });
});
