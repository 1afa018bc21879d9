import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The route's name for metrics and the access log, when the route that fastify matched is a
     * catch-all (the registry sets the name from its own route table); else fastify's route
     * template is used.
     */
    metricsRoute: string | null;
  }
}

/** Routes of probes and scrapes: logged at debug so a load balancer polling every second floods nothing. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/** Connection counters at the end of the previous response on the same socket (keep-alive). */
interface Counted {
  read: number;
  written: number;
}

/**
 * Request ids, metrics and the access log for every route of `app` (registered on the root
 * instance before any plugin, so its hooks cover the registry, the API and the UI alike).
 * Every response carries `X-Request-Id` (request.id, see request-id.ts); the access line and
 * every line logged through `request.log` carry it as `reqId`.
 *
 * Bytes are the socket's own counters, attributed to the request whose response ends after
 * them: summed over a connection they are exact (headers included), and no stream is touched
 * on the way (a 'data' listener would put request bodies into flowing mode under the handlers).
 */
export function observeRequests<Log extends FastifyBaseLogger>(
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Log>,
  options: { metrics: Metrics },
): void {
  const counted = new WeakMap<Socket, Counted>();
  app.decorateRequest('metricsRoute', null);
  // Callback hooks, not async ones: they run on every request, and a promise each costs.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = routeOf(request);
    const socket = request.raw.socket;
    let received = 0;
    let sent = 0;
    if (socket) {
      const before = counted.get(socket) ?? { read: 0, written: 0 };
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      received = now.read - before.read;
      sent = now.written - before.written;
      counted.set(socket, now);
    }
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    options.metrics.request({ route, method: request.method, status, seconds: ms / 1000, received, sent });
    const level = QUIET.has(route) ? 'debug' : 'info';
    if (enabled(request.log.level, level)) {
      const path = (request.url.split('?', 1)[0] ?? '').slice(0, 300);
      const line = { method: request.method, path, route, status, ms: Math.round(ms * 10) / 10 };
      request.log[level](line, 'request');
    }
    done();
  });
}

/** pino's level numbers: a line is written when its level is at least the logger's. */
const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

function enabled(loggerLevel: string, line: 'debug' | 'info'): boolean {
  return (RANK[line] ?? 0) >= (RANK[loggerLevel] ?? Number.POSITIVE_INFINITY);
}

function routeOf(request: FastifyRequest): string {
  return request.metricsRoute ?? request.routeOptions.url ?? 'unmatched';
}
