/**
 * Bearer tokens by scope. A token is reused until its `expires_in` minus a safety margin (so a
 * token never expires between our check and the upstream's), then fetched again. Only in memory:
 * tokens are short-lived and must never reach disk or logs.
 */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Seconds before expiry at which a token counts as expired: 10 s, or a fifth of short lifetimes. */
const MAX_MARGIN_S = 10;

interface Entry {
  token: string;
  expiresAt: number;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.now() < entry.expiresAt) return entry.token;
    this.#entries.delete(key);
    return undefined;
  }

  /** `expiresInS` as the token endpoint said; missing or nonsense means the spec's 60 s. */
  set(key: string, token: string, expiresInS?: number): void {
    const lifetime =
      expiresInS !== undefined && Number.isFinite(expiresInS) && expiresInS > 0
        ? expiresInS
        : DEFAULT_TOKEN_LIFETIME_S;
    const margin = Math.min(MAX_MARGIN_S, lifetime / 5);
    this.#entries.set(key, { token, expiresAt: this.now() + (lifetime - margin) * 1000 });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
