// Helpers for the pull-through (remote repository) integration tests: the management API,
// streamed and hashed blob GETs (so 20 × 64 MiB never sit in memory), counting the reference
// registry's requests from its log, and a client that sends basic credentials.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RegistryClient, type Reply, type RequestOptions } from '../support/http.ts';

export interface ApiReply {
  status: number;
  contentType: string;
  text: string;
  /** `detail` of a problem+json body, '' when there is none. */
  detail: string;
}

/** One management API request (`/api/v1…`), body sent as JSON. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  options: { authorization?: string } = {},
): Promise<ApiReply> {
  const auth: Record<string, string> = options.authorization ? { authorization: options.authorization } : {};
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    ...(body === undefined
      ? { headers: auth }
      : { headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let detail = '';
  try {
    const doc = JSON.parse(text) as { detail?: unknown };
    if (typeof doc.detail === 'string') detail = doc.detail;
  } catch {
    // not JSON
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, detail };
}

/**
 * Creates a repository and asserts 201 (or 200), saying what came back otherwise. Remotes with
 * credentials need an administrator's `authorization`.
 */
export async function createRepository(
  baseUrl: string,
  body: Record<string, unknown>,
  options: { authorization?: string } = {},
): Promise<void> {
  const res = await api(baseUrl, 'POST', '/repositories', body, options);
  assert.ok(
    res.status === 201 || res.status === 200,
    `POST /api/v1/repositories ${JSON.stringify(body)} answered ${res.status} ${res.text}`,
  );
}

export interface HashedReply {
  status: number;
  length: number;
  digest: string;
  /** The body as text when the status is not 2xx (error bodies are small). */
  errorText: string;
}

/** GET with the body streamed through sha256, never held in memory. */
export async function hashedGet(url: string): Promise<HashedReply> {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000), redirect: 'manual' });
  if (res.status < 200 || res.status > 299) {
    const errorText = await res.text();
    return { status: res.status, length: errorText.length, digest: '', errorText };
  }
  const hash = createHash('sha256');
  let length = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      hash.update(chunk);
      length += chunk.length;
    }
  }
  return { status: res.status, length, digest: `sha256:${hash.digest('hex')}`, errorText: '' };
}

/** The reference registry's completed requests (info-level log) for that method and exact path. */
export function countUpstreamRequests(output: string, method: string, path: string): number {
  return output
    .split('\n')
    .filter(
      (line) =>
        line.includes('msg="response completed') &&
        line.includes(`http.request.method=${method} `) &&
        (line.includes(`http.request.uri="${path}"`) || line.includes(`http.request.uri=${path} `)),
    ).length;
}

/** The registry's log lines arrive through a pipe: give them a moment before counting. */
export async function settleLog(ms = 500): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends basic credentials on every request (pushing to an htpasswd-protected reference). */
export class AuthedRegistryClient extends RegistryClient {
  private readonly authorization: string;

  constructor(url: string, username: string, password: string) {
    super(url);
    this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  override request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    return super.request(method, path, {
      ...options,
      headers: { ...options.headers, authorization: this.authorization },
    });
  }
}
