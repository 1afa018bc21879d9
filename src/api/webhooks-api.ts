import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import type { WebhookService } from '../events/webhook-service.ts';
import type { OutboxEvent, WebhookSubscription } from '../meta/event-records.ts';
import { auditChange, requireSignedIn } from './api-auth.ts';
import { NoContent, Timestamp } from './api-schema.ts';

const TAGS = ['webhooks'];
const Subscription = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).describe('event types delivered; empty: all'),
  repositories: z.array(z.string()).describe('repository keys; empty: every repository the owner reads'),
  images: z.array(z.string()).describe('image name patterns; empty: all'),
  ownerId: z.string(),
  ownerName: z.string(),
  description: z.string(),
  createdAt: Timestamp,
});
const Delivery = z.object({
  id: z.number(),
  subscriptionId: z.string(),
  eventId: z.number().describe('the outbox id of the event'),
  eventType: z.string(),
  orderKey: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number(),
  nextAttemptAt: Timestamp,
  responseStatus: z.number().nullable(),
  responseBody: z.string().nullable().describe("the start of the receiver's last answer"),
  error: z.string().nullable(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
const Id = z.object({ id: z.string() });
// Bodies are checked by WebhookService, which names what is wrong; documented here.
const SubscriptionBody = z.looseObject({
  url: z.string().optional(),
  events: z.array(z.string()).optional(),
  repositories: z.array(z.string()).optional(),
  images: z.array(z.string()).optional(),
  description: z.string().optional(),
  secret: z.string().optional().describe('signs each delivery (HMAC-SHA256); never shown again'),
});
const schemas = {
  list: {
    summary: 'Webhook subscriptions the caller manages',
    tags: TAGS,
    response: { 200: z.object({ webhooks: z.array(Subscription) }) },
  },
  create: {
    summary: 'Subscribe a URL to events (administrators, or manage on every repository named)',
    tags: TAGS,
    body: SubscriptionBody,
    response: { 201: Subscription },
  },
  get: { summary: 'One webhook subscription', tags: TAGS, params: Id, response: { 200: Subscription } },
  update: {
    summary: 'Change a webhook subscription (fields given replace theirs)',
    tags: TAGS,
    params: Id,
    body: SubscriptionBody,
    response: { 200: Subscription },
  },
  delete: { summary: 'Delete a webhook subscription', tags: TAGS, params: Id, response: { 204: NoContent } },
  deliveries: {
    summary: "A subscription's deliveries, newest first, with status and the receiver's answer",
    tags: TAGS,
    params: Id,
    querystring: z.object({
      status: z.string().optional().describe('pending, delivered or dead'),
      before: z.string().optional().describe('delivery id to page from'),
      limit: z.string().optional(),
    }),
    response: { 200: z.object({ deliveries: z.array(Delivery) }) },
  },
  replay: {
    summary: 'Deliver a range of past events again (event ids or ISO times)',
    tags: TAGS,
    params: Id,
    body: z.looseObject({
      from: z.union([z.number(), z.string()]).optional(),
      to: z.union([z.number(), z.string()]).optional(),
    }),
    response: {
      202: z.object({
        queued: z.number(),
        fromEventId: z.number().nullable(),
        toEventId: z.number().nullable(),
      }),
    },
  },
};

/**
 * `/api/v1/webhooks`: subscriptions, their deliveries and replays (rules in WebhookService).
 * Creating, changing, deleting and replaying are audited as `webhook.*`; the secret is accepted
 * on POST and PATCH and never shown.
 */
export async function webhooksApi(
  app: FastifyInstance,
  access: ApiAccess,
  deps: {
    webhooks: WebhookService;
    receives: (s: WebhookSubscription, e: OutboxEvent) => boolean;
    wake: () => void;
  },
): Promise<void> {
  const { webhooks } = deps;
  const example =
    '{"url": "https://ci.example.com/hook", "events": ["io.gantry.image.pushed"], "repositories": ["docker-dev-local"], "secret": "…"}';

  app.get('/webhooks', { schema: schemas.list }, async (request) => ({
    webhooks: await webhooks.list(requireSignedIn(request)),
  }));

  app.post('/webhooks', { schema: schemas.create }, async (request, reply) => {
    const p = requireSignedIn(request);
    const created = await webhooks.create(p, objectBody(request.body, example));
    auditChange(request, access, {
      action: 'webhook.create',
      target: created.id,
      detail: auditView(created),
    });
    reply.code(201).header('Location', `/api/v1/webhooks/${created.id}`);
    return created;
  });

  app.get<{ Params: { id: string } }>('/webhooks/:id', { schema: schemas.get }, async (request) =>
    webhooks.get(requireSignedIn(request), request.params.id),
  );

  app.patch<{ Params: { id: string } }>('/webhooks/:id', { schema: schemas.update }, async (request) => {
    const p = requireSignedIn(request);
    const updated = await webhooks.update(p, request.params.id, objectBody(request.body, example));
    const changed = Object.keys(request.body as object);
    auditChange(request, access, {
      action: 'webhook.update',
      target: updated.id,
      detail: { ...auditView(updated), changed },
    });
    return updated;
  });

  app.delete<{ Params: { id: string } }>(
    '/webhooks/:id',
    { schema: schemas.delete },
    async (request, reply) => {
      const p = requireSignedIn(request);
      const deleted = await webhooks.delete(p, request.params.id);
      auditChange(request, access, {
        action: 'webhook.delete',
        target: deleted.id,
        detail: auditView(deleted),
      });
      reply.code(204);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { status?: string; before?: string; limit?: string } }>(
    '/webhooks/:id/deliveries',
    { schema: schemas.deliveries },
    async (request) => ({
      deliveries: await webhooks.deliveries(requireSignedIn(request), request.params.id, request.query),
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/webhooks/:id/replay',
    { schema: schemas.replay },
    async (request, reply) => {
      const p = requireSignedIn(request);
      const body = objectBody(request.body, '{"from": 120, "to": 180}');
      const result = await webhooks.replay(p, request.params.id, body, deps.receives);
      auditChange(request, access, {
        action: 'webhook.replay',
        target: request.params.id,
        detail: { range: body, ...result },
      });
      deps.wake();
      reply.code(202);
      return result;
    },
  );
}

function auditView(s: WebhookSubscription): Record<string, unknown> {
  return { url: s.url, events: s.events, repositories: s.repositories, images: s.images };
}
