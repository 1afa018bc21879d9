import type { Updateable } from 'kysely';
import type { UserRecord } from '../identity-records.ts';
import type { UserMeta } from '../identity-store.ts';
import type { UsersTable } from '../schema.ts';
import { type QueryContext, translateWith } from './context.ts';
import { appendEvents, identityEvent } from './outbox.ts';
import { fromUser, toUser } from './rows.ts';

type UserChanges = Parameters<UserMeta['update']>[1];

export class KyselyUserMeta implements UserMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** MetaConflictError when the name is taken. Users have no parent a caller could miss. */
  async create(record: UserRecord): Promise<void> {
    const on = { conflict: `user ${record.name}`, foreignKey: async (error: unknown) => error };
    await translateWith(this.ctx, on, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(fromUser(record)).execute();
        const data = { name: record.name, change: 'created', admin: record.admin, disabled: record.disabled };
        await appendEvents(trx, this.ctx.now().toISOString(), [identityEvent('user', record.name, data)]);
      }),
    );
  }

  async get(name: string): Promise<UserRecord | undefined> {
    const row = await this.ctx.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUser(row);
  }

  async list(): Promise<UserRecord[]> {
    const rows = await this.ctx.db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async update(name: string, changes: UserChanges): Promise<boolean> {
    const set: Updateable<UsersTable> = {};
    if (changes.email !== undefined) set.email = changes.email;
    if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash;
    if (changes.admin !== undefined) set.admin = changes.admin ? 1 : 0;
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
    if (changes.generation !== undefined) set.generation = changes.generation;
    if (changes.updatedAt !== undefined) set.updated_at = changes.updatedAt;
    if (Object.keys(set).length === 0) return (await this.get(name)) !== undefined;
    // The password hash and generation stay out of the event: only that they changed.
    const data = {
      name,
      change: 'updated',
      ...(changes.admin === undefined ? {} : { admin: changes.admin }),
      ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
      ...(changes.email === undefined ? {} : { email: changes.email }),
      passwordChanged: changes.passwordHash !== undefined,
    };
    return this.ctx.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('users').set(set).where('name', '=', name).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await appendEvents(trx, this.ctx.now().toISOString(), [identityEvent('user', name, data)]);
      return true;
    });
  }

  /** Deletes what names the user explicitly (no ON DELETE CASCADE), then the user. */
  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('user_name', '=', name).execute();
      await trx
        .deleteFrom('permission_grants')
        .where('principal_kind', '=', 'user')
        .where('principal', '=', name)
        .execute();
      await trx.deleteFrom('api_tokens').where('owner', '=', name).execute();
      const result = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      const event = identityEvent('user', name, { name, change: 'deleted' });
      await appendEvents(trx, this.ctx.now().toISOString(), [event]);
      return true;
    });
  }

  async count(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}
