import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../auth/principal.ts';
import { OciError } from '../oci/errors.ts';
import { resolveName } from './handlers/request-parsing.ts';
import type { RegistryContext, RegistryRequest, Reply } from './http-types.ts';
import { matchRoute } from './routes.ts';
import { toOciError } from './wire-errors.ts';

const API_VERSION = { 'Docker-Distribution-API-Version': 'registry/2.0' };

/**
 * Mounts the OCI Distribution API on `/v2`. Routing is done here from the route table on the
 * raw path rather than by fastify: OCI names contain slashes, and `%2F` must never be decoded
 * into one. Bodies are left unread for handlers to stream (blob uploads never buffer).
 */
export async function registryPlugin(app: FastifyInstance, ctx: RegistryContext): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.setErrorHandler((error, request, reply) => sendError(reply, request, error));
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'] as const;
  const handle = (request: FastifyRequest, reply: FastifyReply) => dispatch(request, reply, ctx);
  app.route({ method: [...methods], url: '/v2', handler: handle });
  app.route({ method: [...methods], url: '/v2/*', handler: handle });
}

async function dispatch(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RegistryContext,
): Promise<FastifyReply> {
  const raw = request.raw.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const match = matchRoute(path);
  if (!match) {
    // No spec code means "no such endpoint"; UNSUPPORTED with 404 says it without pretending
    // that a name or manifest is missing.
    throw new OciError(
      'UNSUPPORTED',
      `no registry endpoint at ${path.slice(0, 200)}`,
      undefined,
      undefined,
      404,
    );
  }
  request.metricsRoute = match.route.name;
  const handler = match.route.methods[request.method as keyof typeof match.route.methods];
  if (!handler) {
    reply.header('Allow', Object.keys(match.route.methods).join(', '));
    throw new OciError('UNSUPPORTED', `${request.method} is not supported on ${match.route.template}`);
  }
  const aborter = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) aborter.abort(new Error('client went away'));
  });
  const req: RegistryRequest = {
    method: request.method,
    params: match.params,
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    headers: request.headers,
    body: request.raw,
    signal: aborter.signal,
    principal: ANONYMOUS,
    address: request.ip,
  };
  const scope = ctx.addressing.scopeFor(request.headers.host, request.raw.socket?.localPort);
  if (scope) req.scope = scope;
  const need = match.route.needs[request.method as keyof typeof match.route.needs] ?? 'signed-in';
  if (need !== 'none') {
    req.principal = await ctx.auth.control.authenticate(req);
    ctx.auth.control.check(req, need, () => resolveName(req, ctx));
  }
  // Returning the reply tells fastify the answer is under way (a stream may still be flowing).
  return send(reply, await handler(req, ctx));
}

function send(reply: FastifyReply, result: Reply): FastifyReply {
  reply.code(result.status).headers(API_VERSION);
  if (result.headers) reply.headers(result.headers);
  const body = result.body;
  if (body === undefined) return reply.send();
  if (Buffer.isBuffer(body) || body instanceof Readable) {
    if (!reply.hasHeader('Content-Type')) reply.header('Content-Type', 'application/octet-stream');
    return reply.send(body);
  }
  const json = Buffer.from(JSON.stringify(body));
  return reply.header('Content-Type', 'application/json').header('Content-Length', json.length).send(json);
}

function sendError(reply: FastifyReply, request: FastifyRequest, error: unknown): void {
  const { error: oci, internal } = toOciError(error);
  if (reply.raw.destroyed || request.raw.socket?.destroyed) {
    // The client went away mid-request: nobody to answer, and no fault of ours.
    request.log.debug({ method: request.method, url: request.url }, 'client disconnected');
    return;
  }
  // request.log carries the request id, which the client gets too (header and body).
  if (internal) request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
  else request.log.debug({ code: oci.code, method: request.method, url: request.url }, oci.message);
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  // The client may still be sending a body we will not read: close rather than desynchronise.
  if (!request.raw.complete) reply.header('Connection', 'close');
  // The id goes next to `errors`, not into `detail`: detail's shape belongs to each code (some
  // carry structured data clients read), and clients ignore members they do not know.
  const json = Buffer.from(JSON.stringify({ ...oci.toBody(), requestId: request.id }));
  reply.code(oci.status).headers({
    ...API_VERSION,
    ...oci.headers,
    'Content-Type': 'application/json',
    'Content-Length': json.length,
  });
  reply.send(request.method === 'HEAD' ? undefined : json);
}
