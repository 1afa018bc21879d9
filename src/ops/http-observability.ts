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

/** Probes and scrapes: logged at debug so a load balancer polling every second floods nothing. */
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
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
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
    const seconds = reply.elapsedTime / 1000;
    options.metrics.request({
      route,
      method: request.method,
      status: reply.statusCode,
      seconds,
      received,
      sent,
    });
    const path = request.url.split('?', 1)[0] ?? '';
    const line = {
      method: request.method,
      path: path.slice(0, 300),
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (QUIET.has(path)) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });
}

function routeOf(request: FastifyRequest): string {
  return request.metricsRoute ?? request.routeOptions.url ?? 'unmatched';
}
