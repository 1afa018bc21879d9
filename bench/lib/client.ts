import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A registry under test: where it listens and which process to probe. */
export interface Target {
  /** 'reference' or 'gantry' (or 'reference-b' in --self-test). */
  label: string;
  url: string;
  pid: number;
  agent: Agent;
  /** Sent with every request unless the request sets the same header (e.g. Authorization). */
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Body = Buffer | string | Iterable<Buffer>;

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Body;
  /** Stream the response into the void and report only its length in `body.length`-free form. */
  discard?: boolean;
}

// Requests that get no answer in this time fail the scenario instead of hanging the run.
const REQUEST_TIMEOUT_MS = 120_000;

export function keepAliveAgent(maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** Resolves a path or a Location header against the target; refuses anything off loopback. */
export function resolveUrl(target: Target, pathOrLocation: string): URL {
  const url = new URL(pathOrLocation, target.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url.href}`);
  return url;
}

/** One request; the reply body is buffered unless `discard`, in which case `bytes` counts it. */
export async function call(
  target: Target,
  path: string,
  options: RequestOptions = {},
): Promise<Reply & { bytes: number }> {
  const url = resolveUrl(target, path);
  const req = httpRequest(url, {
    method: options.method ?? 'GET',
    headers: target.headers ? { ...target.headers, ...options.headers } : options.headers,
    agent: target.agent,
    timeout: REQUEST_TIMEOUT_MS,
  });
  const answered = new Promise<IncomingMessage>((done, fail) => {
    req.once('response', done);
    req.once('error', fail);
    req.once('timeout', () => req.destroy(new Error(`timeout: ${options.method ?? 'GET'} ${url.pathname}`)));
  });
  const sent = sendBody(req, options.body);
  const res = await answered;
  // A server may answer (say 400) before reading the whole body; the reply is what counts then.
  await sent.catch(() => undefined);
  return readReply(res, options.discard === true);
}

async function sendBody(req: ReturnType<typeof httpRequest>, body: Body | undefined): Promise<void> {
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    req.end(body);
    return;
  }
  await pipeline(Readable.from(body, { objectMode: false }), req);
}

async function readReply(res: IncomingMessage, discard: boolean): Promise<Reply & { bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    const piece = chunk as Buffer;
    bytes += piece.length;
    if (!discard) chunks.push(piece);
  }
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes };
}

/** Throws a readable error unless the reply has the expected status. */
export function expectStatus(reply: Reply, expected: number, what: string): void {
  if (reply.status !== expected) {
    const text = reply.body.toString('utf8').slice(0, 300);
    throw new Error(`${what}: expected ${expected}, got ${reply.status} ${text}`);
  }
}

export function header(reply: Reply, name: string): string {
  const value = reply.headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0] ?? '';
  return value ?? '';
}
