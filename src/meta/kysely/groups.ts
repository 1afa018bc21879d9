import type { Kysely } from 'kysely';
import type { GroupRecord } from '../identity-records.ts';
import type { GroupMeta } from '../identity-store.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';
import { appendEvents, identityEvent } from './outbox.ts';
import { byteOrder, requirePrincipals, translatePrincipals, users } from './principals.ts';

export class KyselyGroupMeta implements GroupMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** MetaConflictError when the name is taken; UnknownPrincipalError for a member that is no user. */
  async create(record: GroupRecord): Promise<void> {
    const members = distinctSorted(record.members);
    await translatePrincipals(this.ctx, `group ${record.name}`, users(members), () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await requirePrincipals(trx, users(members));
        const { name, description, createdAt } = record;
        await trx.insertInto('groups').values({ name, description, created_at: createdAt }).execute();
        await insertMembers(trx, name, members);
        const data = { name, change: 'created', members };
        await appendEvents(trx, this.ctx.now().toISOString(), [identityEvent('group', name, data)]);
      }),
    );
  }

  async get(name: string): Promise<GroupRecord | undefined> {
    return (await this.select(name))[0];
  }

  async list(): Promise<GroupRecord[]> {
    return this.select();
  }

  async update(name: string, changes: { description?: string; members?: string[] }): Promise<boolean> {
    const members = changes.members && distinctSorted(changes.members);
    return translatePrincipals(this.ctx, `group ${name}`, users(members ?? []), () =>
      this.ctx.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('groups').select('name').where('name', '=', name).executeTakeFirst();
        if (row === undefined) return false;
        if (changes.description !== undefined) {
          await trx
            .updateTable('groups')
            .set({ description: changes.description })
            .where('name', '=', name)
            .execute();
        }
        if (members !== undefined) {
          await requirePrincipals(trx, users(members));
          await trx.deleteFrom('group_members').where('group_name', '=', name).execute();
          await insertMembers(trx, name, members);
        }
        const data = { name, change: 'updated', ...(members === undefined ? {} : { members }) };
        await appendEvents(trx, this.ctx.now().toISOString(), [identityEvent('group', name, data)]);
        return true;
      }),
    );
  }

  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('group_name', '=', name).execute();
      await trx
        .deleteFrom('permission_grants')
        .where('principal_kind', '=', 'group')
        .where('principal', '=', name)
        .execute();
      const result = await trx.deleteFrom('groups').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      const event = identityEvent('group', name, { name, change: 'deleted' });
      await appendEvents(trx, this.ctx.now().toISOString(), [event]);
      return true;
    });
  }

  /**
   * Groups with their members in one statement (one consistent read without a transaction):
   * rows come in group order, each group's members in byte order (group_members.user_name is
   * COLLATE "C" on PostgreSQL); a group without members has one row with a null member.
   */
  private async select(name?: string): Promise<GroupRecord[]> {
    let query = this.ctx.db
      .selectFrom('groups')
      .leftJoin('group_members', 'group_members.group_name', 'groups.name')
      .select(['groups.name', 'groups.description', 'groups.created_at', 'group_members.user_name'])
      .orderBy('groups.name')
      .orderBy('group_members.user_name');
    if (name !== undefined) query = query.where('groups.name', '=', name);
    const groups: GroupRecord[] = [];
    for (const row of await query.execute()) {
      let group = groups.at(-1);
      if (group?.name !== row.name) {
        group = { name: row.name, description: row.description, members: [], createdAt: row.created_at };
        groups.push(group);
      }
      if (row.user_name !== null) group.members.push(row.user_name);
    }
    return groups;
  }
}

async function insertMembers(
  trx: Kysely<Database>,
  group: string,
  members: readonly string[],
): Promise<void> {
  for (const part of chunks(members)) {
    await trx
      .insertInto('group_members')
      .values(part.map((user) => ({ group_name: group, user_name: user })))
      .execute();
  }
}

/** A member listed twice is a member once. */
function distinctSorted(names: readonly string[]): string[] {
  return [...new Set(names)].sort(byteOrder);
}
