import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './config/logger.ts';
import { OciError } from './oci/errors.ts';

/**
 * Connection safety of the HTTP servers (the main one and those of the port method): malformed
 * bytes never corrupt a response in flight, absolute-form targets are routed, stalled request
 * bodies are cut, and shutdown drains in-flight requests for a bounded time.
 */
export class ConnectionGuard {
  /**
   * The response being written on each socket (one at a time: Node does not interleave);
   * entries leave when their response finishes or its connection closes.
   */
  readonly #inFlight = new Map<Socket, ServerResponse>();
  readonly #servers: Server[] = [];
  #draining = false;

  constructor(private readonly options: { bodyIdleTimeoutMs: number; log: Logger }) {}

  /** Whether shutdown has begun: readiness is false from then on. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Tracks the server's responses and cuts its stalled request bodies. */
  watch(server: Server): void {
    this.#servers.push(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      this.#inFlight.set(socket, res);
      const done = () => {
        if (this.#inFlight.get(socket) === res) this.#inFlight.delete(socket);
      };
      res.once('finish', () => {
        done();
        // Draining: a keep-alive connection would otherwise hold the drain open until its
        // keep-alive timeout. Closed once nothing else is queued on it.
        if (this.#draining && !this.#inFlight.has(socket)) socket.end();
      });
      res.once('close', done);
      if (this.#draining && !res.headersSent) res.setHeader('Connection', 'close');
      if (hasBody(req)) this.#cutWhenIdle(req, res);
    });
  }

  /**
   * The idle time runs on the socket, whose timer every byte received resets. When it fires the
   * connection is destroyed: the handler's read fails, and what arrived so far stays in the
   * upload (the client resumes from the Range the upload status shows).
   */
  #cutWhenIdle(req: IncomingMessage, res: ServerResponse): void {
    const cut = () => {
      this.options.log.info(
        { method: req.method, url: req.url?.slice(0, 200), idleMs: this.options.bodyIdleTimeoutMs },
        'request body stalled; connection closed',
      );
      req.socket.destroy();
    };
    req.setTimeout(this.options.bodyIdleTimeoutMs, cut);
    req.once('end', () => {
      req.removeListener('timeout', cut);
      // A body drained after the response already finished: the socket's timer is Node's
      // keep-alive timeout by then, which must stay.
      if (!res.writableFinished) req.socket.setTimeout(0);
    });
  }

  /**
   * Bytes Node's HTTP parser refuses. With no response in flight they get an OCI error and a
   * closed connection. A response already streaming on the connection (garbage pipelined after
   * a complete request) must not get an error written into its middle: it finishes, then the
   * connection closes.
   */
  readonly rejectMalformedRequest = (error: Error & { code?: string }, socket: Socket): void => {
    const streaming = this.#inFlight.get(socket);
    if (streaming) {
      const close = () => socket.end();
      if (streaming.writableFinished) close();
      else {
        streaming.once('finish', close);
        streaming.once('close', close);
      }
      return;
    }
    if (!socket.writable) return;
    const oci =
      error.code === 'HPE_INVALID_EOF_STATE'
        ? new OciError('SIZE_INVALID', 'the request body ended before Content-Length bytes arrived')
        : new OciError(
            'UNSUPPORTED',
            `malformed HTTP request: ${error.message} (${error.code ?? 'no code'})`,
            undefined,
            undefined,
            400,
          );
    const body = JSON.stringify(oci.toBody());
    socket.end(
      `HTTP/1.1 ${oci.status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

  /**
   * Stops accepting connections at once, closes idle ones, lets requests in flight finish for
   * up to `drainMs`, then closes what is left (an upload cut this way stays resumable).
   * `closeServers` is the servers' own orderly close (fastify's waits for requests in flight).
   */
  async drain(drainMs: number, closeServers: () => Promise<void>): Promise<void> {
    this.#draining = true;
    // Responses not begun yet tell their clients that the connection ends with them.
    for (const res of this.#inFlight.values()) if (!res.headersSent) res.setHeader('Connection', 'close');
    const timer = setTimeout(() => {
      this.options.log.warn({ drainMs }, 'drain time over; closing the remaining connections');
      for (const server of this.#servers) server.closeAllConnections();
    }, drainMs);
    try {
      await closeServers();
    } finally {
      clearTimeout(timer);
    }
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The origin-form path of an absolute-form request target (`http://host:5000/v2/` → `/v2/`),
 * which HTTP/1.1 servers must accept (RFC 9112 §3.2.2); other targets unchanged. The target's
 * authority replaces Host, as that section asks, so host-mapped repositories still resolve.
 */
export function originForm(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const m = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!m) return url;
  const authority = (m[1] ?? '').replace(/^[^@]*@/, '');
  if (authority !== '') req.headers.host = authority;
  const rest = m[2] ?? '';
  return rest.startsWith('/') ? rest : `/${rest}`;
}
