/**
 * Outgoing HTTP(S) that only ever connects to addresses an AddressPolicy admits, answering with
 * a WHATWG `Response` like fetch does. Node's fetch cannot take a custom DNS lookup without the
 * undici package, so this goes through node:http/https agents whose `lookup` checks every
 * address DNS returns and hands the socket only admitted ones: the address checked is the
 * address connected to, with no window for a second, different DNS answer (rebinding). Node runs
 * no lookup for a literal IP, so literals are checked before the request. Redirects are not
 * followed here: each hop is a new `send`, checked the same way.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { AddressDeniedError, type AddressPolicy } from './address-policy.ts';

/** A `lookup` for sockets that drops addresses the policy refuses and fails when none is left. */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const admitted = addresses.filter((a) => policy.checkAddress(a.address, hostname).allowed);
      if (admitted.length === 0) {
        const first = addresses[0];
        const verdict = first ? policy.checkAddress(first.address, hostname) : undefined;
        const rule = verdict && !verdict.allowed ? verdict.rule : { label: 'no address' };
        callback(new AddressDeniedError(hostname, first?.address ?? hostname, rule), '', 0);
        return;
      }
      if (options.all) callback(null, admitted);
      else callback(null, (admitted[0] as LookupAddress).address, (admitted[0] as LookupAddress).family);
    });
  };
}

export interface GuardedRequest {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Sent whole (small bodies: webhook deliveries); the caller sets Content-Type and -Length. */
  body?: string;
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** Keep-alive agents per policy: one pair per client, so connections are reused across requests. */
export class GuardedHttp {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(private readonly policy: AddressPolicy) {
    const lookup = guardedLookup(policy);
    this.#http = new HttpAgent({ keepAlive: true, lookup });
    this.#https = new HttpsAgent({ keepAlive: true, lookup });
  }

  /** One request, no redirects followed. Rejects with AddressDeniedError for a refused address. */
  send(url: URL, init: GuardedRequest): Promise<Response> {
    const verdict = this.policy.checkHost(url.hostname);
    if (verdict && !verdict.allowed) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return Promise.reject(new AddressDeniedError(host, host, verdict.rule));
    }
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, {
        method: init.method,
        headers: init.headers,
        agent: https ? this.#https : this.#http,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      req.once('error', reject);
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 599) {
          res.destroy();
          reject(new Error(`unexpected HTTP status ${status}`));
          return;
        }
        // Headers refuses some values Node's parser lets through; that must reject, not throw
        // out of this listener (an uncaught exception would end the process).
        try {
          const headers = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
          }
          const empty = init.method === 'HEAD' || NULL_BODY_STATUSES.has(status);
          if (empty) res.resume();
          const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, headers }));
        } catch (error) {
          res.destroy();
          reject(error);
        }
      });
      req.end(init.body);
    });
  }

  /** Closes idle kept-alive connections (a client that is replaced or shut down). */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
