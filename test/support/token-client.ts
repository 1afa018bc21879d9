/**
 * A registry client that authenticates the way docker, skopeo and containerd do: it sends a
 * request, and on a 401 with a Bearer challenge asks the challenge's realm for a token for the
 * challenge's scope (with Basic credentials, or none for anonymous), then retries once with it.
 */
import { basicAuth } from './gantry.ts';
import { type Reply, type RequestOptions, request } from './http.ts';

export interface Challenge {
  realm: string;
  service: string;
  scope?: string;
  error?: string;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header || !/^Bearer /i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[m[1] as string] = m[2] as string;
  if (!params.realm || !params.service) return undefined;
  return params as unknown as Challenge;
}

export class TokenClient {
  /** Tokens by scope, reused like clients reuse them. */
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly url: string,
    readonly credentials?: { user: string; password: string },
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const first = await request(this.url, method, path, options);
    const challenge =
      first.status === 401 ? parseChallenge(first.headers.get('www-authenticate')) : undefined;
    if (!challenge) return first;
    const token = await this.token(challenge);
    if (token === undefined) return first;
    return request(this.url, method, path, {
      ...options,
      headers: { ...options.headers, Authorization: `Bearer ${token}` },
    });
  }

  /** A token for the challenge's scope from its realm; undefined when the realm refuses. */
  async token(challenge: Challenge): Promise<string | undefined> {
    const key = `${challenge.scope ?? ''}`;
    const known = this.tokens.get(key);
    if (known) return known;
    const url = new URL(challenge.realm);
    url.searchParams.set('service', challenge.service);
    if (challenge.scope) url.searchParams.set('scope', challenge.scope);
    const res = await fetch(url, {
      headers: this.credentials
        ? { Authorization: basicAuth(this.credentials.user, this.credentials.password) }
        : {},
    });
    if (res.status !== 200) {
      await res.arrayBuffer();
      return undefined;
    }
    const body = (await res.json()) as { token: string };
    this.tokens.set(key, body.token);
    return body.token;
  }
}
