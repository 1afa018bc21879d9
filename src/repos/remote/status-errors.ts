/**
 * Statuses an upstream answers that are not the content asked for (and not a 401, which the
 * auth layer handles) turned into UpstreamErrors. `what` names the request in words, e.g.
 * `manifest library/alpine:3.20`; the upstream's own error message is appended when it sent one.
 */
import { clip } from '../../oci/digest.ts';
import { UpstreamError } from './upstream-error.ts';

/** The first `errors[].message` (OCI error body) or `details`/`message`, clipped; else ''. */
function upstreamMessage(body: Buffer | undefined): string {
  if (!body || body.length === 0) return '';
  try {
    const doc = JSON.parse(body.toString('utf8')) as {
      errors?: { message?: unknown }[];
      message?: unknown;
      details?: unknown;
    };
    const message = doc.errors?.[0]?.message ?? doc.details ?? doc.message;
    return typeof message === 'string' && message ? ` (upstream says: "${clip(message, 200)}")` : '';
  } catch {
    return '';
  }
}

export function statusError(
  upstream: string,
  what: string,
  res: { status: number; headers: Headers },
  body?: Buffer,
): UpstreamError {
  const { status } = res;
  const said = upstreamMessage(body);
  if (status === 403) {
    return new UpstreamError(
      'denied',
      upstream,
      `upstream ${upstream} denied access to ${what} (403 Forbidden)${said}; the configured account may lack pull permission`,
      { status },
    );
  }
  if (status === 429) return rateLimited(upstream, what, res.headers.get('retry-after') ?? undefined, said);
  if (status >= 500) {
    return new UpstreamError(
      'server-error',
      upstream,
      `upstream ${upstream} failed with ${status} on ${what}${said}; it has a problem of its own, try again later`,
      { status },
    );
  }
  return new UpstreamError(
    'protocol',
    upstream,
    `upstream ${upstream} answered ${status} to ${what}, which a registry should not${said}`,
    { status },
  );
}

function rateLimited(upstream: string, what: string, retryAfter: string | undefined, said: string) {
  const when = retryAfter
    ? `; it asks to retry after ${clip(retryAfter, 40)}${/^\d+$/.test(retryAfter) ? ' s' : ''}`
    : '';
  return new UpstreamError(
    'rate-limited',
    upstream,
    `upstream ${upstream} is rate limiting requests (429 Too Many Requests) for ${what}${said}${when}; configured credentials often raise the limit`,
    { status: 429, ...(retryAfter ? { retryAfter } : {}) },
  );
}
