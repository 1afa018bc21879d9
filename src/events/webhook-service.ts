import { randomBytes } from 'node:crypto';
import type { AccessPolicy } from '../auth/access-policy.ts';
import { patternProblem } from '../auth/patterns.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import {
  type DeliveryStatus,
  EVENT_TYPES,
  isEventType,
  type OutboxEvent,
  type WebhookDelivery,
  type WebhookSubscription,
} from '../meta/event-records.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { AddressDeniedError, type AddressPolicy } from '../net/address-policy.ts';
import type { SecretBox } from '../secrets/secret-box.ts';

const MAX_REPLAY = 10_000;

/**
 * Webhook subscriptions: who may create, see and change them, and what they hold.
 * - Administrators may do everything. Others may manage a subscription only when it names its
 *   repositories (no "everything") and they hold `manage` on each of them; they see only those.
 * - The secret is stored encrypted and never returned.
 * - The URL must be http(s) and its host must pass the upstream address policy (the same
 *   allow/deny list as remote repositories); the policy is checked again at every connect.
 */
export class WebhookService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly secrets: SecretBox,
    private readonly addresses: AddressPolicy,
    private readonly policy: () => AccessPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(p: Principal, body: Record<string, unknown>): Promise<WebhookSubscription> {
    const input = this.validate(body, { partial: false });
    const secret = input.secret as string;
    const subscription: WebhookSubscription = {
      id: `wh_${randomBytes(9).toString('base64url')}`,
      url: input.url as string,
      events: input.events ?? [],
      repositories: input.repositories ?? [],
      images: input.images ?? [],
      ownerId: p.id ?? '',
      ownerName: p.name,
      description: input.description ?? '',
      createdAt: this.now().toISOString(),
    };
    this.requireManage(p, subscription.repositories);
    await this.meta.webhooks.create(subscription, this.secrets.seal(secret));
    return subscription;
  }

  async list(p: Principal): Promise<WebhookSubscription[]> {
    return (await this.meta.webhooks.list()).filter((s) => this.mayManage(p, s.repositories));
  }

  /** NotFound also for subscriptions the caller may not manage: their existence is not revealed. */
  async get(p: Principal, id: string): Promise<WebhookSubscription> {
    const found = await this.meta.webhooks.get(id);
    if (found === undefined || !this.mayManage(p, found.subscription.repositories))
      throw notFound(`webhook ${id} does not exist`);
    return found.subscription;
  }

  async update(p: Principal, id: string, body: Record<string, unknown>): Promise<WebhookSubscription> {
    const current = await this.get(p, id);
    const input = this.validate(body, { partial: true });
    if (input.repositories !== undefined) this.requireManage(p, input.repositories);
    const { secret, ...rest } = input;
    await this.meta.webhooks.update(id, {
      ...rest,
      ...(secret === undefined ? {} : { secret: this.secrets.seal(secret) }),
    });
    return { ...current, ...rest };
  }

  async delete(p: Principal, id: string): Promise<WebhookSubscription> {
    const current = await this.get(p, id);
    await this.meta.webhooks.delete(id);
    return current;
  }

  async deliveries(
    p: Principal,
    id: string,
    query: { status?: string; before?: string; limit?: string },
  ): Promise<WebhookDelivery[]> {
    await this.get(p, id);
    const status = query.status;
    if (status !== undefined && !['pending', 'delivered', 'dead'].includes(status))
      throw badRequest('status must be pending, delivered or dead');
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit must be 1 to 1000');
    const beforeId = query.before === undefined ? undefined : Number(query.before);
    if (beforeId !== undefined && !Number.isInteger(beforeId))
      throw badRequest('before must be a delivery id');
    return this.meta.webhooks.deliveries(id, {
      ...(status === undefined ? {} : { status: status as DeliveryStatus }),
      ...(beforeId === undefined ? {} : { beforeId }),
      limit,
    });
  }

  /**
   * Delivers again every event in the range (event ids from `from` to `to`, or ISO times) that
   * the subscription receives now: new delivery rows, in event order, due at once. Returns how
   * many were queued.
   */
  async replay(
    p: Principal,
    id: string,
    body: Record<string, unknown>,
    receives: (s: WebhookSubscription, e: OutboxEvent) => boolean,
  ): Promise<{ queued: number; fromEventId: number | null; toEventId: number | null }> {
    const subscription = await this.get(p, id);
    const range = replayRange(body);
    const events = await this.meta.outbox.range({ ...range, limit: MAX_REPLAY + 1 });
    if (events.length > MAX_REPLAY)
      throw badRequest(`the range holds more than ${MAX_REPLAY} events; replay it in smaller ranges`);
    const chosen = events.filter((e) => receives(subscription, e));
    const queued = await this.meta.webhooks.enqueue(
      chosen.map((e) => ({ subscriptionId: id, eventId: e.id, orderKey: e.subject })),
    );
    return { queued, fromEventId: chosen[0]?.id ?? null, toEventId: chosen.at(-1)?.id ?? null };
  }

  private mayManage(p: Principal, repositories: readonly string[]): boolean {
    if (!p.authenticated) return false;
    if (p.admin && !p.token?.targets) return true;
    if (repositories.length === 0) return false;
    return repositories.every((r) => this.policy().allows(p, 'manage', r));
  }

  private requireManage(p: Principal, repositories: readonly string[]): void {
    if (this.mayManage(p, repositories)) return;
    if (repositories.length === 0)
      throw forbidden('only administrators may subscribe to every repository; list the repositories');
    throw forbidden(
      `a webhook needs the manage permission on each of its repositories (${repositories.join(', ')})`,
    );
  }

  private validate(
    body: Record<string, unknown>,
    options: { partial: boolean },
  ): {
    url?: string;
    events?: string[];
    repositories?: string[];
    images?: string[];
    secret?: string;
    description?: string;
  } {
    const known = new Set(['url', 'events', 'repositories', 'images', 'secret', 'description']);
    for (const key of Object.keys(body)) if (!known.has(key)) throw badRequest(`unknown field ${key}`);
    const out: ReturnType<WebhookService['validate']> = {};
    if (body.url !== undefined || !options.partial) out.url = this.checkUrl(body.url);
    if (body.secret !== undefined || !options.partial) {
      if (typeof body.secret !== 'string' || body.secret.length < 16 || body.secret.length > 256)
        throw badRequest('secret must be a string of 16 to 256 characters (openssl rand -hex 32)');
      out.secret = body.secret;
    }
    if (body.events !== undefined) {
      out.events = stringList(body.events, 'events');
      const unknown = out.events.filter((e) => !isEventType(e));
      if (unknown.length > 0)
        throw badRequest(`unknown event types: ${unknown.join(', ')}`, { known: [...EVENT_TYPES] });
    }
    if (body.repositories !== undefined) out.repositories = stringList(body.repositories, 'repositories');
    if (body.images !== undefined) {
      out.images = stringList(body.images, 'images');
      for (const pattern of out.images) {
        const problem = patternProblem(pattern);
        if (problem !== undefined) throw badRequest(`image pattern ${JSON.stringify(pattern)} ${problem}`);
      }
    }
    if (body.description !== undefined) {
      if (typeof body.description !== 'string' || body.description.length > 1000)
        throw badRequest('description must be a string of at most 1000 characters');
      out.description = body.description;
    }
    return out;
  }

  private checkUrl(value: unknown): string {
    if (typeof value !== 'string') throw badRequest('url must be an http or https URL');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw badRequest(`url ${JSON.stringify(value)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('url must be http or https');
    if (url.username !== '' || url.password !== '')
      throw badRequest('url must not carry credentials; the secret signs each delivery');
    const verdict = this.addresses.checkHost(url.hostname);
    if (verdict && !verdict.allowed) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      throw badRequest(new AddressDeniedError(host, host, verdict.rule).message);
    }
    return url.toString();
  }
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '') || value.length > 100)
    throw badRequest(`${field} must be a list of at most 100 non-empty strings`);
  return [...new Set(value as string[])];
}

/** `{from, to}` as event ids (numbers) or ISO times (strings); both ends inclusive and optional. */
function replayRange(body: Record<string, unknown>): {
  fromId?: number;
  toId?: number;
  fromAt?: string;
  toAt?: string;
} {
  const out: { fromId?: number; toId?: number; fromAt?: string; toAt?: string } = {};
  for (const end of ['from', 'to'] as const) {
    const value = body[end];
    if (value === undefined) continue;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      if (end === 'from') out.fromId = value;
      else out.toId = value;
    } else if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) {
      const at = new Date(value).toISOString();
      if (end === 'from') out.fromAt = at;
      else out.toAt = at;
    } else throw badRequest(`${end} must be an event id or an ISO time like 2026-01-31T12:00:00Z`);
  }
  if (Object.keys(out).length === 0)
    throw badRequest(
      'send {"from": <event id or time>, "to": <event id or time>} (either end may be left out)',
    );
  return out;
}
