import type { Kysely, Migration } from 'kysely';
import { bytewiseText, rowNumber } from './dialect.ts';

// Users, groups, permission targets with their grants, API tokens, signing keys and the audit
// log. Same rules as 0001-initial: the schema builder only, foreign keys without ON DELETE
// CASCADE (deletes are explicit, in one transaction), every foreign key indexed, byte-order
// collation on the columns lists are ordered by.
//
// permission_grants.principal names a user or a group depending on principal_kind, so it has no
// foreign key: the store checks the principal exists in the transaction that writes the grant,
// and deletes a user's or group's grants together with it.

export const identity: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await createUsers(db);
    await createGroups(db);
    await createPermissionTargets(db);
    await createApiTokens(db);
    await createSigningKeys(db);
    await createAuditEvents(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      'audit_events',
      'signing_keys',
      'api_tokens',
      'permission_grants',
      'permission_targets',
      'group_members',
      'groups',
      'users',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

async function createUsers(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('name', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('admin', 'integer', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

async function createGroups(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('groups')
    .addColumn('name', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // The primary key lists a group's members in byte order and covers the foreign key to groups.
  await db.schema
    .createTable('group_members')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('user_name', bytewiseText(db), (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_name', 'user_name'])
    .addForeignKeyConstraint('group_members_group_fk', ['group_name'], 'groups', ['name'])
    .addForeignKeyConstraint('group_members_user_fk', ['user_name'], 'users', ['name'])
    .execute();
  await db.schema.createIndex('group_members_user').on('group_members').column('user_name').execute();
}

async function createPermissionTargets(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('permission_targets')
    .addColumn('name', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('repositories', 'text', (c) => c.notNull())
    .addColumn('images', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The primary key covers the foreign key to permission_targets; the index finds a principal's
  // grants (deleting a user or group, resolving what a caller may do).
  await db.schema
    .createTable('permission_grants')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('principal_kind', 'text', (c) => c.notNull())
    .addColumn('principal', bytewiseText(db), (c) => c.notNull())
    .addColumn('actions', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('permission_grants_pk', ['target', 'principal_kind', 'principal'])
    .addForeignKeyConstraint('permission_grants_target_fk', ['target'], 'permission_targets', ['name'])
    .execute();
  await db.schema
    .createIndex('permission_grants_principal')
    .on('permission_grants')
    .columns(['principal_kind', 'principal'])
    .execute();
}

async function createApiTokens(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('targets', 'text')
    .addColumn('actions', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .addForeignKeyConstraint('api_tokens_owner_fk', ['owner'], 'users', ['name'])
    .execute();
  // Ends with id so one owner's tokens come out in id order straight from the index.
  await db.schema.createIndex('api_tokens_owner').on('api_tokens').columns(['owner', 'id']).execute();
}

async function createSigningKeys(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', bytewiseText(db), (c) => c.primaryKey())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .execute();
}

async function createAuditEvents(db: Kysely<unknown>): Promise<void> {
  // `action` is compared as a range of bytes (prefix queries), hence the byte-order collation.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', ...rowNumber(db))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', bytewiseText(db), (c) => c.notNull())
    .addColumn('repository', 'text')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('detail', 'text')
    .execute();
  // Queries read newest first by id; each filter's index ends with id so an exact match is read
  // backwards in that order without sorting.
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  for (const column of ['actor', 'repository', 'action'] as const) {
    await db.schema
      .createIndex(`audit_events_${column}`)
      .on('audit_events')
      .columns([column, 'id'])
      .execute();
  }
}
