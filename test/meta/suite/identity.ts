import assert from 'node:assert/strict';
import type {
  ApiTokenRecord,
  AuditEvent,
  GroupRecord,
  PermissionTargetRecord,
  SigningKeyRecord,
  UserRecord,
} from '../../../src/meta/identity-records.ts';
import { UnknownPrincipalError } from '../../../src/meta/identity-store.ts';
import { MetaConflictError, type MetadataStore } from '../../../src/meta/metadata-store.ts';
import { type Define, T0 } from './harness.ts';

const T1 = '2024-05-01T11:00:00.000Z';
const T2 = '2024-05-01T12:00:00.000Z';
const T3 = '2024-05-01T13:00:00.000Z';

// Byte order: 'A' 41 < 'a' 61; '-' 2d < '_' 5f < 'i' 69.
const NAMES_IN_BYTE_ORDER = ['Alice', 'al-ice', 'al_ice', 'alice', 'bob'];

function userRecord(name: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `id-${name}`,
    name,
    email: `${name}@example.com`,
    passwordHash: `$argon2id$v=19$m=65536,t=3,p=4$${name}`,
    admin: false,
    disabled: false,
    generation: 0,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function groupRecord(name: string, members: string[], extra: Partial<GroupRecord> = {}): GroupRecord {
  return { name, description: `${name} people`, members, createdAt: T0, ...extra };
}

function targetRecord(name: string, extra: Partial<PermissionTargetRecord> = {}): PermissionTargetRecord {
  return {
    name,
    description: `${name} access`,
    repositories: { include: ['docker-*'], exclude: ['docker-secret'] },
    images: { include: ['*'], exclude: [] },
    grants: { users: {}, groups: {}, anonymous: [] },
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function tokenRecord(id: string, owner: string, extra: Partial<ApiTokenRecord> = {}): ApiTokenRecord {
  return {
    id,
    name: `token ${id}`,
    owner,
    ownerId: `id-${owner}`,
    secretHash: `sha256-of-${id}`,
    targets: null,
    actions: null,
    expiresAt: null,
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
    ...extra,
  };
}

function keyRecord(kid: string, createdAt: string, extra: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    privateJwk: `{"kty":"EC","kid":"${kid}","d":"secret"}`,
    publicJwk: `{"kty":"EC","kid":"${kid}"}`,
    createdAt,
    retiredAt: null,
    ...extra,
  };
}

function auditEvent(action: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at: T0,
    actor: 'alice',
    action,
    repository: null,
    target: 'x',
    outcome: 'success',
    address: null,
    detail: null,
    ...extra,
  };
}

/** assert.rejects validator for an UnknownPrincipalError naming exactly this principal. */
function unknownPrincipal(kind: 'user' | 'group', principal: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof UnknownPrincipalError, `not an UnknownPrincipalError: ${error}`);
    assert.equal(error.kind, kind);
    assert.equal(error.principal, principal);
    return true;
  };
}

async function createUsers(store: MetadataStore, ...names: string[]): Promise<void> {
  for (const name of names) await store.users.create(userRecord(name));
}

export function defineIdentityTests(define: Define): void {
  defineUserTests(define);
  defineGroupTests(define);
  definePermissionTargetTests(define);
  defineApiTokenTests(define);
  defineSigningKeyTests(define);
  defineAuditTests(define);
  defineEndedSessionTests(define);
}

function defineEndedSessionTests(define: Define): void {
  define(
    'ended sessions: end is idempotent, isEnded tells, purge forgets the expired only',
    async (store) => {
      const sessions = store.endedSessions;
      assert.equal(await sessions.isEnded('s1'), false);
      await sessions.end('s1', '2024-05-01T12:00:00.000Z');
      await sessions.end('s1', '2024-05-01T12:00:00.000Z');
      await sessions.end('s2', '2024-05-02T12:00:00.000Z');
      assert.equal(await sessions.isEnded('s1'), true);
      assert.equal(await sessions.isEnded('s2'), true);
      assert.equal(await sessions.purgeExpired('2024-05-01T12:00:00.000Z'), 0);
      assert.equal(await sessions.purgeExpired('2024-05-02T00:00:00.000Z'), 1);
      assert.equal(await sessions.isEnded('s1'), false);
      assert.equal(await sessions.isEnded('s2'), true);
    },
  );
}

function defineUserTests(define: Define): void {
  define('users: create, get, list in byte order, count', async (store) => {
    const robot = userRecord('bob', { passwordHash: null, admin: true, disabled: true, generation: 7 });
    const others = ['alice', 'Alice', 'al_ice', 'al-ice'].map((name) => userRecord(name, { updatedAt: T1 }));
    for (const user of [robot, ...others]) await store.users.create(user);
    assert.deepEqual(await store.users.get('bob'), robot);
    assert.deepEqual(await store.users.get('al_ice'), userRecord('al_ice', { updatedAt: T1 }));
    const list = await store.users.list();
    assert.deepEqual(
      list.map((u) => u.name),
      NAMES_IN_BYTE_ORDER,
    );
    assert.deepEqual(list[4], robot);
    assert.equal(await store.users.count(), 5);
  });

  define('users: create of an existing name throws MetaConflictError', async (store) => {
    await store.users.create(userRecord('alice'));
    await assert.rejects(store.users.create(userRecord('alice', { email: 'other@x' })), MetaConflictError);
    assert.equal((await store.users.get('alice'))?.email, 'alice@example.com');
    assert.equal(await store.users.count(), 1);
  });

  define('users: update replaces the given fields only', async (store) => {
    await createUsers(store, 'alice', 'bob');
    assert.equal(
      await store.users.update('alice', { passwordHash: null, admin: true, generation: 3, updatedAt: T1 }),
      true,
    );
    const changed = userRecord('alice', { passwordHash: null, admin: true, generation: 3, updatedAt: T1 });
    assert.deepEqual(await store.users.get('alice'), changed);
    assert.equal(await store.users.update('alice', { email: 'a@b', disabled: true }), true);
    assert.deepEqual(await store.users.get('alice'), { ...changed, email: 'a@b', disabled: true });
    assert.equal(await store.users.update('alice', { admin: false, passwordHash: 'new-hash' }), true);
    assert.deepEqual(await store.users.get('alice'), {
      ...changed,
      email: 'a@b',
      disabled: true,
      admin: false,
      passwordHash: 'new-hash',
    });
    assert.equal(await store.users.update('alice', {}), true);
    assert.deepEqual(await store.users.get('bob'), userRecord('bob'), 'other users unchanged');
  });

  define('users: get, update and delete of an absent name', async (store) => {
    assert.equal(await store.users.get('nobody'), undefined);
    assert.equal(await store.users.update('nobody', { email: 'x@y' }), false);
    assert.equal(await store.users.update('nobody', {}), false);
    assert.equal(await store.users.delete('nobody'), false);
    assert.deepEqual(await store.users.list(), []);
    assert.equal(await store.users.count(), 0);
  });

  define('users: delete removes memberships, user grants and tokens, nothing of others', async (store) => {
    await createUsers(store, 'alice', 'bob');
    // A group named like the user: its grants are a group's, not the user's.
    await store.groups.create(groupRecord('alice', ['bob']));
    await store.groups.create(groupRecord('devs', ['alice', 'bob']));
    const grants = {
      users: { alice: ['read' as const, 'deploy' as const], bob: ['read' as const] },
      groups: { alice: ['read' as const], devs: ['annotate' as const] },
      anonymous: ['read' as const],
    };
    await store.permissions.create(targetRecord('t', { grants }));
    await store.apiTokens.create(tokenRecord('tok-a1', 'alice'));
    await store.apiTokens.create(tokenRecord('tok-a2', 'alice'));
    await store.apiTokens.create(tokenRecord('tok-b1', 'bob'));

    assert.equal(await store.users.delete('alice'), true);
    assert.equal(await store.users.delete('alice'), false);

    assert.equal(await store.users.get('alice'), undefined);
    assert.equal(await store.users.count(), 1);
    assert.deepEqual((await store.groups.get('devs'))?.members, ['bob']);
    assert.deepEqual((await store.groups.get('alice'))?.members, ['bob']);
    assert.deepEqual((await store.permissions.get('t'))?.grants, {
      users: { bob: ['read'] },
      groups: { alice: ['read'], devs: ['annotate'] },
      anonymous: ['read'],
    });
    assert.equal(await store.apiTokens.get('tok-a1'), undefined);
    assert.deepEqual(
      (await store.apiTokens.list()).map((t) => t.id),
      ['tok-b1'],
    );

    // The name is free again and the new user inherits nothing.
    await store.users.create(userRecord('alice'));
    assert.deepEqual((await store.groups.get('devs'))?.members, ['bob']);
    assert.deepEqual(await store.apiTokens.list('alice'), []);
    assert.deepEqual(Object.keys((await store.permissions.get('t'))?.grants.users ?? {}), ['bob']);
  });
}

function defineGroupTests(define: Define): void {
  define('groups: create, get and list in name order; members sorted and distinct', async (store) => {
    await createUsers(store, ...NAMES_IN_BYTE_ORDER);
    await store.groups.create(groupRecord('devs', ['bob', 'alice', 'Alice', 'bob', 'al_ice']));
    await store.groups.create(groupRecord('Admins', ['alice']));
    await store.groups.create(groupRecord('empty', [], { description: '' }));
    const devs = groupRecord('devs', ['Alice', 'al_ice', 'alice', 'bob']);
    assert.deepEqual(await store.groups.get('devs'), devs);
    assert.deepEqual(await store.groups.get('empty'), groupRecord('empty', [], { description: '' }));
    assert.deepEqual(await store.groups.list(), [
      groupRecord('Admins', ['alice']),
      devs,
      groupRecord('empty', [], { description: '' }),
    ]);
  });

  define('groups: create of an existing name throws MetaConflictError', async (store) => {
    await createUsers(store, 'alice', 'bob');
    await store.groups.create(groupRecord('devs', ['alice']));
    await assert.rejects(store.groups.create(groupRecord('devs', ['bob'])), MetaConflictError);
    assert.deepEqual(await store.groups.get('devs'), groupRecord('devs', ['alice']));
  });

  define(
    'groups: a member that is no user is refused with UnknownPrincipalError, nothing stored',
    async (store) => {
      await createUsers(store, 'alice');
      await store.groups.create(groupRecord('ops', []));
      await assert.rejects(
        store.groups.create(groupRecord('devs', ['alice', 'ghost'])),
        unknownPrincipal('user', 'ghost'),
      );
      // A group is not a user either.
      await assert.rejects(
        store.groups.create(groupRecord('devs', ['ops'])),
        unknownPrincipal('user', 'ops'),
      );
      assert.equal(await store.groups.get('devs'), undefined);
      assert.deepEqual(
        (await store.groups.list()).map((g) => g.name),
        ['ops'],
      );
      // The refused group left no membership behind: a later group of the same name starts empty.
      await store.groups.create(groupRecord('devs', []));
      assert.deepEqual((await store.groups.get('devs'))?.members, []);

      await store.groups.create(groupRecord('qa', ['alice']));
      await assert.rejects(
        store.groups.update('qa', { description: 'changed', members: ['alice', 'ghost'] }),
        unknownPrincipal('user', 'ghost'),
      );
      assert.deepEqual(
        await store.groups.get('qa'),
        groupRecord('qa', ['alice']),
        'the update stored nothing',
      );
    },
  );

  define('groups: update replaces description and/or the whole member list', async (store) => {
    await createUsers(store, 'alice', 'bob', 'carol');
    await store.groups.create(groupRecord('devs', ['alice', 'bob']));
    assert.equal(await store.groups.update('devs', { description: 'the developers' }), true);
    assert.deepEqual(
      await store.groups.get('devs'),
      groupRecord('devs', ['alice', 'bob'], { description: 'the developers' }),
    );
    assert.equal(await store.groups.update('devs', { members: ['carol', 'alice', 'carol'] }), true);
    assert.deepEqual(
      await store.groups.get('devs'),
      groupRecord('devs', ['alice', 'carol'], { description: 'the developers' }),
    );
    assert.equal(await store.groups.update('devs', { description: 'd', members: [] }), true);
    assert.deepEqual(await store.groups.get('devs'), groupRecord('devs', [], { description: 'd' }));
    assert.equal(await store.groups.update('devs', {}), true);
  });

  define('groups: get, update and delete of an absent name', async (store) => {
    await createUsers(store, 'alice');
    assert.equal(await store.groups.get('nope'), undefined);
    assert.equal(await store.groups.update('nope', { description: 'x' }), false);
    assert.equal(await store.groups.update('nope', { members: ['alice'] }), false);
    assert.equal(await store.groups.update('nope', {}), false);
    assert.equal(await store.groups.delete('nope'), false);
    assert.deepEqual(await store.groups.list(), []);
  });

  define('groups: delete removes memberships and grants of the group, not the users', async (store) => {
    await createUsers(store, 'alice', 'devs');
    await store.groups.create(groupRecord('devs', ['alice', 'devs']));
    await store.groups.create(groupRecord('ops', ['alice']));
    const grants = {
      users: { devs: ['read' as const] },
      groups: { devs: ['deploy' as const], ops: ['manage' as const] },
      anonymous: [],
    };
    await store.permissions.create(targetRecord('t', { grants }));

    assert.equal(await store.groups.delete('devs'), true);
    assert.equal(await store.groups.delete('devs'), false);

    assert.equal(await store.groups.get('devs'), undefined);
    assert.deepEqual(
      (await store.users.list()).map((u) => u.name),
      ['alice', 'devs'],
    );
    assert.deepEqual((await store.groups.get('ops'))?.members, ['alice']);
    assert.deepEqual((await store.permissions.get('t'))?.grants, {
      users: { devs: ['read'] },
      groups: { ops: ['manage'] },
      anonymous: [],
    });
    // The user can be deleted now that no membership names it, and a new group starts empty.
    await store.groups.create(groupRecord('devs', []));
    assert.deepEqual((await store.groups.get('devs'))?.members, []);
    assert.equal(await store.users.delete('alice'), true);
    assert.deepEqual((await store.groups.get('ops'))?.members, []);
  });
}

function definePermissionTargetTests(define: Define): void {
  define(
    'permissions: create and get; grants sorted by principal, actions in ACTIONS order',
    async (store) => {
      await createUsers(store, 'zed', 'bob', 'Alice');
      for (const name of ['ops', 'devs']) await store.groups.create(groupRecord(name, []));
      const record = targetRecord('docker', {
        grants: {
          users: { zed: ['manage', 'read'], Alice: ['deploy', 'read', 'deploy'], bob: [] },
          groups: { ops: ['delete', 'promote', 'annotate'], devs: ['read'] },
          anonymous: ['read', 'read'],
        },
      });
      await store.permissions.create(record);
      const read = await store.permissions.get('docker');
      assert.deepEqual(read, {
        ...record,
        grants: {
          users: { Alice: ['read', 'deploy'], bob: [], zed: ['read', 'manage'] },
          groups: { devs: ['read'], ops: ['annotate', 'delete', 'promote'] },
          anonymous: ['read'],
        },
      });
      // deepEqual ignores key order; the port promises it.
      assert.deepEqual(Object.keys(read?.grants.users ?? {}), ['Alice', 'bob', 'zed']);
      assert.deepEqual(Object.keys(read?.grants.groups ?? {}), ['devs', 'ops']);
    },
  );

  define('permissions: list in name order; a target without grants', async (store) => {
    await createUsers(store, 'alice');
    const b = targetRecord('b-target', { grants: { users: { alice: ['read'] }, groups: {}, anonymous: [] } });
    const a = targetRecord('a-target', {
      description: '',
      images: { include: ['app', 'lib/*'], exclude: ['lib/x'] },
    });
    const upper = targetRecord('Z-target', { grants: { users: {}, groups: {}, anonymous: ['read'] } });
    for (const t of [b, a, upper]) await store.permissions.create(t);
    assert.deepEqual(await store.permissions.list(), [upper, a, b]);
    assert.deepEqual(await store.permissions.get('a-target'), a);
  });

  define('permissions: create of an existing name throws MetaConflictError', async (store) => {
    await createUsers(store, 'alice', 'bob');
    const first = targetRecord('t', { grants: { users: { alice: ['read'] }, groups: {}, anonymous: [] } });
    await store.permissions.create(first);
    const second = targetRecord('t', { grants: { users: { bob: ['manage'] }, groups: {}, anonymous: [] } });
    await assert.rejects(store.permissions.create(second), MetaConflictError);
    assert.deepEqual(await store.permissions.get('t'), first);
  });

  define('permissions: grants to unknown users or groups are refused, nothing stored', async (store) => {
    await createUsers(store, 'alice', 'devs');
    await store.groups.create(groupRecord('ops', []));
    const withGrants = (grants: Partial<PermissionTargetRecord['grants']>) =>
      targetRecord('t', { grants: { users: {}, groups: {}, anonymous: ['read'], ...grants } });
    await assert.rejects(
      store.permissions.create(withGrants({ users: { alice: ['read'], ghost: ['read'] } })),
      unknownPrincipal('user', 'ghost'),
    );
    // A user named devs is not a group, a group named ops is not a user.
    await assert.rejects(
      store.permissions.create(withGrants({ groups: { ops: ['read'], devs: ['read'] } })),
      unknownPrincipal('group', 'devs'),
    );
    await assert.rejects(
      store.permissions.create(withGrants({ users: { ops: ['read'] } })),
      unknownPrincipal('user', 'ops'),
    );
    assert.equal(await store.permissions.get('t'), undefined);
    assert.deepEqual(await store.permissions.list(), []);
    // Nothing half-written either: the name is free and starts with only what is given.
    await store.permissions.create(targetRecord('t'));
    assert.deepEqual(await store.permissions.get('t'), targetRecord('t'));
  });

  define('permissions: replace changes everything but name and createdAt', async (store) => {
    await createUsers(store, 'alice', 'bob');
    await store.groups.create(groupRecord('devs', []));
    await store.permissions.create(
      targetRecord('t', {
        grants: {
          users: { alice: ['read'], bob: ['read'] },
          groups: { devs: ['read'] },
          anonymous: ['read'],
        },
      }),
    );
    const replacement = targetRecord('t', {
      description: 'new',
      repositories: { include: ['prod'], exclude: [] },
      images: { include: ['app'], exclude: ['app-old'] },
      grants: { users: { bob: ['manage', 'deploy'] }, groups: {}, anonymous: [] },
      createdAt: T2,
      updatedAt: T1,
    });
    assert.equal(await store.permissions.replace(replacement), true);
    assert.deepEqual(await store.permissions.get('t'), {
      ...replacement,
      grants: { users: { bob: ['deploy', 'manage'] }, groups: {}, anonymous: [] },
      createdAt: T0,
    });
    assert.equal(await store.permissions.replace(targetRecord('absent')), false);
    assert.equal(await store.permissions.get('absent'), undefined);
  });

  define('permissions: replace with an unknown principal stores nothing', async (store) => {
    await createUsers(store, 'alice');
    const original = targetRecord('t', { grants: { users: { alice: ['read'] }, groups: {}, anonymous: [] } });
    await store.permissions.create(original);
    const replacement = targetRecord('t', {
      description: 'changed',
      grants: { users: { alice: ['manage'] }, groups: { ghosts: ['read'] }, anonymous: ['read'] },
      updatedAt: T1,
    });
    await assert.rejects(store.permissions.replace(replacement), unknownPrincipal('group', 'ghosts'));
    assert.deepEqual(await store.permissions.get('t'), original);
  });

  define('permissions: delete removes the target and its grants', async (store) => {
    await createUsers(store, 'alice');
    const grants = { users: { alice: ['read' as const] }, groups: {}, anonymous: ['read' as const] };
    await store.permissions.create(targetRecord('t', { grants }));
    await store.permissions.create(targetRecord('u', { grants }));
    assert.equal(await store.permissions.delete('t'), true);
    assert.equal(await store.permissions.delete('t'), false);
    assert.equal(await store.permissions.get('t'), undefined);
    assert.deepEqual(
      (await store.permissions.list()).map((t) => t.name),
      ['u'],
    );
    assert.deepEqual((await store.permissions.get('u'))?.grants, grants);
    await store.permissions.create(targetRecord('t'));
    assert.deepEqual((await store.permissions.get('t'))?.grants, { users: {}, groups: {}, anonymous: [] });
    // Deleting the user removes its grant in u; the anonymous grant stays.
    assert.equal(await store.users.delete('alice'), true);
    assert.deepEqual((await store.permissions.get('u'))?.grants, {
      users: {},
      groups: {},
      anonymous: ['read'],
    });
  });
}

function defineApiTokenTests(define: Define): void {
  define('api tokens: create, get, and list sorted by id, all or per owner', async (store) => {
    await createUsers(store, 'alice', 'bob');
    const scoped = tokenRecord('tok-B', 'alice', {
      targets: ['docker', 'helm'],
      actions: ['deploy', 'read', 'deploy'],
      expiresAt: T3,
    });
    const tokens = [
      scoped,
      tokenRecord('tok-a', 'bob'),
      tokenRecord('tok-C', 'bob', { targets: [], actions: [] }),
      tokenRecord('tok-b', 'alice', { lastUsedAt: T1, revokedAt: T2 }),
    ];
    for (const token of tokens) await store.apiTokens.create(token);
    const normalised = { ...scoped, actions: ['read' as const, 'deploy' as const] };
    assert.deepEqual(await store.apiTokens.get('tok-B'), normalised);
    assert.deepEqual(await store.apiTokens.get('tok-C'), tokens[2]);
    assert.deepEqual(
      (await store.apiTokens.list()).map((t) => t.id),
      ['tok-B', 'tok-C', 'tok-a', 'tok-b'],
    );
    assert.deepEqual(await store.apiTokens.list('alice'), [normalised, tokens[3]]);
    assert.deepEqual(
      (await store.apiTokens.list('bob')).map((t) => t.id),
      ['tok-C', 'tok-a'],
    );
    assert.deepEqual(await store.apiTokens.list('carol'), []);
    assert.equal(await store.apiTokens.get('tok-x'), undefined);
  });

  define('api tokens: a taken id is a conflict; an unknown owner is refused', async (store) => {
    await createUsers(store, 'alice', 'bob');
    await store.groups.create(groupRecord('devs', []));
    await store.apiTokens.create(tokenRecord('t1', 'alice'));
    await assert.rejects(store.apiTokens.create(tokenRecord('t1', 'bob')), MetaConflictError);
    await assert.rejects(
      store.apiTokens.create(tokenRecord('t2', 'ghost')),
      unknownPrincipal('user', 'ghost'),
    );
    await assert.rejects(store.apiTokens.create(tokenRecord('t3', 'devs')), unknownPrincipal('user', 'devs'));
    assert.deepEqual(await store.apiTokens.list(), [tokenRecord('t1', 'alice')]);
  });

  define('api tokens: revoke once; a second revoke or an absent id is false', async (store) => {
    await createUsers(store, 'alice');
    await store.apiTokens.create(tokenRecord('t1', 'alice'));
    await store.apiTokens.create(tokenRecord('t2', 'alice'));
    assert.equal(await store.apiTokens.revoke('t1', T1), true);
    assert.equal(await store.apiTokens.revoke('t1', T2), false);
    assert.equal(await store.apiTokens.revoke('nope', T1), false);
    assert.equal((await store.apiTokens.get('t1'))?.revokedAt, T1, 'the first revocation stands');
    assert.equal((await store.apiTokens.get('t2'))?.revokedAt, null);
    assert.deepEqual(
      (await store.apiTokens.list('alice')).map((t) => [t.id, t.revokedAt]),
      [
        ['t1', T1],
        ['t2', null],
      ],
    );
  });

  define('api tokens: touch records the last use, of that token only', async (store) => {
    await createUsers(store, 'alice');
    await store.apiTokens.create(tokenRecord('t1', 'alice'));
    await store.apiTokens.create(tokenRecord('t2', 'alice'));
    await store.apiTokens.touch('t1', T1);
    assert.equal((await store.apiTokens.get('t1'))?.lastUsedAt, T1);
    await store.apiTokens.touch('t1', T2);
    assert.deepEqual(await store.apiTokens.get('t1'), tokenRecord('t1', 'alice', { lastUsedAt: T2 }));
    assert.equal((await store.apiTokens.get('t2'))?.lastUsedAt, null);
    await store.apiTokens.touch('nope', T1);
    assert.equal(await store.apiTokens.get('nope'), undefined);
  });
}

function defineSigningKeyTests(define: Define): void {
  define(
    'signing keys: replacePrivateJwk changes the stored private key text of one key only',
    async (store) => {
      await store.signingKeys.add(keyRecord('k0', T0));
      await store.signingKeys.add(keyRecord('k1', T1, { retiredAt: T2 }));
      await store.signingKeys.replacePrivateJwk('k1', 'enc:v1:sealed');
      await store.signingKeys.replacePrivateJwk('nope', 'enc:v1:other');
      assert.deepEqual(await store.signingKeys.list(), [
        keyRecord('k0', T0),
        keyRecord('k1', T1, { retiredAt: T2, privateJwk: 'enc:v1:sealed' }),
      ]);
    },
  );

  define('signing keys: add, list oldest first, delete', async (store) => {
    const keys = [keyRecord('k-new', T2), keyRecord('k-old', T0, { retiredAt: T1 }), keyRecord('k-mid', T1)];
    for (const key of keys) await store.signingKeys.add(key);
    assert.deepEqual(await store.signingKeys.list(), [keys[1], keys[2], keys[0]]);
    await assert.rejects(store.signingKeys.add(keyRecord('k-mid', T3)), MetaConflictError);
    assert.equal(await store.signingKeys.delete('k-old'), true);
    assert.equal(await store.signingKeys.delete('k-old'), false);
    assert.equal(await store.signingKeys.delete('nope'), false);
    assert.deepEqual(await store.signingKeys.list(), [keys[2], keys[0]]);
  });

  define(
    'signing keys: retireAllBut retires every other active key, keeps earlier retirements',
    async (store) => {
      await store.signingKeys.add(keyRecord('k0', T0, { retiredAt: T1 }));
      await store.signingKeys.add(keyRecord('k1', T1));
      await store.signingKeys.add(keyRecord('k2', T2));
      await store.signingKeys.add(keyRecord('k3', T3));
      await store.signingKeys.retireAllBut('k3', T3);
      assert.deepEqual(
        (await store.signingKeys.list()).map((k) => [k.kid, k.retiredAt]),
        [
          ['k0', T1],
          ['k1', T3],
          ['k2', T3],
          ['k3', null],
        ],
      );
      // With an unknown kid every key is retired.
      await store.signingKeys.retireAllBut('none', '2024-06-01T00:00:00.000Z');
      assert.deepEqual(
        (await store.signingKeys.list()).map((k) => k.retiredAt),
        [T1, T3, T3, '2024-06-01T00:00:00.000Z'],
      );
    },
  );
}

function defineAuditTests(define: Define): void {
  define('audit: append assigns increasing ids; query is newest first and round-trips', async (store) => {
    const first = auditEvent('user.create', {
      id: 999, // the store's to assign
      repository: null,
      target: 'bob',
      address: '192.0.2.1',
      detail: { admin: true, groups: ['devs'], nested: { n: 1 } },
    });
    const second = auditEvent('manifest.push', {
      at: T0, // same instant: order is by id
      actor: 'token:abc',
      repository: 'docker-dev',
      target: 'team/app:1.0',
      outcome: 'denied',
    });
    await store.audit.append([first, second]);
    await store.audit.append([
      auditEvent('login.failure', { at: '2024-04-30T00:00:00.000Z', outcome: 'failure' }),
    ]);
    const events = await store.audit.query({ limit: 10 });
    assert.deepEqual(
      events.map((e) => e.action),
      ['login.failure', 'manifest.push', 'user.create'],
    );
    const ids = events.map((e) => e.id ?? Number.NaN);
    assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, `ids ${ids} decrease`);
    assert.deepEqual(events[2], { ...first, id: ids[2] });
    assert.deepEqual(events[1], { ...second, id: ids[1] });
    await store.audit.append([]);
    assert.equal((await store.audit.query({ limit: 10 })).length, 3);
  });

  define('audit: every filter narrows; action matches exactly or by prefix ending in "."', async (store) => {
    await store.audit.append([
      auditEvent('user.create', { actor: 'admin', target: 'bob', at: T0 }),
      auditEvent('user.delete', { actor: 'admin', target: 'bob', at: T1 }),
      auditEvent('user', { actor: 'admin', at: T1 }),
      auditEvent('users.list', { actor: 'admin', at: T1 }),
      auditEvent('user-agent.seen', { actor: 'admin', at: T1 }),
      auditEvent('manifest.push', { actor: 'ci', repository: 'dev', at: T1 }),
      auditEvent('manifest.push.retry', { actor: 'ci', repository: 'dev', at: T2 }),
      auditEvent('manifest.push', { actor: 'ci', repository: 'prod', at: T2, outcome: 'denied' }),
      auditEvent('tag.move', { actor: 'alice', repository: 'dev', at: T3, outcome: 'failure' }),
    ]);
    const targets = async (query: Omit<Parameters<MetadataStore['audit']['query']>[0], 'limit'>) =>
      (await store.audit.query({ ...query, limit: 100 })).map((e) => `${e.action}@${e.repository ?? '-'}`);

    assert.deepEqual(await targets({ action: 'user.' }), ['user.delete@-', 'user.create@-']);
    assert.deepEqual(await targets({ action: 'user' }), ['user@-']);
    assert.deepEqual(await targets({ action: 'manifest.push' }), ['manifest.push@prod', 'manifest.push@dev']);
    assert.deepEqual(await targets({ action: 'manifest.' }), [
      'manifest.push@prod',
      'manifest.push.retry@dev',
      'manifest.push@dev',
    ]);
    assert.deepEqual(await targets({ action: 'manifest.push.' }), ['manifest.push.retry@dev']);
    assert.deepEqual(await targets({ action: 'nothing.' }), []);
    assert.deepEqual(await targets({ actor: 'alice' }), ['tag.move@dev']);
    assert.deepEqual(await targets({ actor: 'ali' }), []);
    assert.deepEqual(await targets({ repository: 'dev' }), [
      'tag.move@dev',
      'manifest.push.retry@dev',
      'manifest.push@dev',
    ]);
    assert.deepEqual(await targets({ outcome: 'denied' }), ['manifest.push@prod']);
    assert.equal((await targets({ outcome: 'success' })).length, 7);
    assert.deepEqual(await targets({ since: T2 }), [
      'tag.move@dev',
      'manifest.push@prod',
      'manifest.push.retry@dev',
    ]);
    assert.deepEqual(await targets({ until: T1 }), ['user.create@-']);
    assert.deepEqual(await targets({ since: T1, until: T2, actor: 'ci' }), ['manifest.push@dev']);
    assert.deepEqual(await targets({ repository: 'dev', action: 'manifest.', since: T2 }), [
      'manifest.push.retry@dev',
    ]);
    assert.deepEqual(await targets({ actor: 'ci', outcome: 'failure' }), []);
  });

  define('audit: limit and beforeId page newest first by id, not by time', async (store) => {
    // Clocks can step back: `at` goes down while ids go up.
    const ats = ['2024-05-01T10:00:05.000Z', T3, T0, T2, T1];
    await store.audit.append(ats.map((at, i) => auditEvent('tag.move', { at, target: `e${i}` })));
    const all = await store.audit.query({ limit: 100 });
    assert.deepEqual(
      all.map((e) => e.target),
      ['e4', 'e3', 'e2', 'e1', 'e0'],
    );
    const page1 = await store.audit.query({ limit: 2 });
    assert.deepEqual(
      page1.map((e) => e.target),
      ['e4', 'e3'],
    );
    const page2 = await store.audit.query({ limit: 2, beforeId: page1.at(-1)?.id });
    assert.deepEqual(
      page2.map((e) => e.target),
      ['e2', 'e1'],
    );
    const page3 = await store.audit.query({ limit: 2, beforeId: page2.at(-1)?.id });
    assert.deepEqual(
      page3.map((e) => e.target),
      ['e0'],
    );
    assert.deepEqual(await store.audit.query({ limit: 2, beforeId: page3[0]?.id }), []);
    assert.deepEqual(await store.audit.query({ limit: 0 }), []);
    const filtered = await store.audit.query({ limit: 1, since: T1, beforeId: all[1]?.id });
    assert.deepEqual(
      filtered.map((e) => e.target),
      ['e1'],
    );
  });

  define('audit: a long append lands whole, in order, or not at all', async (store) => {
    const many = Array.from({ length: 1234 }, (_, i) => auditEvent('repo.scan', { target: `e${i}` }));
    await store.audit.append(many);
    const read = await store.audit.query({ limit: 2000 });
    assert.equal(read.length, 1234);
    assert.deepEqual(
      read.map((e) => e.target),
      many.map((e) => e.target).reverse(),
    );

    // The event past the first chunk cannot be written: the events before it are rolled back.
    const broken = Array.from({ length: 700 }, (_, i) =>
      auditEvent('user.update', { target: `b${i}`, detail: i === 650 ? { n: 1n } : null }),
    );
    await assert.rejects(store.audit.append(broken));
    assert.deepEqual(await store.audit.query({ action: 'user.', limit: 10 }), []);
    assert.equal((await store.audit.query({ limit: 2000 })).length, 1234);
  });
}
