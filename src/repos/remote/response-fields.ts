/** Reading what an upstream's responses say, with a protocol UpstreamError when it is unusable. */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UpstreamError } from './upstream-error.ts';

export function contentLength(headers: Headers): number | undefined {
  const value = headers.get('content-length');
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * The manifest's media type: `Content-Type` without parameters, or the document's own
 * `mediaType` when the upstream answers a generic JSON type (or none).
 */
export function manifestMediaType(headers: Headers, body: Buffer, upstream: string, what: string): string {
  const header = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (header && header !== 'application/json' && header !== 'application/octet-stream') return header;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
  } catch {
    // reported below
  }
  throw new UpstreamError(
    'protocol',
    upstream,
    `upstream ${upstream} sent ${what} without a media type (no manifest Content-Type, no mediaType field)`,
  );
}

/** The blob's size (Content-Length, required) and its body as a Node stream, unbuffered. */
export async function blobBody(
  res: Response,
  upstream: string,
  what: string,
): Promise<{ size: number; body: Readable }> {
  const size = contentLength(res.headers);
  if (size === undefined || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new UpstreamError(
      'protocol',
      upstream,
      `upstream ${upstream} sent ${what} without a Content-Length`,
    );
  }
  // The global ReadableStream and node:stream/web's are the same class at run time; only the
  // type declarations differ.
  return { size, body: Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>) };
}

/**
 * The URL of the next page from `Link: <…>; rel="next"`, or undefined. The link
 * must stay on the upstream's origin: the request carries the upstream's credentials.
 */
export function nextPage(headers: Headers, base: URL, upstream: string, what: string): URL | undefined {
  const link = headers.get('link');
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link);
  if (!m?.[1]) return undefined;
  const next = URL.canParse(m[1], base.href) ? new URL(m[1], base) : undefined;
  if (!next || next.origin !== base.origin) {
    throw new UpstreamError('protocol', upstream, `upstream ${upstream} paginated ${what} to another host`);
  }
  return next;
}
