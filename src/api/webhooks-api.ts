import type { FastifyInstance } from 'fastify';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import type { WebhookService } from '../events/webhook-service.ts';
import type { OutboxEvent, WebhookSubscription } from '../meta/event-records.ts';
import { auditChange, requireSignedIn } from './api-auth.ts';

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

  app.get('/webhooks', async (request) => ({ webhooks: await webhooks.list(requireSignedIn(request)) }));

  app.post('/webhooks', async (request, reply) => {
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

  app.get<{ Params: { id: string } }>('/webhooks/:id', async (request) =>
    webhooks.get(requireSignedIn(request), request.params.id),
  );

  app.patch<{ Params: { id: string } }>('/webhooks/:id', async (request) => {
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

  app.delete<{ Params: { id: string } }>('/webhooks/:id', async (request, reply) => {
    const p = requireSignedIn(request);
    const deleted = await webhooks.delete(p, request.params.id);
    auditChange(request, access, {
      action: 'webhook.delete',
      target: deleted.id,
      detail: auditView(deleted),
    });
    reply.code(204);
  });

  app.get<{ Params: { id: string }; Querystring: { status?: string; before?: string; limit?: string } }>(
    '/webhooks/:id/deliveries',
    async (request) => ({
      deliveries: await webhooks.deliveries(requireSignedIn(request), request.params.id, request.query),
    }),
  );

  app.post<{ Params: { id: string } }>('/webhooks/:id/replay', async (request, reply) => {
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
  });
}

function auditView(s: WebhookSubscription): Record<string, unknown> {
  return { url: s.url, events: s.events, repositories: s.repositories, images: s.images };
}
