/**
 * HTTP helpers for tests that talk to a registry over the wire: a `fetch` wrapper that always
 * reads the whole body, a `node:http` helper for requests fetch cannot express (chunked bodies,
 * literal paths with `..` or `//`), a raw socket exchange for malformed framing, and builders for
 * blobs, manifests and pushes. Nothing here knows Gantry's internals: it speaks the OCI
 * Distribution API only, so the same helpers run against the reference registry.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { OCI_ERRORS, type OciCode, statusesOf } from '../../src/oci/errors.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** What pulling clients put in `Accept` for manifests. */
export const ACCEPT_ALL_MANIFESTS = [
  MEDIA.ociManifest,
  MEDIA.ociIndex,
  MEDIA.dockerManifest,
  MEDIA.dockerManifestList,
].join(', ');

const DEFAULT_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Replies

export interface Reply {
  method: string;
  status: number;
  headers: Headers;
  body: Buffer;
  text(): string;
  /** The body parsed as JSON; the caller names the shape it expects. */
  json<T = unknown>(): T;
}

function makeReply(method: string, status: number, headers: Headers, body: Buffer): Reply {
  return {
    method,
    status,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  signal?: AbortSignal;
}

/** One request through `fetch`; redirects are returned, not followed (a 301 is a finding). */
export async function request(
  url: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const res = await fetch(new URL(path, url), {
    method,
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    redirect: 'manual',
    signal: options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return makeReply(method, res.status, res.headers, body);
}

export interface RawRequestOptions {
  method: string;
  /** Sent exactly as given: no normalisation of `..`, `./`, `//` or `%2F`. */
  path: string;
  headers?: Record<string, string>;
  /** Several chunks and no Content-Length header: sent with `Transfer-Encoding: chunked`. */
  chunks?: Uint8Array[];
  timeoutMs?: number;
}

/** One request through `node:http` on a fresh connection. */
export function rawRequest(url: string, options: RawRequestOptions): Promise<Reply> {
  const target = new URL(url);
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method,
        path: options.path,
        headers: options.headers ?? {},
        agent: false,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('error', fail);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          done(makeReply(options.method, res.statusCode ?? 0, headers, Buffer.concat(parts)));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${options.path} timed out`)));
    req.on('error', fail);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

export interface SocketExchange {
  /** Every byte the server sent. */
  data: Buffer;
  /** True when the server closed the connection before the timeout. */
  closedByServer: boolean;
}

/**
 * Writes `bytes` on a plain TCP connection and collects what comes back until the server closes
 * the connection or `timeoutMs` passes. `halfClose` ends our side after writing (the server
 * then sees EOF, e.g. in the middle of a body that is shorter than its Content-Length).
 */
export function socketExchange(
  url: string,
  bytes: Uint8Array | string,
  options: { timeoutMs?: number; halfClose?: boolean } = {},
): Promise<SocketExchange> {
  const target = new URL(url);
  return new Promise((done) => {
    const socket = connect({ host: target.hostname, port: Number(target.port) });
    const parts: Buffer[] = [];
    let finished = false;
    const finish = (closedByServer: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      done({ data: Buffer.concat(parts), closedByServer });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5_000);
    socket.on('data', (b: Buffer) => parts.push(b));
    socket.on('end', () => finish(true));
    // A reset after the server answered still counts as the server closing.
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.halfClose) socket.end();
    });
  });
}

export interface ParsedResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Splits a byte stream into the HTTP/1.1 responses it holds (Content-Length or chunked framing). */
export function parseResponses(data: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    rest = rest.subarray(end + 4);
    const framed = takeBody(rest, status, headers);
    out.push({ status, headers, body: framed.body });
    rest = framed.rest;
  }
  return out;
}

function takeBody(
  rest: Buffer,
  status: number,
  headers: Map<string, string>,
): { body: Buffer; rest: Buffer } {
  if (status === 204 || status === 304 || status < 200) return { body: Buffer.alloc(0), rest };
  const length = headers.get('content-length');
  if (length !== undefined)
    return { body: rest.subarray(0, Number(length)), rest: rest.subarray(Number(length)) };
  if (headers.get('transfer-encoding')?.includes('chunked')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) return { body: Buffer.concat(parts), rest: Buffer.alloc(0) };
      const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      rest = rest.subarray(lineEnd + 2);
      if (!(size > 0)) return { body: Buffer.concat(parts), rest: rest.subarray(rest.indexOf('\r\n') + 2) };
      parts.push(rest.subarray(0, size));
      rest = rest.subarray(size + 2);
    }
  }
  // Close-delimited body: everything that is left.
  return { body: rest, rest: Buffer.alloc(0) };
}

// ---------------------------------------------------------------------------------------------
// Assertions

export interface OciErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * Asserts an error reply: the status, a JSON body `{"errors":[{code,message,detail?}]}` and that
 * one of the entries carries `code` (or one of `code` when several are acceptable). Returns that
 * entry. For HEAD requests, which have no body, only the status is checked.
 */
export function expectOciError(
  res: Reply,
  status: number,
  code: string | readonly string[],
  context = '',
): OciErrorEntry | undefined {
  const codes = typeof code === 'string' ? [code] : code;
  const what = `${context ? `${context}: ` : ''}expected ${status} ${codes.join('|')}`;
  assert.equal(res.status, status, `${what}, got ${res.status} ${clipText(res.text())}`);
  if (res.method === 'HEAD') return undefined;
  const type = res.headers.get('content-type') ?? '';
  assert.match(type, /^application\/json/, `${what}: error Content-Type is "${type}"`);
  let doc: unknown;
  assert.doesNotThrow(
    () => {
      doc = res.json();
    },
    `${what}: body is not JSON: ${clipText(res.text())}`,
  );
  const errors = (doc as { errors?: unknown }).errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, `${what}: no "errors" array in ${res.text()}`);
  for (const entry of errors as unknown[]) {
    const e = entry as Record<string, unknown>;
    assert.equal(typeof e.code, 'string', `${what}: error without a code: ${res.text()}`);
    assert.equal(typeof e.message, 'string', `${what}: error without a message: ${res.text()}`);
    assert.ok((e.message as string).length > 0, `${what}: empty message`);
  }
  expectTableStatus(res.status, errors as OciErrorEntry[], what);
  const found = (errors as OciErrorEntry[]).find((e) => codes.includes(e.code));
  assert.ok(found, `${what}, got codes ${(errors as OciErrorEntry[]).map((e) => e.code).join(',')}`);
  return found;
}

/** Every code in an error body must be answered with a status the error table gives it. */
export function expectTableStatus(status: number, errors: readonly OciErrorEntry[], context = ''): void {
  for (const { code } of errors) {
    const known = code in OCI_ERRORS;
    assert.ok(known, `${context}: code ${code} is not in the error table`);
    const allowed = statusesOf(code as OciCode);
    assert.ok(
      allowed.includes(status),
      `${context}: ${code} answered with ${status}; the table says ${allowed.join(' or ')}`,
    );
  }
}

/** Compares bodies by length and digest, so a mismatch prints two lines, not two hex dumps. */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'body'): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} bytes instead of ${expected.length}`,
  );
  assert.equal(digestOf(actual), digestOf(expected), `${what}: same length, different bytes`);
}

/** Asserts the status and says what came back when it differs. */
export function expectStatus(res: Reply, status: number, context = ''): void {
  assert.equal(
    res.status,
    status,
    `${context ? `${context}: ` : ''}expected ${status}, got ${res.status} ${clipText(res.text())}`,
  );
}

function clipText(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Content

export type DigestAlgorithm = 'sha256' | 'sha512';

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export interface TestBlob {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

export function makeBlob(
  size: number,
  options: { algorithm?: DigestAlgorithm; mediaType?: string } = {},
): TestBlob {
  const bytes = randomBytes(size);
  return {
    bytes,
    digest: digestOf(bytes, options.algorithm),
    mediaType: options.mediaType ?? MEDIA.ociLayer,
  };
}

/** A minimal image config; the random label makes every config (and so every manifest) unique. */
export function makeConfig(mediaType: string = MEDIA.ociConfig): TestBlob {
  const bytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { nonce: randomBytes(8).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  return { bytes, digest: digestOf(bytes), mediaType };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Record<string, string>;
}

export interface TestManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  doc: Record<string, unknown>;
}

export function manifestFrom(doc: Record<string, unknown>, mediaType: string): TestManifest {
  const bytes = Buffer.from(JSON.stringify(doc));
  return { bytes, digest: digestOf(bytes), mediaType, doc };
}

export function descriptorOf(item: TestBlob | TestManifest, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: item.mediaType, digest: item.digest, size: item.bytes.length, ...extra };
}

export interface ImageManifestOptions {
  config: TestBlob;
  layers: TestBlob[];
  mediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageManifest(options: ImageManifestOptions): TestManifest {
  const mediaType = options.mediaType ?? MEDIA.ociManifest;
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: descriptorOf(options.config),
    layers: options.layers.map((l) => descriptorOf(l)),
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return manifestFrom(doc, mediaType);
}

export function indexManifest(options: {
  manifests: Descriptor[];
  mediaType?: string;
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}): TestManifest {
  const mediaType = options.mediaType ?? MEDIA.ociIndex;
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    manifests: options.manifests,
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  return manifestFrom(doc, mediaType);
}

// ---------------------------------------------------------------------------------------------
// A client for one registry

export interface PushedImage {
  name: string;
  tag: string;
  config: TestBlob;
  layers: TestBlob[];
  manifest: TestManifest;
}

/** The registry API as the tests use it. Push helpers assert each step's status. */
export class RegistryClient {
  constructor(
    readonly url: string,
    /** Sent with every request unless the request names them itself (e.g. Authorization). */
    readonly defaultHeaders: Record<string, string> = {},
  ) {}

  request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    return request(this.url, method, path, {
      ...options,
      headers: { ...this.defaultHeaders, ...options.headers },
    });
  }

  /** Resolves an upload `Location` (absolute or relative) and adds query parameters. */
  uploadUrl(location: string, params: Record<string, string> = {}): string {
    const u = new URL(location, this.url);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.href;
  }

  /** POST …/blobs/uploads/; returns the Location to continue at. */
  async startUpload(name: string): Promise<string> {
    const res = await this.request('POST', `/v2/${name}/blobs/uploads/`);
    expectStatus(res, 202, `POST /v2/${name}/blobs/uploads/`);
    const location = res.headers.get('location');
    assert.ok(location, 'upload POST answered without a Location');
    return location;
  }

  /** The containerd way: POST, then PUT ?digest= carrying the whole body. */
  async pushBlob(name: string, blob: Pick<TestBlob, 'bytes' | 'digest'>): Promise<void> {
    const location = await this.startUpload(name);
    const res = await this.request('PUT', this.uploadUrl(location, { digest: blob.digest }), {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    expectStatus(res, 201, `PUT upload of ${blob.digest} to ${name}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
  }

  /** POST, PATCHes of `chunkSize` with Content-Range, then an empty PUT ?digest=. */
  async pushBlobChunked(name: string, blob: TestBlob, chunkSize: number): Promise<void> {
    let location = await this.startUpload(name);
    for (let start = 0; start < blob.bytes.length; start += chunkSize) {
      const chunk = blob.bytes.subarray(start, start + chunkSize);
      const res = await this.request('PATCH', this.uploadUrl(location), {
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${start}-${start + chunk.length - 1}`,
        },
        body: chunk,
      });
      expectStatus(res, 202, `PATCH ${start}-${start + chunk.length - 1}`);
      location = res.headers.get('location') ?? location;
    }
    const res = await this.request('PUT', this.uploadUrl(location, { digest: blob.digest }));
    expectStatus(res, 201, `PUT ?digest=${blob.digest} after PATCHes`);
  }

  putManifest(name: string, reference: string, manifest: TestManifest): Promise<Reply> {
    return this.request('PUT', `/v2/${name}/manifests/${reference}`, {
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
  }

  /** PUT and assert 201 with the manifest's digest. */
  async pushManifest(name: string, reference: string, manifest: TestManifest): Promise<Reply> {
    const res = await this.putManifest(name, reference, manifest);
    expectStatus(res, 201, `PUT /v2/${name}/manifests/${reference}`);
    assert.equal(res.headers.get('docker-content-digest'), manifest.digest);
    return res;
  }

  getManifest(name: string, reference: string, accept: string = ACCEPT_ALL_MANIFESTS): Promise<Reply> {
    return this.request('GET', `/v2/${name}/manifests/${reference}`, { headers: { accept } });
  }

  /** Pushes a config, `layerSizes` random layers and an image manifest tagged `tag`. */
  async pushImage(
    name: string,
    tag: string,
    options: { layerSizes?: number[]; mediaType?: string } = {},
  ): Promise<PushedImage> {
    const docker = options.mediaType === MEDIA.dockerManifest;
    const config = makeConfig(docker ? MEDIA.dockerConfig : MEDIA.ociConfig);
    const layers = (options.layerSizes ?? [1024]).map((size) =>
      makeBlob(size, { mediaType: docker ? MEDIA.dockerLayer : MEDIA.ociLayer }),
    );
    for (const blob of [config, ...layers]) await this.pushBlob(name, blob);
    const manifest = imageManifest({
      config,
      layers,
      ...(options.mediaType ? { mediaType: options.mediaType } : {}),
    });
    await this.pushManifest(name, tag, manifest);
    return { name, tag, config, layers, manifest };
  }

  async tags(name: string, query = ''): Promise<Reply> {
    return this.request('GET', `/v2/${name}/tags/list${query}`);
  }
}

/** The target of a `Link: <…>; rel="next"` header, or undefined. */
export function nextLink(res: Reply): string | undefined {
  const link = res.headers.get('link');
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return m?.[1];
}

/** A name nobody else uses: `<repository>/<prefix>-<random>`. */
export function uniqueName(prefix: string, repository = 'docker-dev-local'): string {
  return `${repository}/${prefix}-${randomBytes(4).toString('hex')}`;
}
