/**
 * The Upstream port (upstream.ts, which states the contract) over HTTP (node:http through
 * src/net/guarded-http.ts, which connects only where the address policy allows): the
 * OCI distribution API of one registry, authenticated as its 401 challenges ask
 * (upstream-auth.ts), with a deadline and redirects handled in upstream-http.ts.
 */

import { AddressPolicy } from '../../net/address-policy.ts';
import { GuardedHttp } from '../../net/guarded-http.ts';
import { type Digest, digestAlgorithm, digestOf, isDigest, parseDigest } from '../../oci/digest.ts';
import { MAX_MANIFEST_BYTES } from '../../oci/manifest.ts';
import { MANIFEST_MEDIA_TYPES } from '../../oci/media-types.ts';
import { checkName, checkTag } from '../../oci/names.ts';
import { blobBody, contentLength, manifestMediaType, nextPage } from './response-fields.ts';
import { statusError } from './status-errors.ts';
import type { Upstream, UpstreamBlob, UpstreamManifest, UpstreamManifestHead } from './upstream.ts';
import { type Credentials, UpstreamAuth } from './upstream-auth.ts';
import { UpstreamError } from './upstream-error.ts';
import { type Buffered, type HttpRequest, UpstreamHttp } from './upstream-http.ts';

export type { Upstream, UpstreamBlob, UpstreamManifest, UpstreamManifestHead } from './upstream.ts';
export type { Credentials } from './upstream-auth.ts';
export { UpstreamError, type UpstreamErrorKind } from './upstream-error.ts';

export interface UpstreamOptions {
  /** e.g. https://registry-1.docker.io or http://127.0.0.1:5000; no user info (use `credentials`). */
  url: string;
  /** Prepended to one-component image names, e.g. `library/` for Docker Hub's official images. */
  pathPrefix?: string;
  credentials?: Credentials;
  /** Connect + response headers (and whole body for manifests and tags); default 15 s. */
  timeoutMs?: number;
  userAgent?: string;
  /**
   * Where connections may go (redirects and token realms included); default: the built-in
   * policy, which refuses loopback, link-local and private addresses.
   */
  addresses?: AddressPolicy;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_USER_AGENT = 'gantry/0.1 (remote repository)';
const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');
const TAGS_PAGE_LIMIT = 16 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;

function upstreamUrl(url: string): URL {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new TypeError(`upstream URL must be an http:// or https:// URL`);
  }
  if (parsed.username || parsed.password) {
    throw new TypeError('upstream URL must not hold credentials; pass them as `credentials`');
  }
  return parsed;
}

export class UpstreamClient implements Upstream {
  readonly #http: UpstreamHttp;
  readonly #auth: UpstreamAuth;
  readonly #prefix: string;
  readonly #net: GuardedHttp;

  constructor(options: UpstreamOptions) {
    this.#net = new GuardedHttp(options.addresses ?? new AddressPolicy());
    this.#http = new UpstreamHttp(
      upstreamUrl(options.url),
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      options.userAgent ?? DEFAULT_USER_AGENT,
      this.#net,
    );
    this.#auth = new UpstreamAuth(this.#http, options.credentials);
    const prefix = options.pathPrefix ?? '';
    this.#prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  }

  /** Drops kept-alive connections; the client is not used afterwards. */
  close(): void {
    this.#net.close();
  }

  /** The upstream URL as messages show it. */
  get upstream(): string {
    return this.#http.upstream;
  }

  async getManifest(
    image: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<UpstreamManifest | undefined> {
    const name = this.#name(image);
    const what = manifestWhat(name, reference);
    const url = this.#url(name, `/manifests/${reference}`);
    const res = await this.#read('GET', name, url, signal, MAX_MANIFEST_BYTES);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw statusError(this.upstream, what, res, res.body);
    const digest = this.#verifiedDigest(what, reference, res);
    return {
      digest,
      mediaType: manifestMediaType(res.headers, res.body, this.upstream, what),
      bytes: res.body,
    };
  }

  /** Falls back to a GET when the upstream's HEAD leaves out the digest, type or size. */
  async headManifest(
    image: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<UpstreamManifestHead | undefined> {
    const name = this.#name(image);
    const what = manifestWhat(name, reference);
    const res = await this.#read('HEAD', name, this.#url(name, `/manifests/${reference}`), signal, 0);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw statusError(this.upstream, what, res);
    const header = res.headers.get('docker-content-digest');
    const digest = isDigest(reference) ? reference : header;
    const mediaType = res.headers.get('content-type')?.split(';')[0]?.trim();
    const size = contentLength(res.headers);
    if (digest && isDigest(digest) && mediaType && size !== undefined) {
      return { digest: digest as Digest, mediaType, size };
    }
    const full = await this.getManifest(image, reference, signal);
    return full && { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
  }

  /** Streams the blob; redirects are followed without sending Authorization to another host. */
  async openBlob(image: string, digest: Digest, signal?: AbortSignal): Promise<UpstreamBlob | undefined> {
    const name = this.#name(image);
    const url = this.#url(name, `/blobs/${parseDigest(digest)}`);
    const what = `blob ${name}@${digest}`;
    const res = await this.#withAuth(
      `repository:${name}:pull`,
      signal,
      (authorization) => this.#http.open(this.#req('GET', url, signal, authorization)),
      discard,
    );
    if (res.status === 404) return discard(res).then(() => undefined);
    if (res.status !== 200) {
      await discard(res);
      throw statusError(this.upstream, what, res);
    }
    return blobBody(res, this.upstream, what);
  }

  /** Every tag, following `Link: <…>; rel="next"`; undefined when the upstream does not know the name. */
  async listTags(image: string, signal?: AbortSignal): Promise<string[] | undefined> {
    const name = this.#name(image);
    const what = `tags of ${name}`;
    const tags: string[] = [];
    let url: URL | undefined = this.#url(name, '/tags/list');
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_TAG_PAGES)
        throw new UpstreamError(
          'protocol',
          this.upstream,
          `upstream ${this.upstream} paginated ${what} without end`,
        );
      const res = await this.#read('GET', name, url, signal, TAGS_PAGE_LIMIT);
      if (res.status === 404 && page === 0) return undefined;
      if (res.status !== 200) throw statusError(this.upstream, what, res, res.body);
      tags.push(...parseTags(res.body, this.upstream, what));
      url = nextPage(res.headers, this.#http.base, this.upstream, what);
    }
    return tags;
  }

  #verifiedDigest(what: string, reference: string, res: Buffered): Digest {
    const claimed = isDigest(reference) ? reference : res.headers.get('docker-content-digest');
    if (!claimed) return digestOf(res.body);
    const actual = isDigest(claimed) ? digestOf(res.body, digestAlgorithm(claimed as Digest)) : undefined;
    if (actual === claimed) return actual;
    const source = isDigest(reference) ? 'the requested digest' : `its Docker-Content-Digest ${claimed}`;
    throw new UpstreamError(
      'protocol',
      this.upstream,
      `upstream ${this.upstream} sent ${what} whose bytes do not match ${source}; the content was not used`,
    );
  }

  /** Checked here too: a name or reference with `..` or `/` must never become another upstream path. */
  #name(image: string): string {
    // Like Docker's own rule for Docker Hub: only one-component names get the prefix
    // (`alpine` is `library/alpine`, `bitnami/redis` stays as it is).
    return checkName(image.includes('/') ? image : this.#prefix + image);
  }

  #url(name: string, path: string): URL {
    return this.#http.url(`/v2/${name}${path}`);
  }

  #req(method: HttpRequest['method'], url: URL, signal?: AbortSignal, authorization?: string): HttpRequest {
    return {
      method,
      url,
      ...(url.pathname.includes('/manifests/') ? { headers: { accept: ACCEPT_MANIFESTS } } : {}),
      ...(authorization ? { authorization } : {}),
      ...(signal ? { signal } : {}),
    };
  }

  /** A request whose body is read whole (at most `limit` bytes), authenticated as needed. */
  #read(
    method: HttpRequest['method'],
    name: string,
    url: URL,
    signal: AbortSignal | undefined,
    limit: number,
  ) {
    return this.#withAuth(
      `repository:${name}:pull`,
      signal,
      (authorization) => this.#http.read(this.#req(method, url, signal, authorization), limit),
      async () => {},
    );
  }

  /** Sends with what worked before; on a 401 answers the challenge and retries exactly once. */
  async #withAuth<T extends { status: number; headers: Headers }>(
    scope: string,
    signal: AbortSignal | undefined,
    send: (authorization?: string) => Promise<T>,
    drop: (res: T) => Promise<void>,
  ): Promise<T> {
    const sent = this.#auth.preemptive(scope);
    const first = await send(sent);
    if (first.status !== 401) return first;
    const challenge = first.headers.get('www-authenticate') ?? '';
    await drop(first);
    const second = await send(await this.#auth.answer(challenge, scope, sent, signal));
    if (second.status !== 401) return second;
    await drop(second);
    throw this.#auth.refused();
  }
}

/** Also validates the reference: a digest (DIGEST_INVALID) or a tag (MANIFEST_INVALID). */
function manifestWhat(name: string, reference: string): string {
  if (reference.includes(':')) return `manifest ${name}@${parseDigest(reference)}`;
  return `manifest ${name}:${checkTag(reference)}`;
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

function parseTags(body: Buffer, upstream: string, what: string): string[] {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { tags?: unknown };
    if (doc.tags === null || doc.tags === undefined) return [];
    if (Array.isArray(doc.tags) && doc.tags.every((t) => typeof t === 'string')) return doc.tags;
  } catch {
    // reported below
  }
  throw new UpstreamError('protocol', upstream, `upstream ${upstream} sent ${what} that is not a tag list`);
}
