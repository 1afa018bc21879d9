import type { Selectable } from 'kysely';
import type { DeliveryStatus, WebhookDelivery, WebhookSubscription } from '../event-records.ts';
import type { DeliveryOutcome, NewDelivery, WebhookMeta } from '../event-store.ts';
import { MetaConflictError } from '../metadata-store.ts';
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';

export class KyselyWebhookMeta implements WebhookMeta {
  constructor(private readonly ctx: QueryContext) {}

  async create(s: WebhookSubscription, secret: string): Promise<void> {
    try {
      await this.ctx.db
        .insertInto('webhook_subscriptions')
        .values({
          id: s.id,
          url: s.url,
          events: JSON.stringify(s.events),
          repositories: JSON.stringify(s.repositories),
          images: JSON.stringify(s.images),
          secret,
          owner_id: s.ownerId,
          owner_name: s.ownerName,
          description: s.description,
          created_at: s.createdAt,
        })
        .execute();
    } catch (error) {
      if (this.ctx.violation(error) === 'unique')
        throw new MetaConflictError(`webhook ${s.id} already exists`, { cause: error });
      throw error;
    }
  }

  async get(id: string): Promise<{ subscription: WebhookSubscription; secret: string } | undefined> {
    const row = await this.ctx.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { subscription: toSubscription(row), secret: row.secret };
  }

  async list(): Promise<WebhookSubscription[]> {
    const rows = await this.ctx.db.selectFrom('webhook_subscriptions').selectAll().orderBy('id').execute();
    return rows.map(toSubscription);
  }

  async update(
    id: string,
    changes: Partial<
      Pick<WebhookSubscription, 'url' | 'events' | 'repositories' | 'images' | 'description'>
    > & {
      secret?: string;
    },
  ): Promise<boolean> {
    const set: Partial<
      Record<'url' | 'events' | 'repositories' | 'images' | 'description' | 'secret', string>
    > = {};
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.events !== undefined) set.events = JSON.stringify(changes.events);
    if (changes.repositories !== undefined) set.repositories = JSON.stringify(changes.repositories);
    if (changes.images !== undefined) set.images = JSON.stringify(changes.images);
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.secret !== undefined) set.secret = changes.secret;
    if (Object.keys(set).length === 0) return (await this.get(id)) !== undefined;
    const result = await this.ctx.db
      .updateTable('webhook_subscriptions')
      .set(set)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
      const result = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async fanOut(cursor: string, position: number, deliveries: readonly NewDelivery[]): Promise<void> {
    const at = this.ctx.now().toISOString();
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const part of chunks(deliveries, 200)) {
        await trx
          .insertInto('webhook_deliveries')
          .values(part.map((d) => newRow(d, at)))
          .execute();
      }
      await trx
        .insertInto('job_cursors')
        .values({ name: cursor, position })
        .onConflict((oc) => oc.column('name').doUpdateSet({ position }))
        .execute();
    });
  }

  async enqueue(deliveries: readonly NewDelivery[]): Promise<number> {
    const at = this.ctx.now().toISOString();
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const part of chunks(deliveries, 200)) {
        await trx
          .insertInto('webhook_deliveries')
          .values(part.map((d) => newRow(d, at)))
          .execute();
      }
    });
    return deliveries.length;
  }

  async due(now: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.ctx.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select('e.type as event_type')
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_deliveries as p')
              .select('p.id')
              .whereRef('p.subscription_id', '=', 'd.subscription_id')
              .whereRef('p.order_key', '=', 'd.order_key')
              .where('p.status', '=', 'pending')
              .whereRef('p.id', '<', 'd.id'),
          ),
        ),
      )
      .orderBy('d.id')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async record(outcomes: readonly { id: number; outcome: DeliveryOutcome }[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const { id, outcome: o } of outcomes) {
        await trx
          .updateTable('webhook_deliveries')
          .set({
            status: o.status,
            attempts: o.attempts,
            next_attempt_at: o.nextAttemptAt,
            response_status: o.responseStatus,
            response_body: o.responseBody,
            error: o.error,
            finished_at: o.finishedAt,
          })
          .where('id', '=', id)
          .execute();
      }
    });
  }

  async deliveries(
    subscriptionId: string,
    query: { status?: DeliveryStatus; beforeId?: number; limit: number },
  ): Promise<WebhookDelivery[]> {
    let q = this.ctx.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select('e.type as event_type')
      .where('d.subscription_id', '=', subscriptionId)
      .orderBy('d.id', 'desc')
      .limit(query.limit);
    if (query.status !== undefined) q = q.where('d.status', '=', query.status);
    if (query.beforeId !== undefined) q = q.where('d.id', '<', query.beforeId);
    return (await q.execute()).map(toDelivery);
  }

  async pendingCount(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async prune(cursor: string, before: string, limit: number): Promise<number> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const read = await trx
        .selectFrom('job_cursors')
        .select('position')
        .where('name', '=', cursor)
        .executeTakeFirst();
      if (!read) return 0;
      const old = await trx
        .selectFrom('outbox_events as e')
        .select('e.id')
        .where('e.at', '<', before)
        .where('e.id', '<=', Number(read.position))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('webhook_deliveries as d')
                .select('d.id')
                .whereRef('d.event_id', '=', 'e.id')
                .where('d.status', '=', 'pending'),
            ),
          ),
        )
        .orderBy('e.id')
        .limit(limit)
        .execute();
      const ids = old.map((e) => Number(e.id));
      for (const part of chunks(ids)) {
        await trx.deleteFrom('webhook_deliveries').where('event_id', 'in', part).execute();
        await trx.deleteFrom('outbox_events').where('id', 'in', part).execute();
      }
      return ids.length;
    });
  }
}

function newRow(d: NewDelivery, at: string) {
  return {
    subscription_id: d.subscriptionId,
    event_id: d.eventId,
    order_key: d.orderKey,
    status: 'pending',
    attempts: 0,
    next_attempt_at: at,
    response_status: null,
    response_body: null,
    error: null,
    created_at: at,
    finished_at: null,
  };
}

function toSubscription(row: Selectable<WebhookSubscriptionsTable>): WebhookSubscription {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    repositories: JSON.parse(row.repositories) as string[],
    images: JSON.parse(row.images) as string[],
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    description: row.description,
    createdAt: row.created_at,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable> & { event_type: string }): WebhookDelivery {
  return {
    id: Number(row.id),
    subscriptionId: row.subscription_id,
    eventId: Number(row.event_id),
    eventType: row.event_type,
    orderKey: row.order_key,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    error: row.error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}
