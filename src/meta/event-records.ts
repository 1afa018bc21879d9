/**
 * Domain events: what the outbox holds and webhooks deliver. Every type the store writes is in
 * EVENT_TYPES (the README lists each with an example payload; a test keeps the two in sync).
 */
export const EVENT_TYPES = [
  'io.gantry.image.pushed',
  'io.gantry.manifest.deleted',
  'io.gantry.tag.moved',
  'io.gantry.tag.deleted',
  'io.gantry.promotion.done',
  'io.gantry.promotion.refused',
  'io.gantry.approval.given',
  'io.gantry.approval.withdrawn',
  'io.gantry.property.changed',
  'io.gantry.build.published',
  'io.gantry.repository.created',
  'io.gantry.repository.changed',
  'io.gantry.repository.deleted',
  'io.gantry.user.changed',
  'io.gantry.group.changed',
  'io.gantry.permission.changed',
  'io.gantry.login.locked',
  'io.gantry.gc.finished',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** An event as a write appends it; the store adds the id, the UUID and the time. */
export interface DomainEvent {
  type: EventType;
  /** The repository the event is about, when it is about one (what read rights filter on). */
  repository?: string;
  image?: string;
  /** What the event is about (`<repository>/<image>`, `users/<name>`…): the delivery order key. */
  subject: string;
  actor?: string;
  data: Record<string, unknown>;
}

export interface OutboxEvent extends DomainEvent {
  /** Position in the outbox: events are read, delivered per key and replayed in this order. */
  id: number;
  /** UUID, the CloudEvents `id`: the same on every redelivery and replay of the event. */
  eventId: string;
  at: string;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  /** Event types delivered; empty = all. */
  events: string[];
  /** Repository keys delivered; empty = every repository the owner may read. */
  repositories: string[];
  /** Image name glob patterns (`*` matches any run, `/` included; see auth/patterns.ts); empty = all. */
  images: string[];
  /** Whose read rights filter the events (the user who created the subscription). */
  ownerId: string;
  ownerName: string;
  description: string;
  createdAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface WebhookDelivery {
  id: number;
  subscriptionId: string;
  /** outbox id of the event. */
  eventId: number;
  eventType: string;
  orderKey: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}
