import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AccessPolicy } from '../../src/auth/access-policy.ts';
import { ANONYMOUS, type Principal } from '../../src/auth/principal.ts';
import { parseScope } from '../../src/auth/registry-tokens.ts';
import { grantScopes, requestedScopes } from '../../src/auth/token-grants.ts';
import type { RepositoryRecord } from '../../src/meta/records.ts';

it('parseScope: type, name between the first and last colon, actions', () => {
  assert.deepEqual(parseScope('repository:team/app:pull,push'), {
    type: 'repository',
    name: 'team/app',
    actions: ['pull', 'push'],
  });
  assert.deepEqual(parseScope('repository(plugin):a:*'), { type: 'repository', name: 'a', actions: ['*'] });
  assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  assert.equal(parseScope('repository:pull'), undefined);
  assert.equal(parseScope('nonsense'), undefined);
  assert.deepEqual(requestedScopes(['a:b:pull b:c:push', 'd:e:*']), ['a:b:pull', 'b:c:push', 'd:e:*']);
});

it('grantScopes: the intersection of what is asked and what is allowed', () => {
  const repo = (key: string): RepositoryRecord => ({
    key,
    kind: 'local',
    description: '',
    settings: {},
    createdAt: '',
  });
  const policy = new AccessPolicy([
    {
      name: 'dev',
      description: '',
      repositories: { include: ['dev'], exclude: [] },
      images: { include: ['*'], exclude: [] },
      grants: { users: { dan: ['deploy'] }, groups: {}, anonymous: [] },
      createdAt: '',
      updatedAt: '',
    },
  ]);
  const resolver = {
    read: (name: string) => ({
      repository: repo(name.split('/')[0] as string),
      image: name.split('/').slice(1).join('/'),
    }),
    write: (name: string) =>
      name.startsWith('ro/') ? undefined : { repository: repo(name.split('/')[0] as string), image: 'x' },
  };
  const dan: Principal = { name: 'dan', authenticated: true, admin: false, groups: [], via: 'basic' };
  assert.deepEqual(grantScopes(['repository:dev/app:pull,push,delete'], dan, policy, resolver), [
    { type: 'repository', name: 'dev/app', actions: ['pull', 'push'] },
  ]);
  assert.deepEqual(grantScopes(['repository:prod/app:pull,push'], dan, policy, resolver), [
    { type: 'repository', name: 'prod/app', actions: [] },
  ]);
  assert.deepEqual(grantScopes(['repository:dev/app:*'], dan, policy, resolver), [
    { type: 'repository', name: 'dev/app', actions: ['pull', 'push'] },
  ]);
  assert.deepEqual(
    grantScopes(['repository:dev/a:pull', 'repository:dev/a:push', 'junk'], dan, policy, resolver),
    [{ type: 'repository', name: 'dev/a', actions: ['pull', 'push'] }],
  );
  assert.deepEqual(grantScopes(['registry:catalog:*'], ANONYMOUS, policy, resolver), [
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
});
