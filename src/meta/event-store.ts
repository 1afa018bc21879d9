import type {
  DeliveryStatus,
  DomainEvent,
  OutboxEvent,
  WebhookDelivery,
  WebhookSubscription,
} from './event-records.ts';

/**
 * The outbox. The write methods of the other ports append their events themselves, in their own
 * transaction; `append` is for events with no other write to ride on (a login locked).
 */
export interface OutboxMeta {
  /** Appends the events in one transaction of their own. */
  append(events: readonly DomainEvent[]): Promise<void>;
  /** Events with an id above `id`, oldest first, at most `limit`. */
  after(id: number, limit: number): Promise<OutboxEvent[]>;
  /** The events with these ids that exist, in id order. */
  get(ids: readonly number[]): Promise<OutboxEvent[]>;
  /** Events within an id range and/or a time range (inclusive), in id order, at most `limit`. */
  range(range: {
    fromId?: number;
    toId?: number;
    fromAt?: string;
    toAt?: string;
    limit: number;
  }): Promise<OutboxEvent[]>;
  /** Where a job stopped reading, or undefined before its first run. */
  cursor(name: string): Promise<number | undefined>;
  /** The newest event id, 0 when there is none. */
  latestId(): Promise<number>;
}

/** A new delivery of one event to one subscription. */
export interface NewDelivery {
  subscriptionId: string;
  eventId: number;
  orderKey: string;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  finishedAt: string | null;
}

export interface WebhookMeta {
  /** MetaConflictError when the id exists. `secret` is stored as given (ciphertext). */
  create(subscription: WebhookSubscription, secret: string): Promise<void>;
  get(id: string): Promise<{ subscription: WebhookSubscription; secret: string } | undefined>;
  /** By id. */
  list(): Promise<WebhookSubscription[]>;
  /** Replaces the given fields; false when absent. */
  update(
    id: string,
    changes: Partial<
      Pick<WebhookSubscription, 'url' | 'events' | 'repositories' | 'images' | 'description'>
    > & {
      secret?: string;
    },
  ): Promise<boolean>;
  /** Removes the subscription with its deliveries. */
  delete(id: string): Promise<boolean>;
  /**
   * Adds deliveries and moves the named cursor to `position`, in one transaction: a crash
   * between the two can neither lose events nor deliver them twice from the fan-out.
   */
  fanOut(cursor: string, position: number, deliveries: readonly NewDelivery[]): Promise<void>;
  /** Adds deliveries (a replay), due now. */
  enqueue(deliveries: readonly NewDelivery[]): Promise<number>;
  /**
   * Pending deliveries due at `now` that are first of their (subscription, order key): a
   * delivery waits while an earlier one of its key is pending. Oldest first, at most `limit`.
   */
  due(now: string, limit: number): Promise<WebhookDelivery[]>;
  /** Records attempts' outcomes, all in one transaction (one commit for a batch of attempts). */
  record(outcomes: readonly { id: number; outcome: DeliveryOutcome }[]): Promise<void>;
  /** Newest first, below `beforeId`. */
  deliveries(
    subscriptionId: string,
    query: { status?: DeliveryStatus; beforeId?: number; limit: number },
  ): Promise<WebhookDelivery[]>;
  /** Number of pending deliveries (the backlog). */
  pendingCount(): Promise<number>;
  /**
   * Removes up to `limit` of the oldest outbox events that are older than `before`, already read
   * by the fan-out `cursor` and have no pending delivery, together with their (finished)
   * deliveries, in one transaction. Returns how many events went: fewer than `limit` when no
   * more qualify. Replay reaches back only as far as the events left.
   */
  prune(cursor: string, before: string, limit: number): Promise<number>;
}
