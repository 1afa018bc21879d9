import type { ApiTokenRecord } from '../identity-records.ts';
import type { ApiTokenMeta } from '../identity-store.ts';
import type { QueryContext } from './context.ts';
import { translatePrincipals, users } from './principals.ts';
import { fromApiToken, toApiToken } from './rows.ts';

export class KyselyApiTokenMeta implements ApiTokenMeta {
  constructor(private readonly ctx: QueryContext) {}

  /**
   * MetaConflictError when the id is taken. One insert: the foreign key to users refuses an
   * unknown owner, which becomes UnknownPrincipalError.
   */
  async create(record: ApiTokenRecord): Promise<void> {
    await translatePrincipals(this.ctx, `API token ${record.id}`, users([record.owner]), () =>
      this.ctx.db.insertInto('api_tokens').values(fromApiToken(record)).execute(),
    );
  }

  async get(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toApiToken(row);
  }

  /** One owner's tokens are a range of the (owner, id) index, already in id order. */
  async list(owner?: string): Promise<ApiTokenRecord[]> {
    let query = this.ctx.db.selectFrom('api_tokens').selectAll().orderBy('id');
    if (owner !== undefined) query = query.where('owner', '=', owner);
    return (await query.execute()).map(toApiToken);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** One indexed update; never moves lastUsedAt back (concurrent requests finish out of order). */
  async touch(id: string, at: string): Promise<void> {
    await this.ctx.db
      .updateTable('api_tokens')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}
