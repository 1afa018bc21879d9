/**
 * One request to an upstream, with what every call needs: a connect/headers deadline that also
 * honours the caller's AbortSignal, redirects followed by hand so `Authorization` only ever goes
 * to the origin it was meant for (Docker Hub sends blobs to a CDN on another host), and network
 * failures turned into UpstreamErrors. Every hop, redirects and token realms included, connects
 * only where the server's address policy allows (src/net/guarded-http.ts). Status codes are the
 * caller's business.
 */
import { AddressDeniedError } from '../../net/address-policy.ts';
import type { GuardedHttp } from '../../net/guarded-http.ts';
import { displayUrl, networkError, UpstreamError } from './upstream-error.ts';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  url: URL;
  headers?: Record<string, string>;
  /** Sent to the origin of `url` only, never to another host a redirect leads to. */
  authorization?: string;
  signal?: AbortSignal;
}

export interface Buffered {
  status: number;
  headers: Headers;
  body: Buffer;
}

interface Deadline {
  signal: AbortSignal;
  timedOut(): boolean;
  clear(): void;
}

function startDeadline(timeoutMs: number, callerSignal?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('upstream deadline passed'));
  }, timeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  return { signal, timedOut: () => timedOut, clear: () => clearTimeout(timer) };
}

export class UpstreamHttp {
  /** For messages: the upstream URL without user info. */
  readonly upstream: string;

  constructor(
    readonly base: URL,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
    private readonly net: GuardedHttp,
  ) {
    this.upstream = displayUrl(base);
  }

  /** `/v2/…` under the upstream's base URL (which may itself have a path). */
  url(path: string): URL {
    return new URL(`${this.base.pathname.replace(/\/+$/, '')}${path}`, this.base);
  }

  /** Sends the request and follows redirects; the deadline covers connecting and the headers only. */
  async open(req: HttpRequest): Promise<Response> {
    const deadline = startDeadline(this.timeoutMs, req.signal);
    try {
      return await this.#follow(req, deadline.signal);
    } catch (err) {
      throw this.#failure(err, req, deadline);
    } finally {
      deadline.clear();
    }
  }

  /** Sends the request and reads the whole body (at most `limit` bytes) under the deadline. */
  async read(req: HttpRequest, limit: number): Promise<Buffered> {
    const deadline = startDeadline(this.timeoutMs, req.signal);
    try {
      const res = await this.#follow(req, deadline.signal);
      const body = await this.#readLimited(res, limit, req);
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      throw this.#failure(err, req, deadline);
    } finally {
      deadline.clear();
    }
  }

  async #follow(req: HttpRequest, signal: AbortSignal): Promise<Response> {
    let url = req.url;
    let authorization = req.authorization;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...req.headers };
      if (authorization && url.origin === req.url.origin) headers.authorization = authorization;
      const res = await this.net.send(url, { method: req.method, headers, signal });
      const location = res.headers.get('location');
      if (!REDIRECT_STATUSES.has(res.status) || !location) return res;
      await res.body?.cancel();
      url = new URL(location, url);
      // Once the chain has left the first request's origin it never carries credentials again.
      if (url.origin !== req.url.origin) authorization = undefined;
    }
    throw new UpstreamError(
      'protocol',
      this.upstream,
      `upstream ${this.upstream} redirected ${req.method} ${req.url.pathname} more than ${MAX_REDIRECTS} times`,
    );
  }

  async #readLimited(res: Response, limit: number, req: HttpRequest): Promise<Buffer> {
    if (!res.body) return Buffer.alloc(0);
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > limit) {
        await res.body.cancel().catch(() => {});
        throw new UpstreamError(
          'protocol',
          this.upstream,
          `upstream ${this.upstream} answered ${req.method} ${req.url.pathname} with more than ${limit} bytes`,
        );
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts);
  }

  /** The caller's own abort passes through untouched; everything else becomes an UpstreamError. */
  #failure(err: unknown, req: HttpRequest, deadline: Deadline): unknown {
    if (err instanceof UpstreamError) return err;
    if (req.signal?.aborted) return req.signal.reason;
    const target = `${req.method} ${req.url.pathname}`;
    if (err instanceof AddressDeniedError) {
      return new UpstreamError(
        'unreachable',
        this.upstream,
        `upstream ${this.upstream} is not contacted for ${target}: ${err.message}; an administrator can allow it with the server setting upstreamAllow (GANTRY_UPSTREAM_ALLOW)`,
      );
    }
    if (deadline.timedOut()) {
      return new UpstreamError(
        'timeout',
        this.upstream,
        `upstream ${this.upstream} did not answer ${target} within ${this.timeoutMs} ms; it may be overloaded or a firewall may be dropping the connection`,
      );
    }
    return networkError(this.upstream, target, err);
  }
}
