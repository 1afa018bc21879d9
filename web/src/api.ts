import type { GateResult, PromotionRecord } from '../../src/meta/promotion-records.ts';
// The only way the UI talks to the server: /api/v1, JSON, the session cookie, and the CSRF token
// (kept in memory, from the session or /me response) on every change.

export interface Me {
  name: string;
  authenticated: boolean;
  admin: boolean;
  groups: string[];
  csrfToken?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: Record<string, unknown> | null,
  ) {
    super(detail);
  }
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export const API = '/api/v1';

/** Calls the management API; resolves to the JSON body, rejects with an ApiError carrying the problem's detail. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  // X-Requested-With: the server then leaves out `WWW-Authenticate: Basic` on a 401, so the
  // browser shows our sign-in page instead of its own password dialog.
  const headers: Record<string, string> = {
    accept: 'application/json, application/problem+json',
    'x-requested-with': 'XMLHttpRequest',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path.startsWith('/api/') ? path : API + path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${(e as Error).message})`, null);
  }
  const text = await response.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const problem = json && typeof json === 'object' ? (json as Record<string, unknown>) : null;
    // A session that ended (expired, signed out elsewhere): let the shell re-read who we are.
    if (response.status === 401 && !path.endsWith('/session'))
      dispatchEvent(new Event('gantry:unauthorized'));
    throw new ApiError(response.status, problemDetail(response, problem, text), problem);
  }
  return json as T;
}

function problemDetail(response: Response, p: Record<string, unknown> | null, text: string): string {
  if (p) {
    for (const key of ['detail', 'message', 'title']) {
      if (typeof p[key] === 'string' && p[key]) return p[key] as string;
    }
    const errors = p.errors;
    if (Array.isArray(errors) && errors[0] && typeof errors[0].message === 'string') return errors[0].message;
  }
  return text.trim().slice(0, 300) || `${response.status} ${response.statusText}`;
}

export const get = <T>(path: string) => api<T>('GET', path);

/** Query string from the non-empty entries (arrays repeat the parameter). */
export function qs(params: Record<string, string | string[] | number | undefined | null>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const one of v) one && s.append(k, one);
    else s.set(k, String(v));
  }
  const out = s.toString();
  return out ? `?${out}` : '';
}

/** The path of the next page: `next` is either a full /api/v1 path or the `last` cursor. */
export function nextPage(base: string, next: string | undefined, param = 'last'): string | undefined {
  if (!next) return undefined;
  if (next.startsWith('/')) return next;
  return base + (base.includes('?') ? '&' : '?') + `${param}=${encodeURIComponent(next)}`;
}

/** `/repositories/<key>/images/<image>` with the image's slashes kept as slashes. */
export function imagePath(repository: string, image: string): string {
  return `/repositories/${encodeURIComponent(repository)}/images/${image.split('/').map(encodeURIComponent).join('/')}`;
}

// ------------------------------------------------------------------------------------ types

export interface Repository {
  key: string;
  kind: 'local' | 'remote' | 'virtual';
  description: string;
  settings: Record<string, unknown>;
  createdAt: string;
  stats?: { imageCount: number; sizeBytes: number; lastPushAt: string | null } | null;
  /** What the caller may do on the whole repository (read, annotate, deploy, delete, promote, manage). */
  actions?: string[];
}

/** What the caller may do on the whole repository `key` (none when it is not listed). */
export const actionsIn = (repos: readonly Repository[] | undefined, key: string): string[] =>
  repos?.find((r) => r.key === key)?.actions ?? [];

/** Local repositories other than `except` that the caller may promote into. */
export const promoteTargets = (repos: readonly Repository[] | undefined, except: string): Repository[] =>
  (repos ?? []).filter((r) => r.kind === 'local' && r.key !== except && r.actions?.includes('promote'));

/** Whether the caller may change the repository's settings or delete it. */
export const mayManage = (r: Repository) => r.actions?.includes('manage') ?? false;

export interface ImageSummary {
  /** The server answers `image`; `name` was the first draft of the contract. */
  image?: string;
  name?: string;
  tagCount: number;
  lastPushAt: string | null;
}

export interface TagInfo {
  tag: string;
  digest: string;
  /** The repository holding the tag (the serving member, through a virtual repository). */
  repository?: string;
  kind: 'immutable' | 'floating' | 'mutable';
  rule?: string;
  updatedAt: string;
}

export interface Manifest {
  digest: string;
  /** The repository holding it (a member, when read through a virtual repository). */
  repository?: string;
  mediaType: string;
  size: number;
  /** Set for a signature, an SBOM or another artifact that is not a runnable image. */
  artifactType?: string | null;
  /** What this manifest refers to (it is then one of that manifest's referrers). */
  subject?: string | null;
  tags: string[];
  platforms?: { platform: string; digest: string }[];
  layers?: { digest: string; size: number; mediaType: string }[];
  config?: {
    architecture?: string;
    os?: string;
    created?: string;
    entrypoint?: string[] | null;
    cmd?: string[] | null;
    user?: string;
    workingDir?: string;
    env?: string[];
    labels?: Record<string, string>;
    /** As the API sends it (lower-case, durations in nanoseconds), not as the image config spells it. */
    healthcheck?: {
      test: string[];
      interval?: number;
      timeout?: number;
      startPeriod?: number;
      retries?: number;
    } | null;
  } | null;
  annotations?: Record<string, string>;
  referrers?: { digest: string; artifactType?: string; mediaType: string; size: number }[];
  properties?: Record<string, string[]>;
  builds?: { name: string; number: string; vcsUrl?: string | null; revision?: string | null }[];
}

/** A gate's verdict, as the server's promotion records and dry runs carry it. */
export type GateVerdict = GateResult;

export interface Waiting {
  from: string;
  to: string;
  digest: string;
  gates: GateVerdict[];
  promotable: boolean;
  /** Why the caller cannot promote it now, as the server says (permission before gates). */
  unavailable?: string;
  /** Whether the caller's approval would count for an approval gate of `to`. */
  mayApprove?: boolean;
}

export interface Pipeline {
  stages: { repository: string; description: string; gates: string[] }[];
  others: { repository: string; kind: string; description: string; members?: string[] }[];
  images: {
    image: string;
    stages: Record<string, { digest: string; tags: string[] } | null>;
    /** Per stage, the other tagged digests held there (newest first, a few) and how many more. */
    otherDigests: Record<
      string,
      { digests: { digest: string; tags: string[]; updatedAt: string }[]; more: number }
    >;
    waiting: Waiting[];
  }[];
  next?: string;
}

export interface PromotionResult {
  promoted: boolean;
  dryRun: boolean;
  digest: string;
  gates: GateVerdict[];
  tags: { tag: string; previousDigest?: string }[];
  floating?: { tag: string; digest: string }[];
}

export type { PromotionRecord };

export interface TagEvent {
  oldDigest: string | null;
  newDigest: string | null;
  actor: string;
  cause: string;
  at: string;
}
