/** Settings of a remote repository (a pull-through cache of another registry). */
export interface RemoteSettings {
  /** Base URL of the upstream registry, e.g. https://registry-1.docker.io. */
  url: string;
  /** Prepended upstream to one-component image names: `library/` for Docker Hub's official images. */
  pathPrefix?: string;
  username?: string;
  password?: string;
  /** How long a tag is served as last seen before upstream is asked again. */
  ttlSeconds: number;
  /** Serve only what is cached; never ask upstream. */
  offline: boolean;
  /** What garbage collection evicts from the cache (src/lifecycle/gc/cache-eviction.ts); none: kept forever. */
  cache?: RemoteCachePolicy;
}

/** A remote repository's cache policy; either limit alone, or both. */
export interface RemoteCachePolicy {
  /** Manifests not pulled for this many days (cached-at time when never pulled) are evicted. */
  maxAgeDays?: number;
  /** Over this many unique bytes, the least recently pulled manifests are evicted. */
  maxBytes?: number;
}

export const DEFAULT_TTL_SECONDS = 300;

/** Checks remote settings; returns them normalised, or the problems in words a person can act on. */
export function checkRemoteSettings(raw: Record<string, unknown>): {
  settings: RemoteSettings;
  problems: string[];
} {
  const problems: string[] = [];
  const url = typeof raw.url === 'string' ? raw.url : '';
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    problems.push('settings.url must be the upstream registry URL, like https://registry-1.docker.io');
  }
  if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    problems.push(`settings.url must be http or https, not ${parsed.protocol}`);
  }
  if (parsed && (parsed.username || parsed.password)) {
    problems.push('put upstream credentials in settings.username and settings.password, not in the URL');
  }
  const text = (field: string) => {
    const value = raw[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') problems.push(`settings.${field} must be a string`);
    return typeof value === 'string' ? value : undefined;
  };
  const pathPrefix = text('pathPrefix');
  const username = text('username');
  const password = text('password');
  if ((username === undefined) !== (password === undefined)) {
    problems.push('settings.username and settings.password go together');
  }
  const ttl = raw.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0) {
    problems.push('settings.ttlSeconds must be a whole number of seconds, 0 or more');
  }
  if (raw.offline !== undefined && typeof raw.offline !== 'boolean')
    problems.push('settings.offline must be true or false');
  const cache = checkCachePolicy(raw.cache, problems);
  const settings: RemoteSettings = {
    url: url.replace(/\/+$/, ''),
    ttlSeconds: typeof ttl === 'number' ? ttl : DEFAULT_TTL_SECONDS,
    offline: raw.offline === true,
    ...(pathPrefix ? { pathPrefix } : {}),
    ...(username && password ? { username, password } : {}),
    ...(cache ? { cache } : {}),
  };
  return { settings, problems };
}

function checkCachePolicy(raw: unknown, problems: string[]): RemoteCachePolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const example = 'like {"maxAgeDays": 30, "maxBytes": 10737418240}';
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`settings.cache must be an object, ${example}`);
    return undefined;
  }
  const { maxAgeDays, maxBytes, ...rest } = raw as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.push(`settings.cache.${key} is not a cache setting; use maxAgeDays or maxBytes`);
  const policy: RemoteCachePolicy = {};
  if (maxAgeDays !== undefined) {
    // Fractions are allowed: a day and a half, or (in tests) seconds.
    if (typeof maxAgeDays !== 'number' || !Number.isFinite(maxAgeDays) || maxAgeDays <= 0)
      problems.push('settings.cache.maxAgeDays must be a number of days greater than 0');
    else policy.maxAgeDays = maxAgeDays;
  }
  if (maxBytes !== undefined) {
    if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 0)
      problems.push('settings.cache.maxBytes must be a whole number of bytes, 0 or more');
    else policy.maxBytes = maxBytes;
  }
  return policy.maxAgeDays === undefined && policy.maxBytes === undefined ? undefined : policy;
}

/** What maskSettings shows instead of a password. */
export const MASKED_PASSWORD = '********';

/** The URL as compared for "did it change": trailing slashes and letter case of scheme and host do not count. */
function sameUrl(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => {
    if (typeof v !== 'string') return v;
    try {
      return new URL(v.replace(/\/+$/, '')).href.replace(/\/+$/, '');
    } catch {
      return v;
    }
  };
  return norm(a) === norm(b);
}

/**
 * New settings for a remote repository as sent back by someone who saw them masked: a password
 * left out or still masked keeps the stored one while the user name and the URL stay the same.
 * A new URL drops the stored credentials unless they are given again in full: otherwise whoever
 * may edit the remote could send the stored password to a host of their choosing.
 */
export function keepStoredPassword(
  current: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const unchangedUser = next.username === undefined || next.username === current.username;
  const kept = next.password === undefined || next.password === MASKED_PASSWORD;
  const urlKept = next.url === undefined || sameUrl(next.url, current.url);
  if (kept && !urlKept) {
    const { username: _user, password: _password, ...rest } = next;
    return rest;
  }
  if (!kept || !unchangedUser || typeof current.password !== 'string') return next;
  return { ...next, username: current.username, password: current.password };
}

/**
 * Whether saving `next` over `current` (undefined: creating) sets, changes or removes upstream
 * credentials, or points stored credentials at another URL. Only administrators may: they are
 * the ones allowed to know the secret, and the URL decides who receives it.
 */
export function touchesCredentials(
  current: Record<string, unknown> | undefined,
  next: Record<string, unknown>,
): boolean {
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (!current) return given(next.username) || given(next.password);
  const effective = keepStoredPassword(current, next);
  const had = given(current.username) || given(current.password);
  const differs =
    (effective.username ?? '') !== (current.username ?? '') ||
    (effective.password ?? '') !== (current.password ?? '');
  return differs || (had && !sameUrl(effective.url ?? current.url, current.url));
}

/** Settings as shown to people: never the password. */
export function maskSettings(settings: Record<string, unknown>): Record<string, unknown> {
  return settings.password === undefined ? settings : { ...settings, password: MASKED_PASSWORD };
}
