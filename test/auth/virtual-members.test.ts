/**
 * Making or changing a virtual repository needs read on every member (README, Security: reads
 * through virtual repositories): `manage` on a key must not become a view of repositories one
 * may not read. Through the API and the CLI, refusals named and audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/support.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { admin, api, expectProblem, PASSWORD } from './support.ts';

describe('members of virtual repositories need read', () => {
  let gantry: RunningGantry;
  const MANAGER = basicAuth('manager', PASSWORD);

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    const url = gantry.url;
    await admin(url, 'POST', '/users', { name: 'manager', password: PASSWORD }, 201);
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'team-a', repositories: ['team-a-*'], users: { manager: ['manage'] } },
      201,
    );
    await admin(url, 'POST', '/repositories', { key: 'team-a-local', kind: 'local' }, 201);
  });
  after(async () => gantry?.stop());

  it('creating one over a repository the manager cannot read is refused, naming it, and audited', async () => {
    const body = {
      key: 'team-a-all',
      kind: 'virtual',
      settings: { members: ['team-a-local', 'docker-prod-local'] },
    };
    await expectProblem(
      api(gantry.url, 'POST', '/repositories', body, MANAGER),
      403,
      /may not read docker-prod-local.*needs read on every member/,
    );
    const audit = await admin(
      gantry.url,
      'GET',
      '/audit?actor=manager&action=repository.create&outcome=denied',
      undefined,
      200,
    );
    const events = audit.events as { repository: string; detail: { unreadableMembers: string[] } }[];
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.deepEqual(events[0]?.detail.unreadableMembers, ['docker-prod-local']);
    // Behind a virtual member counts too: docker-prod is readable by nobody here, and so is its member.
    await expectProblem(
      api(gantry.url, 'POST', '/repositories', { ...body, settings: { members: ['docker-prod'] } }, MANAGER),
      403,
      /docker-prod, docker-prod-local/,
    );
  });

  it('the CLI says the same, and an update that adds such a member is refused too', async () => {
    const env = {
      ...process.env,
      GANTRY_URL: gantry.url,
      GANTRY_USER: 'manager',
      GANTRY_PASSWORD: PASSWORD,
    };
    const cli = await runCli(
      ['repo', 'create', 'team-a-view', '--kind', 'virtual', '--members', 'team-a-local,docker-dev-local'],
      env,
    );
    assert.notEqual(cli.code, 0, cli.stdout);
    assert.match(cli.stderr, /may not read docker-dev-local/);
    const made = await runCli(
      ['repo', 'create', 'team-a-view', '--kind', 'virtual', '--members', 'team-a-local'],
      env,
    );
    assert.equal(made.code, 0, made.stderr);
    await expectProblem(
      api(
        gantry.url,
        'PATCH',
        '/repositories/team-a-view',
        { settings: { members: ['team-a-local', 'docker-staging-local'] } },
        MANAGER,
      ),
      403,
      /may not read docker-staging-local/,
    );
  });

  it('with read on the member, the manager may make it a member', async () => {
    await admin(
      gantry.url,
      'POST',
      '/permissions',
      { name: 'manager-reads-staging', repositories: ['docker-staging-local'], users: { manager: ['read'] } },
      201,
    );
    const res = await api(
      gantry.url,
      'PATCH',
      '/repositories/team-a-view',
      { settings: { members: ['team-a-local', 'docker-staging-local'] } },
      MANAGER,
    );
    assert.equal(res.status, 200, JSON.stringify(res.json));
  });
});
