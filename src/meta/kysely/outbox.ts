import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { DomainEvent, EventType, OutboxEvent } from '../event-records.ts';
import type { OutboxMeta } from '../event-store.ts';
import type { Database, OutboxEventsTable } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';

/**
 * Appends events inside the caller's transaction: they commit with the change they describe or
 * not at all. Ids grow in the given order. `at` is the change's own timestamp.
 */
export async function appendEvents(
  trx: Kysely<Database>,
  at: string,
  events: readonly DomainEvent[],
): Promise<void> {
  for (const part of chunks(events, 200)) {
    if (part.length === 0) continue;
    await trx
      .insertInto('outbox_events')
      .values(
        part.map((e) => ({
          event_id: randomUUID(),
          type: e.type,
          repository: e.repository ?? null,
          image: e.image ?? null,
          subject: e.subject,
          actor: e.actor ?? null,
          data: JSON.stringify(e.data),
          at,
        })),
      )
      .execute();
  }
}

/** `<repository>/<image>`: the subject of events about an image. */
export function imageSubject(repository: string, image: string): string {
  return `${repository}/${image}`;
}

/**
 * user.changed / group.changed / permission.changed: about the identity configuration, not a
 * repository, so only administrators' subscriptions receive them.
 */
export function identityEvent(
  kind: 'user' | 'group' | 'permission',
  name: string,
  data: Record<string, unknown>,
): DomainEvent {
  const subject = `${kind === 'permission' ? 'permissions' : `${kind}s`}/${name}`;
  return { type: `io.gantry.${kind}.changed`, subject, data };
}

export class KyselyOutboxMeta implements OutboxMeta {
  constructor(private readonly ctx: QueryContext) {}

  async append(events: readonly DomainEvent[]): Promise<void> {
    const at = this.ctx.now().toISOString();
    await this.ctx.db.transaction().execute((trx) => appendEvents(trx, at, events));
  }

  async after(id: number, limit: number): Promise<OutboxEvent[]> {
    const rows = await this.ctx.db
      .selectFrom('outbox_events')
      .selectAll()
      .where('id', '>', id)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async get(ids: readonly number[]): Promise<OutboxEvent[]> {
    const out: OutboxEvent[] = [];
    for (const part of chunks([...new Set(ids)])) {
      const rows = await this.ctx.db
        .selectFrom('outbox_events')
        .selectAll()
        .where('id', 'in', part)
        .execute();
      out.push(...rows.map(toEvent));
    }
    return out.sort((a, b) => a.id - b.id);
  }

  async range(range: { fromId?: number; toId?: number; fromAt?: string; toAt?: string; limit: number }) {
    let query = this.ctx.db.selectFrom('outbox_events').selectAll().orderBy('id').limit(range.limit);
    if (range.fromId !== undefined) query = query.where('id', '>=', range.fromId);
    if (range.toId !== undefined) query = query.where('id', '<=', range.toId);
    if (range.fromAt !== undefined) query = query.where('at', '>=', range.fromAt);
    if (range.toAt !== undefined) query = query.where('at', '<=', range.toAt);
    return (await query.execute()).map(toEvent);
  }

  async cursor(name: string): Promise<number | undefined> {
    const row = await this.ctx.db
      .selectFrom('job_cursors')
      .select('position')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.position);
  }

  async latestId(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('outbox_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }
}

export function toEvent(row: Selectable<OutboxEventsTable>): OutboxEvent {
  const event: OutboxEvent = {
    id: Number(row.id),
    eventId: row.event_id,
    type: row.type as EventType,
    subject: row.subject ?? '',
    data: JSON.parse(row.data) as Record<string, unknown>,
    at: row.at,
  };
  if (row.repository !== null) event.repository = row.repository;
  if (row.image !== null) event.image = row.image;
  if (row.actor !== null) event.actor = row.actor;
  return event;
}
