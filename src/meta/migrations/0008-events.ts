import type { Kysely, Migration } from 'kysely';
import { bytewiseText, rowNumber } from './dialect.ts';

// Domain events and their delivery to webhooks.
//
// - outbox_events: one row per domain event, written in the same transaction as the change it
//   describes (so a rolled-back change has no event and a committed one always has). The id
//   orders events; the dispatcher reads them in id order.
// - webhook_subscriptions: where to send which events. `secret` is SecretBox ciphertext.
// - webhook_deliveries: one row per (subscription, event), created by the dispatcher's fan-out.
//   `order_key` (the event's subject) holds later deliveries of the same key back while an
//   earlier one is pending. Replays add rows again (a delivery is never rewritten into another).
// - job_cursors: how far a background job has read the outbox (the fan-out's restart point).

export const events: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('outbox_events')
      .addColumn('id', ...rowNumber(db))
      .addColumn('event_id', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('repository', 'text')
      .addColumn('image', 'text')
      .addColumn('subject', 'text')
      .addColumn('actor', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('outbox_events_at').on('outbox_events').column('at').execute();
    await db.schema
      .createTable('webhook_subscriptions')
      .addColumn('id', bytewiseText(db), (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('repositories', 'text', (c) => c.notNull())
      .addColumn('images', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('owner_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', ...rowNumber(db))
      .addColumn('subscription_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'bigint', (c) => c.notNull())
      .addColumn('order_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_key')
      .on('webhook_deliveries')
      .columns(['subscription_id', 'order_key', 'id'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_due')
      .on('webhook_deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema
      .createTable('job_cursors')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['job_cursors', 'webhook_deliveries', 'webhook_subscriptions', 'outbox_events']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
