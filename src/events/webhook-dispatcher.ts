import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../config/logger.ts';
import type { OutboxEvent, WebhookDelivery, WebhookSubscription } from '../meta/event-records.ts';
import type { DeliveryOutcome, NewDelivery } from '../meta/event-store.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { AddressDeniedError } from '../net/address-policy.ts';
import type { GuardedHttp } from '../net/guarded-http.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { structuredMessage } from './cloud-event.ts';
import { type OwnerLookup, receives } from './webhook-audience.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';

export interface DispatcherOptions {
  meta: MetadataStore;
  http: GuardedHttp;
  secrets: SecretBox;
  owners: OwnerLookup;
  log: Logger;
  /** CloudEvents `source`: the instance's URL. */
  source: string;
  maxAgeSeconds: number;
  timeoutSeconds: number;
  retrySeconds: number;
  /** Attempts in flight at once per subscription. */
  concurrency: number;
  /** Told each attempt's result (metrics). */
  onAttempt?: (result: 'delivered' | 'failed' | 'dead-lettered') => void;
  /** True while requests are being served: passes wait (bounded) until it is false. */
  busy?: () => boolean;
  /** How often the outbox is looked at when nobody calls wake() (other nodes' writes, retries). */
  pollMs?: number;
  /**
   * The dispatcher lease: only its holder dispatches, so several processes on one database
   * deliver each event once. Renewed while held; another process takes over once it expires.
   */
  leaseMs?: number;
  /** This process's name in the lease (unique per process). */
  holder?: string;
  /**
   * Events older than this, fan-out done and no delivery pending, are removed with their
   * deliveries (by the lease holder, at start and then hourly). Undefined: kept for ever.
   */
  retentionMs?: number;
  now?: () => Date;
}

const CURSOR = 'webhooks';
/** The row in job_leases (next to the GC's `gc`). */
const LEASE = 'webhooks';
const LEASE_MS = 30_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Events removed per transaction: a prune never holds the writer for long. */
const PRUNE_BATCH = 500;
const BATCH = 500;
const MAX_BACKOFF_MS = 3_600_000;
const EXCERPT_BYTES = 1024;
/** Wakes, and finished attempts, gathered this long share one pass or one commit. */
const COALESCE_MS = 25;
const MAX_DEFER_MS = 250;
const DEFER_STEP_MS = 5;

type StoredSubscription = { subscription: WebhookSubscription; secret: string };

/**
 * Delivers the outbox to webhook subscriptions, in the background: a request that writes an
 * event never waits for it (wake() only schedules a pass).
 *
 * - Fan-out: outbox events are read in id order from a cursor; each matching subscription gets a
 *   delivery row, and the rows and the new cursor commit together. All state is in the database,
 *   so after a crash (kill -9 between a commit and its delivery) the next start carries on.
 * - Order: a delivery goes out only when no earlier delivery of the same subscription and
 *   subject is pending (WebhookMeta.due), so a failing one holds the later ones of its key until
 *   it succeeds or is dead-lettered; other keys and other subscriptions go on.
 * - At least once: an attempt that fails (non-2xx, refused address, timeout) is retried with
 *   exponential backoff and jitter until the event is older than maxAgeSeconds, then the delivery
 *   is dead. A crash after the receiver answered and before the outcome is recorded sends it again.
 * - A hanging receiver holds at most `concurrency` attempts of its own subscription, each cut after
 *   timeoutSeconds; the others are not affected.
 * - One dispatcher at a time: a pass starts only while this process holds the `webhooks` lease
 *   (job_leases). It is renewed when half of it is left, so a pass costs no write for it; a
 *   process that dies keeps it until it expires, then another one takes over from the database
 *   state. Attempts already in flight when the lease is lost still finish and record (at least
 *   once allows the overlap).
 */
export class WebhookDispatcher {
  readonly #o: DispatcherOptions;
  readonly #now: () => Date;
  readonly #inFlight = new Set<number>();
  readonly #perSubscription = new Map<string, number>();
  readonly #attempts = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #scheduled: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Outcomes of finished attempts, written together by #flush. */
  #outcomes: { id: number; outcome: DeliveryOutcome }[] = [];
  #flushing: Promise<void> | undefined;
  #deferredSince: number | undefined;
  /** The encoded CloudEvent per event id: the same body goes to every subscription (and retry). */
  readonly #messages = new Map<number, { headers: Record<string, string>; body: string }>();
  #again = false;
  /** Until when this process holds the lease (as it last wrote it); 0 when it does not. */
  #leaseUntil = 0;
  #prunedAt = 0;
  readonly #holder: string;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID()}`;
  }

  /** Whether this process may dispatch now: takes or renews the lease when half of it is gone. */
  async #holdLease(): Promise<boolean> {
    const leaseMs = this.#o.leaseMs ?? LEASE_MS;
    const now = Date.now();
    if (now < this.#leaseUntil - leaseMs / 2) return true;
    const until = now + leaseMs;
    const held = await this.#o.meta.gc.acquireLease(LEASE, this.#holder, new Date(until));
    this.#leaseUntil = held ? until : 0;
    return held;
  }

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.#o.pollMs ?? 1000);
    this.#timer.unref();
    this.wake();
  }

  /**
   * Schedules a pass soon (after a write, after an attempt); never waits for it. Wakes within
   * COALESCE_MS share one pass: a push is several requests, and each pass costs queries on the
   * connection the requests use.
   */
  wake(): void {
    if (this.#stopped || this.#scheduled) return;
    this.#scheduled = setTimeout(() => {
      this.#scheduled = undefined;
      this.#run();
    }, COALESCE_MS);
  }

  #run(): void {
    if (this.#stopped) return;
    // Background work yields to requests in flight, for at most MAX_DEFER_MS at a time.
    const now = Date.now();
    if (this.#o.busy?.() && this.#deferredSince === undefined) this.#deferredSince = now;
    if (this.#o.busy?.() && now - (this.#deferredSince ?? now) < MAX_DEFER_MS) {
      this.#scheduled ??= setTimeout(() => {
        this.#scheduled = undefined;
        this.#run();
      }, DEFER_STEP_MS);
      return;
    }
    this.#deferredSince = undefined;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((error: unknown) => this.#o.log.error({ err: error }, 'webhook dispatch failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          setImmediate(() => this.#run());
        }
      });
  }

  /** Stops scheduling and waits for the pass and attempts in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#scheduled) clearTimeout(this.#scheduled);
    this.#abort.abort();
    await this.#running;
    await Promise.allSettled([...this.#attempts]);
    await this.#flushing;
    await this.#flush();
    // Released at a clean stop, so another process need not wait for the expiry.
    if (this.#leaseUntil > 0) await this.#o.meta.gc.releaseLease(LEASE, this.#holder);
  }

  async #pass(): Promise<void> {
    if (!(await this.#holdLease())) return;
    await this.#pruneWhenDue();
    while (!this.#stopped && (await this.#fanOut()) === BATCH) {}
    if (!this.#stopped) await this.#deliverDue();
  }

  /** The retention job; a failure is logged and tried again at the next interval. */
  async #pruneWhenDue(): Promise<void> {
    const { retentionMs, meta, log } = this.#o;
    if (retentionMs === undefined || Date.now() - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = Date.now();
    const before = new Date(this.#now().getTime() - retentionMs).toISOString();
    let removed = 0;
    try {
      for (let n = PRUNE_BATCH; n === PRUNE_BATCH && !this.#stopped; removed += n) {
        n = await meta.webhooks.prune(CURSOR, before, PRUNE_BATCH);
        // Between batches, requests get the connection.
        await new Promise((done) => setImmediate(done));
      }
    } catch (error) {
      log.error({ err: error }, 'pruning the outbox failed');
    }
    if (removed > 0) log.info({ removed, before }, 'pruned delivered events');
  }

  /** One batch of the outbox into delivery rows; returns how many events it read. */
  async #fanOut(): Promise<number> {
    const { meta } = this.#o;
    const cursor = (await meta.outbox.cursor(CURSOR)) ?? 0;
    const events = await meta.outbox.after(cursor, BATCH);
    if (events.length === 0) return 0;
    const subscriptions = await meta.webhooks.list();
    const deliveries: NewDelivery[] = [];
    for (const event of events) {
      for (const s of subscriptions) {
        // A subscription starts with the events after its creation (earlier ones: replay).
        if (event.at >= s.createdAt && receives(s, event, this.#o.owners)) {
          deliveries.push({ subscriptionId: s.id, eventId: event.id, orderKey: event.subject });
        }
      }
    }
    const last = events[events.length - 1] as OutboxEvent;
    await meta.webhooks.fanOut(CURSOR, last.id, deliveries);
    return events.length;
  }

  async #deliverDue(): Promise<void> {
    const { meta } = this.#o;
    const due = await meta.webhooks.due(this.#now().toISOString(), 200);
    const ready = due.filter((d) => !this.#inFlight.has(d.id));
    if (ready.length === 0) return;
    const events = new Map((await meta.outbox.get(ready.map((d) => d.eventId))).map((e) => [e.id, e]));
    if (this.#messages.size > 10_000) this.#messages.clear();
    const subscriptions = new Map<string, StoredSubscription | undefined>();
    for (const id of new Set(ready.map((d) => d.subscriptionId))) {
      subscriptions.set(id, await meta.webhooks.get(id));
    }
    for (const delivery of ready) {
      const running = this.#perSubscription.get(delivery.subscriptionId) ?? 0;
      if (running >= this.#o.concurrency) continue;
      this.#perSubscription.set(delivery.subscriptionId, running + 1);
      this.#inFlight.add(delivery.id);
      const stored = subscriptions.get(delivery.subscriptionId);
      const attempt = this.#attempt(delivery, stored, events.get(delivery.eventId))
        .then((outcome) => {
          // Deleted meanwhile (with its rows): nothing to record.
          if (outcome === undefined) this.#inFlight.delete(delivery.id);
          else this.#outcomes.push({ id: delivery.id, outcome });
        })
        .catch((error: unknown) => {
          this.#inFlight.delete(delivery.id);
          this.#o.log.error({ err: error, delivery: delivery.id }, 'webhook attempt failed');
        })
        .finally(() => {
          this.#attempts.delete(attempt);
          const left = (this.#perSubscription.get(delivery.subscriptionId) ?? 1) - 1;
          if (left <= 0) this.#perSubscription.delete(delivery.subscriptionId);
          else this.#perSubscription.set(delivery.subscriptionId, left);
          this.#scheduleFlush();
        });
      this.#attempts.add(attempt);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = new Promise<void>((done) => setTimeout(done, COALESCE_MS))
      .then(() => this.#flush())
      .catch((error: unknown) => this.#o.log.error({ err: error }, 'recording webhook deliveries failed'))
      .finally(() => {
        this.#flushing = undefined;
        if (this.#outcomes.length > 0) this.#scheduleFlush();
        else this.wake();
      });
  }

  /**
   * Writes the outcomes gathered since the last flush in one transaction. A delivery stays in
   * flight (not picked again) until its outcome is written; a crash before that sends it again.
   */
  async #flush(): Promise<void> {
    const batch = this.#outcomes;
    this.#outcomes = [];
    if (batch.length === 0) return;
    try {
      await this.#o.meta.webhooks.record(batch);
    } finally {
      for (const { id } of batch) this.#inFlight.delete(id);
    }
  }

  /** One attempt; its outcome, or undefined when the subscription or the event is gone. */
  async #attempt(
    delivery: WebhookDelivery,
    stored: StoredSubscription | undefined,
    event: OutboxEvent | undefined,
  ): Promise<DeliveryOutcome | undefined> {
    if (stored === undefined || event === undefined) return undefined;
    const { subscription } = stored;
    if (!receives(subscription, event, this.#o.owners)) {
      return this.#finished(delivery, 'dead', { error: 'the owner may no longer read this event' });
    }
    const secret = this.#o.secrets.open(stored.secret, `the secret of webhook ${subscription.id}`);
    const result = await this.#send(subscription.url, event, secret);
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    this.#o.onAttempt?.(ok ? 'delivered' : 'failed');
    if (ok) return this.#finished(delivery, 'delivered', result);
    const attempts = delivery.attempts + 1;
    const now = this.#now().getTime();
    const tooOld = now - Date.parse(event.at) >= this.#o.maxAgeSeconds * 1000;
    if (tooOld) {
      this.#o.onAttempt?.('dead-lettered');
      return this.#finished(delivery, 'dead', result);
    }
    const backoff = Math.min(MAX_BACKOFF_MS, this.#o.retrySeconds * 1000 * 2 ** (attempts - 1));
    const jittered = backoff * (0.8 + Math.random() * 0.4);
    const next = new Date(Math.min(now + jittered, Date.parse(event.at) + this.#o.maxAgeSeconds * 1000));
    const timer = setTimeout(() => this.wake(), next.getTime() - now + COALESCE_MS + 5);
    timer.unref();
    return {
      status: 'pending',
      attempts,
      nextAttemptAt: next.toISOString(),
      responseStatus: result.status,
      responseBody: result.body,
      error: result.error,
      finishedAt: null,
    };
  }

  #finished(
    delivery: WebhookDelivery,
    status: 'delivered' | 'dead',
    result: { status?: number | null; body?: string | null; error?: string | null },
  ): DeliveryOutcome {
    const at = this.#now().toISOString();
    return {
      status,
      attempts: delivery.attempts + (status === 'dead' && result.status === undefined ? 0 : 1),
      nextAttemptAt: at,
      responseStatus: result.status ?? null,
      responseBody: result.body ?? null,
      error: result.error ?? null,
      finishedAt: at,
    };
  }

  /** One POST; never throws: a refused address, a timeout or a reset is an `error`. */
  async #send(
    url: string,
    event: OutboxEvent,
    secret: string,
  ): Promise<{ status: number | null; body: string | null; error: string | null }> {
    const message = this.#messages.get(event.id) ?? structuredMessage(event, this.#o.source);
    this.#messages.set(event.id, message);
    const { body } = message;
    const headers = { ...message.headers };
    const t = Math.floor(this.#now().getTime() / 1000);
    headers[SIGNATURE_HEADER] = signatureHeader(secret, body, t);
    headers['content-length'] = String(Buffer.byteLength(body));
    headers['user-agent'] = 'Gantry-Webhooks/1';
    const timeout = AbortSignal.timeout(this.#o.timeoutSeconds * 1000);
    const signal = AbortSignal.any([timeout, this.#abort.signal]);
    try {
      const response = await this.#o.http.send(new URL(url), { method: 'POST', headers, body, signal });
      const text = await excerpt(response);
      return { status: response.status, body: text, error: null };
    } catch (error) {
      if (error instanceof AddressDeniedError) return { status: null, body: null, error: error.message };
      const name = error instanceof Error ? error.name : '';
      const timedOut = name === 'TimeoutError' || timeout.aborted;
      const message = timedOut
        ? `no answer within ${this.#o.timeoutSeconds} s`
        : error instanceof Error
          ? error.message
          : String(error);
      return { status: null, body: null, error: message };
    }
  }
}

/** The start of the receiver's answer; the rest is dropped unread. */
async function excerpt(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}
