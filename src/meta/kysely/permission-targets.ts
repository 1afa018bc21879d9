import type { Insertable, Kysely } from 'kysely';
import type { DomainEvent } from '../event-records.ts';
import type { Grants, PermissionTargetRecord } from '../identity-records.ts';
import type { PermissionTargetMeta } from '../identity-store.ts';
import type { Database, PermissionGrantsTable } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';
import { appendEvents, identityEvent } from './outbox.ts';
import {
  byteOrder,
  groups,
  type Principal,
  requirePrincipals,
  translatePrincipals,
  users,
} from './principals.ts';
import { normaliseActions, parseActions, parsePatterns } from './rows.ts';

export class KyselyPermissionTargetMeta implements PermissionTargetMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** MetaConflictError when the name is taken; UnknownPrincipalError for a grant to no one. */
  async create(record: PermissionTargetRecord): Promise<void> {
    const principals = granted(record.grants);
    await translatePrincipals(this.ctx, `permission target ${record.name}`, principals, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await requirePrincipals(trx, principals);
        await trx
          .insertInto('permission_targets')
          .values({
            name: record.name,
            description: record.description,
            repositories: JSON.stringify(record.repositories),
            images: JSON.stringify(record.images),
            created_at: record.createdAt,
            updated_at: record.updatedAt,
          })
          .execute();
        await insertGrants(trx, record.name, record.grants);
        await appendEvents(trx, this.ctx.now().toISOString(), [permissionEvent('created', record)]);
      }),
    );
  }

  async get(name: string): Promise<PermissionTargetRecord | undefined> {
    return (await this.select(name))[0];
  }

  async list(): Promise<PermissionTargetRecord[]> {
    return this.select();
  }

  async replace(record: PermissionTargetRecord): Promise<boolean> {
    const principals = granted(record.grants);
    return translatePrincipals(this.ctx, `permission target ${record.name}`, principals, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('permission_targets')
          .set({
            description: record.description,
            repositories: JSON.stringify(record.repositories),
            images: JSON.stringify(record.images),
            updated_at: record.updatedAt,
          })
          .where('name', '=', record.name)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await requirePrincipals(trx, principals);
        await trx.deleteFrom('permission_grants').where('target', '=', record.name).execute();
        await insertGrants(trx, record.name, record.grants);
        await appendEvents(trx, this.ctx.now().toISOString(), [permissionEvent('updated', record)]);
        return true;
      }),
    );
  }

  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('permission_grants').where('target', '=', name).execute();
      const result = await trx.deleteFrom('permission_targets').where('name', '=', name).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      const event = identityEvent('permission', name, { name, change: 'deleted' });
      await appendEvents(trx, this.ctx.now().toISOString(), [event]);
      return true;
    });
  }

  /**
   * Targets with their grants in one statement (one consistent read without a transaction), in
   * target order, each target's grants by kind and then principal in byte order; a target
   * without grants has one row with null grant columns.
   */
  private async select(name?: string): Promise<PermissionTargetRecord[]> {
    let query = this.ctx.db
      .selectFrom('permission_targets as t')
      .leftJoin('permission_grants as g', 'g.target', 't.name')
      .select([
        't.name',
        't.description',
        't.repositories',
        't.images',
        't.created_at',
        't.updated_at',
        'g.principal_kind',
        'g.principal',
        'g.actions',
      ])
      .orderBy('t.name')
      .orderBy('g.principal_kind')
      .orderBy('g.principal');
    if (name !== undefined) query = query.where('t.name', '=', name);
    const targets: PermissionTargetRecord[] = [];
    for (const row of await query.execute()) {
      let target = targets.at(-1);
      if (target?.name !== row.name) {
        target = {
          name: row.name,
          description: row.description,
          repositories: parsePatterns(row.repositories),
          images: parsePatterns(row.images),
          grants: { users: {}, groups: {}, anonymous: [] },
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        };
        targets.push(target);
      }
      if (row.principal_kind === null || row.principal === null || row.actions === null) continue;
      const actions = parseActions(row.actions);
      if (row.principal_kind === 'user') target.grants.users[row.principal] = actions;
      else if (row.principal_kind === 'group') target.grants.groups[row.principal] = actions;
      else target.grants.anonymous = actions;
    }
    return targets;
  }
}

/** The users, then the groups, a target grants to, each in byte order. */
function granted(grants: Grants): Principal[] {
  const names = (map: Record<string, unknown>) => Object.keys(map).sort(byteOrder);
  return [...users(names(grants.users)), ...groups(names(grants.groups))];
}

/** One row per principal; the anonymous grant only when it grants something. */
async function insertGrants(trx: Kysely<Database>, target: string, grants: Grants): Promise<void> {
  const rows: Insertable<PermissionGrantsTable>[] = [];
  for (const kind of ['user', 'group'] as const) {
    const map = kind === 'user' ? grants.users : grants.groups;
    for (const [principal, actions] of Object.entries(map)) {
      rows.push({
        target,
        principal_kind: kind,
        principal,
        actions: JSON.stringify(normaliseActions(actions)),
      });
    }
  }
  const anonymous = normaliseActions(grants.anonymous);
  if (anonymous.length > 0) {
    rows.push({ target, principal_kind: 'anonymous', principal: '', actions: JSON.stringify(anonymous) });
  }
  for (const part of chunks(rows)) await trx.insertInto('permission_grants').values(part).execute();
}

function permissionEvent(change: 'created' | 'updated', record: PermissionTargetRecord): DomainEvent {
  const { name, repositories, images, grants } = record;
  return identityEvent('permission', name, { name, change, repositories, images, grants });
}
