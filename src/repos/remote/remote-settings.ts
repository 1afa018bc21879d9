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
  const settings: RemoteSettings = {
    url: url.replace(/\/+$/, ''),
    ttlSeconds: typeof ttl === 'number' ? ttl : DEFAULT_TTL_SECONDS,
    offline: raw.offline === true,
    ...(pathPrefix ? { pathPrefix } : {}),
    ...(username && password ? { username, password } : {}),
  };
  return { settings, problems };
}

/** What maskSettings shows instead of a password. */
export const MASKED_PASSWORD = '********';

/**
 * New settings for a remote repository as sent back by someone who saw them masked: a password
 * left out or still masked keeps the stored one while the user name stays the same.
 */
export function keepStoredPassword(
  current: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const unchangedUser = next.username === undefined || next.username === current.username;
  const kept = next.password === undefined || next.password === MASKED_PASSWORD;
  if (!kept || !unchangedUser || typeof current.password !== 'string') return next;
  return { ...next, username: current.username, password: current.password };
}

/** Settings as shown to people: never the password. */
export function maskSettings(settings: Record<string, unknown>): Record<string, unknown> {
  return settings.password === undefined ? settings : { ...settings, password: MASKED_PASSWORD };
}
