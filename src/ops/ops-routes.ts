import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireAdmin } from '../api/api-auth.ts';
import { sendProblem } from '../api/problem-reply.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { AuthenticationError } from '../auth/authenticator.ts';
import type { Logger } from '../config/logger.ts';
import { tooManyRequests, unauthorized } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Metrics } from './metrics.ts';

export interface OpsOptions {
  metrics: Metrics;
  meta: Pick<MetadataStore, 'ping'>;
  blobs: Pick<BlobStore, 'probe'>;
  authenticator: Authenticator;
  /** Whether shutdown has begun (ConnectionGuard.draining). */
  draining: () => boolean;
  /** Bearer token that may read /metrics on the main port besides administrators. */
  metricsToken?: string | undefined;
  log: Logger;
}

/**
 * The routes for load balancers, orchestrators and Prometheus, outside /v2 and /api:
 * - `GET /healthz`: the process answers (liveness); no dependency is asked, so a slow database
 *   never gets a healthy process restarted.
 * - `GET /readyz`: the database answers a read, the storage takes a write and shutdown has not
 *   begun (readiness); 503 with the reason otherwise. Unauthenticated, and the reason names the
 *   failing part only (the server log has the error).
 * - `GET /metrics`: administrators (Basic or an API token, as on /api) or `metricsToken` as a
 *   Bearer token; `metricsPort` serves it without credentials on a listener of its own.
 */
export async function opsRoutes(app: FastifyInstance, options: OpsOptions): Promise<void> {
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, options.log));
  const readiness = new Readiness(options);
  app.get('/healthz', async (_request, reply) =>
    reply.header('Cache-Control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', async (_request, reply) => {
    const state = await readiness.check();
    return reply
      .code(state.ready ? 200 : 503)
      .header('Cache-Control', 'no-store')
      .send(state);
  });
  const token = options.metricsToken ? digestOf(options.metricsToken) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (!(token && bearerMatches(request.headers.authorization, token))) {
      await authenticate(request, options.authenticator);
      requireAdmin(request, 'read the metrics (or send the configured metricsToken as a Bearer token)');
    }
    const { contentType, text } = await options.metrics.render();
    return reply.header('Content-Type', contentType).header('Cache-Control', 'no-store').send(text);
  });
}

/**
 * `metricsPort`: a listener serving only `GET /metrics`, open to whoever reaches it (bind it
 * where only the monitoring network does, or firewall it).
 */
export async function listenForMetrics(options: {
  metrics: Metrics;
  host: string;
  port: number;
  log: Logger;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    options.metrics.render().then(
      ({ contentType, text }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        options.log.error({ err }, 'metrics could not be rendered');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be rendered\n');
      },
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  return server;
}

/** The caller as /api would see it: Basic or an API token; a registry token is not for this. */
async function authenticate(request: FastifyRequest, authenticator: Authenticator): Promise<void> {
  try {
    const principal = await authenticator.authenticate(request.headers.authorization, request.ip);
    if (principal.access !== undefined) throw unauthorized('registry tokens are for /v2 only');
    request.principal = principal;
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    if (error.reason === 'limited') throw tooManyRequests(error.message, error.retryAfter);
    throw unauthorized(error.message);
  }
}

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compared as digests, so neither the length nor the content leaks through timing. */
function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const m = header === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] !== undefined && timingSafeEqual(digestOf(m[1]), token);
}

interface ReadyState {
  ready: boolean;
  reason?: string;
  checks: { database: 'ok' | 'failed' | 'skipped'; storage: 'ok' | 'failed' | 'skipped' };
}

/** The readiness checks; logs when readiness changes, not per probe. */
class Readiness {
  #failing = new Set<string>();

  constructor(private readonly options: OpsOptions) {}

  async check(): Promise<ReadyState> {
    if (this.options.draining()) {
      return { ready: false, reason: 'shutting down', checks: { database: 'skipped', storage: 'skipped' } };
    }
    const [database, storage] = await Promise.all([
      this.#run('database', () => this.options.meta.ping()),
      this.#run('storage', () => this.options.blobs.probe()),
    ]);
    const failed = [
      ...(database ? [] : ['the database does not answer']),
      ...(storage ? [] : ['the storage does not take writes']),
    ];
    const checks = { database: database ? 'ok' : 'failed', storage: storage ? 'ok' : 'failed' } as const;
    return failed.length === 0
      ? { ready: true, checks }
      : { ready: false, reason: failed.join('; '), checks };
  }

  async #run(part: string, probe: () => Promise<void>): Promise<boolean> {
    try {
      await probe();
      if (this.#failing.delete(part)) this.options.log.info({ part }, 'ready again');
      return true;
    } catch (err) {
      if (!this.#failing.has(part)) this.options.log.error({ err, part }, 'not ready');
      this.#failing.add(part);
      return false;
    }
  }
}
