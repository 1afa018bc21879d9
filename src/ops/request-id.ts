import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What an incoming X-Request-Id may be to be kept: what proxies and tracing tools generate
 * (UUIDs, hex, base64url-ish tokens), short enough for a log line, and nothing that could break
 * a header or a log (no spaces, quotes, control characters).
 */
const SANE_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** W3C Trace Context: version-traceid-parentid-flags; an all-zero trace id is invalid. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The id of a request: the caller's X-Request-Id when it is sane (a proxy in front already
 * named the request), else the trace id of a valid W3C `traceparent` (so logs join the
 * caller's trace), else a fresh UUID. An insane value is ignored rather than refused: the id is
 * for correlation, never a reason to fail a request.
 */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  if (typeof given === 'string' && SANE_ID.test(given)) return given;
  const parent = headers.traceparent;
  if (typeof parent === 'string') {
    const traceId = TRACEPARENT.exec(parent.trim().toLowerCase())?.[1];
    if (traceId && !/^0+$/.test(traceId)) return traceId;
  }
  return randomUUID();
}
