import type { AuditEvent, AuditQuery } from '../identity-records.ts';
import type { AuditMeta } from '../identity-store.ts';
import { chunks, type QueryContext } from './context.ts';
import { fromAuditEvent, toAuditEvent } from './rows.ts';

export class KyselyAuditMeta implements AuditMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** Ids grow in the order given; an id set by the caller is ignored. */
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const part of chunks(events)) {
        await trx.insertInto('audit_events').values(part.map(fromAuditEvent)).execute();
      }
    });
  }

  /**
   * Newest first by id (insertion order, not `at`: clocks can step back). An action prefix
   * `p.` is the byte range `p.` <= action < `p/` ('/' is the byte after '.'; audit_events.action
   * is COLLATE "C" on PostgreSQL), which an index can scan, unlike LIKE.
   */
  async query(query: AuditQuery): Promise<AuditEvent[]> {
    let select = this.ctx.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(query.limit);
    if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
    if (query.repository !== undefined) select = select.where('repository', '=', query.repository);
    if (query.outcome !== undefined) select = select.where('outcome', '=', query.outcome);
    if (query.action !== undefined) {
      const action = query.action;
      select = action.endsWith('.')
        ? select.where('action', '>=', action).where('action', '<', `${action.slice(0, -1)}/`)
        : select.where('action', '=', action);
    }
    if (query.since !== undefined) select = select.where('at', '>=', query.since);
    if (query.until !== undefined) select = select.where('at', '<', query.until);
    if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
    return (await select.execute()).map(toAuditEvent);
  }
}
