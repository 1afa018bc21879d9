import type { EndedSessionMeta } from '../identity-store.ts';
import type { QueryContext } from './context.ts';

export class KyselyEndedSessionMeta implements EndedSessionMeta {
  constructor(private readonly ctx: QueryContext) {}

  async end(id: string, expiresAt: string): Promise<void> {
    await this.ctx.db
      .insertInto('ended_sessions')
      .values({ id, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async isEnded(id: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('ended_sessions')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  async purgeExpired(now: string): Promise<number> {
    const result = await this.ctx.db
      .deleteFrom('ended_sessions')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
