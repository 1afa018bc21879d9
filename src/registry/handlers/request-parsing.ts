import type { Page } from '../../meta/records.ts';
import { OciError } from '../../oci/errors.ts';
import { checkName } from '../../oci/names.ts';
import type { ResolvedName } from '../../repos/repository-service.ts';
import type { ByteRange } from '../../storage/blob-store.ts';
import type { RegistryContext, RegistryRequest } from '../http-types.ts';

/** The repository and image a name addresses: by host or port mapping first, else by path. */
export function resolveName(
  req: RegistryRequest,
  ctx: RegistryContext,
  name = req.params.name ?? '',
): ResolvedName {
  const checked = checkName(name);
  return req.scope ? ctx.repos.resolveWithin(req.scope, checked) : ctx.repos.resolveName(checked);
}

/** `n` and `last` of tags/list and _catalog. */
export function parsePage(query: URLSearchParams): Page {
  const page: Page = {};
  const n = query.get('n');
  if (n !== null) {
    if (!/^\d{1,9}$/.test(n)) {
      // The spec has no pagination code; n is the size of the page asked for.
      throw new OciError('SIZE_INVALID', `n must be a whole number, got "${n.slice(0, 20)}"`, {
        n: n.slice(0, 20),
      });
    }
    page.n = Number(n);
  }
  const last = query.get('last');
  if (last !== null && last !== '') page.last = last;
  return page;
}

/**
 * Asks the store for one entry more than `n` to learn whether a next page exists; returns the
 * page and the `Link` header pointing at it.
 */
export async function paginate(
  page: Page,
  path: string,
  fetchPage: (p: Page) => Promise<string[]>,
): Promise<{ items: string[]; headers: Record<string, string> }> {
  if (page.n === undefined) return { items: await fetchPage(page), headers: {} };
  if (page.n === 0) return { items: [], headers: {} };
  const items = await fetchPage({ ...page, n: page.n + 1 });
  if (items.length <= page.n) return { items, headers: {} };
  const shown = items.slice(0, page.n);
  const next = `${path}?n=${page.n}&last=${encodeURIComponent(shown[shown.length - 1] as string)}`;
  return { items: shown, headers: { Link: `<${next}>; rel="next"` } };
}

/** Content-Length as a number; undefined when absent (chunked bodies). */
export function contentLength(req: RegistryRequest): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new OciError('SIZE_INVALID', `Content-Length "${value}" is not a number`);
  return Number(value);
}

/** The upload chunk range `start-end` (inclusive) from Content-Range, as clients send it. */
export function parseContentRange(req: RegistryRequest): ByteRange | undefined {
  const value = req.headers['content-range'];
  if (value === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new OciError(
      'BLOB_UPLOAD_INVALID',
      `Content-Range "${value.slice(0, 40)}" is not "<start>-<end>"`,
      undefined,
      undefined,
      416,
    );
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

/**
 * A single `Range: bytes=…` of a blob of `size` bytes. Undefined means "send it all" (no header,
 * or several ranges, which RFC 9110 lets a server ignore); 416 SIZE_INVALID when unsatisfiable.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m) {
    if (/^bytes=[\d\-, ]+$/.test(value.trim())) return undefined;
    throw unsatisfiable(value, size);
  }
  const [, from, to] = m as unknown as [string, string, string];
  if (from === '' && to === '') throw unsatisfiable(value, size);
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) throw unsatisfiable(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) throw unsatisfiable(value, size);
  return { start, end };
}

function unsatisfiable(value: string, size: number): OciError {
  return new OciError(
    'SIZE_INVALID',
    `range "${value.slice(0, 40)}" is not satisfiable for a blob of ${size} bytes`,
    { size },
    { 'Content-Range': `bytes */${size}` },
    416,
  );
}

/** Who acts, as tag history and the audit log name them. */
export function actorOf(req: RegistryRequest): string {
  return req.principal.name;
}

/** Records a change made through the registry API in the audit log. */
export function audit(
  req: RegistryRequest,
  ctx: RegistryContext,
  action: string,
  where: ResolvedName,
  target: string,
  detail?: Record<string, unknown>,
): void {
  ctx.auth.audit.record({
    actor: req.principal.name,
    action,
    repository: where.repository.key,
    target,
    address: req.address,
    detail: req.principal.token ? { ...detail, apiToken: req.principal.token.id } : (detail ?? null),
  });
}
