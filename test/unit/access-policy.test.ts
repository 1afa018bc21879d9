import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessPolicy } from '../../src/auth/access-policy.ts';
import { compilePatterns } from '../../src/auth/patterns.ts';
import { ANONYMOUS, type Principal } from '../../src/auth/principal.ts';
import type { PermissionTargetRecord } from '../../src/meta/identity-records.ts';

const T0 = '2026-01-01T00:00:00.000Z';

function target(name: string, extra: Partial<PermissionTargetRecord>): PermissionTargetRecord {
  return {
    name,
    description: '',
    repositories: { include: ['*'], exclude: [] },
    images: { include: ['**'], exclude: [] },
    grants: { users: {}, groups: {}, anonymous: [] },
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function user(name: string, groups: string[] = [], extra: Partial<Principal> = {}): Principal {
  return { name, authenticated: true, admin: false, groups, via: 'basic', ...extra };
}

describe('patterns', () => {
  it('* and ** match any run including slashes; ? one character; the rest is literal', () => {
    const p = compilePatterns({ include: ['docker-*-local', 'team/?pp', 'a.b'], exclude: ['docker-prod-*'] });
    assert.equal(p.matches('docker-dev-local'), true);
    assert.equal(p.matches('docker-x/y-local'), true);
    assert.equal(p.matches('docker-prod-local'), false, 'excluded');
    assert.equal(p.matches('team/app'), true);
    assert.equal(p.matches('team/aapp'), false);
    assert.equal(p.matches('a.b'), true);
    assert.equal(p.matches('axb'), false, 'a dot is literal');
    assert.equal(p.everything, false);
    assert.equal(compilePatterns({ include: ['**'], exclude: [] }).everything, true);
    assert.equal(compilePatterns({ include: ['*'], exclude: ['x'] }).everything, false);
  });
});

describe('AccessPolicy', () => {
  const policy = new AccessPolicy([
    target('dev', {
      repositories: { include: ['docker-dev-local'], exclude: [] },
      grants: { users: { carol: ['read'] }, groups: { developers: ['deploy'] }, anonymous: [] },
    }),
    target('release', {
      repositories: { include: ['docker-*-local'], exclude: ['docker-dev-local'] },
      grants: { users: {}, groups: { release: ['promote'] }, anonymous: [] },
    }),
    target('public', {
      repositories: { include: ['docker-prod'], exclude: [] },
      images: { include: ['public/*'], exclude: [] },
      grants: { users: {}, groups: {}, anonymous: ['read'] },
    }),
  ]);

  it('grants come from users and their groups, with implied actions', () => {
    const dev = user('dan', ['developers']);
    assert.equal(policy.allows(dev, 'deploy', 'docker-dev-local', 'team/app'), true);
    assert.equal(policy.allows(dev, 'read', 'docker-dev-local', 'team/app'), true, 'deploy implies read');
    assert.equal(
      policy.allows(dev, 'annotate', 'docker-dev-local', 'team/app'),
      true,
      'deploy implies annotate',
    );
    assert.equal(policy.allows(dev, 'delete', 'docker-dev-local', 'team/app'), false);
    assert.equal(policy.allows(dev, 'deploy', 'docker-prod-local', 'team/app'), false);
    assert.equal(policy.allows(user('carol'), 'read', 'docker-dev-local', 'x'), true);
    assert.equal(policy.allows(user('carol'), 'deploy', 'docker-dev-local', 'x'), false);
  });

  it('excluded repositories are not covered', () => {
    const rm = user('rita', ['release']);
    assert.equal(policy.allows(rm, 'promote', 'docker-prod-local', 'a'), true);
    assert.equal(policy.allows(rm, 'promote', 'docker-dev-local', 'a'), false);
    assert.equal(
      policy.allows(rm, 'deploy', 'docker-prod-local', 'a'),
      false,
      'promote does not imply deploy',
    );
  });

  it('anonymous grants apply to everyone, limited to matching images', () => {
    assert.equal(policy.allows(ANONYMOUS, 'read', 'docker-prod', 'public/app'), true);
    assert.equal(policy.allows(ANONYMOUS, 'read', 'docker-prod', 'internal/app'), false);
    assert.equal(policy.allows(user('zed'), 'read', 'docker-prod', 'public/app'), true);
    assert.equal(policy.allows(ANONYMOUS, 'read', 'docker-dev-local', 'x'), false);
  });

  it('a question about a whole repository counts only targets covering every image', () => {
    assert.equal(policy.allows(ANONYMOUS, 'read', 'docker-prod'), false);
    assert.equal(policy.readsSomethingIn(ANONYMOUS, 'docker-prod'), true);
    assert.equal(policy.readsSomethingIn(ANONYMOUS, 'docker-dev-local'), false);
  });

  it('administrators may do everything unless a token narrows them', () => {
    const admin = user('root', [], { admin: true });
    assert.equal(policy.allows(admin, 'manage', 'anything', 'x'), true);
    const narrowed = { ...admin, token: { id: 't', name: 'ci', targets: ['dev'], actions: null } };
    assert.equal(policy.allows(narrowed, 'delete', 'docker-dev-local', 'x'), true);
    assert.equal(policy.allows(narrowed, 'read', 'docker-prod-local', 'x'), false);
  });

  it('an API token narrows its owner to its targets and actions', () => {
    const dev = user('dan', ['developers'], {
      token: { id: 't', name: 'ci', targets: null, actions: ['read'] },
    });
    assert.equal(policy.allows(dev, 'read', 'docker-dev-local', 'a'), true);
    assert.equal(policy.allows(dev, 'deploy', 'docker-dev-local', 'a'), false);
    const elsewhere = user('dan', ['developers'], {
      token: { id: 't', name: 'ci', targets: ['release'], actions: null },
    });
    assert.equal(
      policy.allows(elsewhere, 'deploy', 'docker-dev-local', 'a'),
      false,
      'target release does not cover dev',
    );
    const unknown = user('dan', ['developers'], {
      token: { id: 't', name: 'ci', targets: ['gone'], actions: null },
    });
    assert.equal(
      policy.allows(unknown, 'read', 'docker-dev-local', 'a'),
      false,
      'a deleted target covers nothing',
    );
  });
});

describe('AccessPolicy.memberReader: reads through a virtual repository, member by member', () => {
  const policy = new AccessPolicy([
    target('read-all', {
      repositories: { include: ['docker', 'docker-*'], exclude: [] },
      grants: { users: {}, groups: { developers: ['read'] }, anonymous: [] },
    }),
    target('development', {
      repositories: { include: ['docker-dev-local', 'docker'], exclude: [] },
      grants: { users: {}, groups: { developers: ['delete'] }, anonymous: [] },
    }),
  ]);
  const member = (key: string) => ({ repository: { key }, image: 'team/app' });

  it('a developer reads every member; a token narrowed to development only development', () => {
    const dev = user('dev', ['developers']);
    const narrowed = user('ci', ['developers'], {
      token: { id: 't1', name: 'ci', targets: ['development'], actions: null },
    });
    for (const key of ['docker-dev-local', 'docker-staging-local', 'docker-prod-local'])
      assert.equal(policy.memberReader(dev)(member(key)), true, key);
    // The token may read the virtual address itself, but what a member serves is evaluated there.
    assert.equal(policy.allows(narrowed, 'read', 'docker', 'team/app'), true);
    assert.equal(policy.memberReader(narrowed)(member('docker-dev-local')), true);
    assert.equal(policy.memberReader(narrowed)(member('docker-prod-local')), false);
    assert.equal(policy.memberReader(ANONYMOUS)(member('docker-dev-local')), false);
  });

  it('costs about a microsecond per member (it runs on every read through a virtual repository)', () => {
    const check = policy.memberReader(user('dev', ['developers']));
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) check(member('docker-prod-local'));
    const perCall = Number(process.hrtime.bigint() - started) / 100_000;
    assert.ok(perCall < 20_000, `${perCall} ns per member check`);
  });
});
