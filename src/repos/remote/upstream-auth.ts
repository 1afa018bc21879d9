/**
 * Authentication against one upstream, learned from its 401 challenges: anonymous first; `Basic`
 * sends the configured credentials; `Bearer` fetches a token from the challenge's realm (with the
 * credentials when there are some, anonymously otherwise) and caches it per scope. After the
 * first challenge the scheme is remembered, so later requests send credentials or a cached token
 * up front instead of paying for a 401 each time.
 */
import { TokenCache } from './token-cache.ts';
import { UpstreamError } from './upstream-error.ts';
import type { UpstreamHttp } from './upstream-http.ts';
import { type Challenge, parseWwwAuthenticate } from './www-authenticate.ts';

export interface Credentials {
  username: string;
  password: string;
}

const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

export class UpstreamAuth {
  #scheme: 'anonymous' | 'basic' | 'bearer' = 'anonymous';
  readonly #tokens: TokenCache;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(
    private readonly http: UpstreamHttp,
    private readonly credentials: Credentials | undefined,
    tokens: TokenCache = new TokenCache(),
  ) {
    this.#tokens = tokens;
  }

  /** The Authorization to send first for `scope`: whatever worked before, if it may still work. */
  preemptive(scope: string): string | undefined {
    if (this.#scheme === 'basic') return this.#basic();
    if (this.#scheme === 'bearer') {
      const token = this.#tokens.get(scope);
      return token === undefined ? undefined : `Bearer ${token}`;
    }
    return undefined;
  }

  /**
   * Works out the Authorization that answers a 401's challenge, or throws 'unauthorized'. `sent`
   * is what the refused request carried: a cached token other than it was fetched meanwhile by a
   * concurrent request and is used as is.
   */
  async answer(
    wwwAuthenticate: string,
    scope: string,
    sent: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const cached = this.#tokens.get(scope);
      if (cached !== undefined && `Bearer ${cached}` !== sent) return `Bearer ${cached}`;
      this.#tokens.delete(scope);
      return `Bearer ${await this.#sharedToken(bearer, scope, signal)}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.credentials) throw this.needsCredentials();
      this.#scheme = 'basic';
      return this.#basic();
    }
    if (challenges.length === 0) throw this.refused();
    const schemes = challenges.map((c) => c.scheme).join(', ');
    throw new UpstreamError(
      'unauthorized',
      this.http.upstream,
      `upstream ${this.http.upstream} asks for authentication with a scheme Gantry does not support (${schemes}); Basic and Bearer are supported`,
      { status: 401 },
    );
  }

  /** The error for a 401 that still comes after answering the challenge. */
  refused(): UpstreamError {
    return this.credentials ? this.#credentialsRefused() : this.needsCredentials();
  }

  needsCredentials(): UpstreamError {
    return new UpstreamError(
      'unauthorized',
      this.http.upstream,
      `upstream ${this.http.upstream} requires credentials and none are configured; set a username and password on this remote repository`,
      { status: 401 },
    );
  }

  #credentialsRefused(): UpstreamError {
    return new UpstreamError(
      'unauthorized',
      this.http.upstream,
      `upstream ${this.http.upstream} refused the configured credentials (401 Unauthorized); check the username and password of this remote repository`,
      { status: 401 },
    );
  }

  #basic(): string {
    const { username, password } = this.credentials ?? { username: '', password: '' };
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /**
   * Concurrent requests for one scope share a single token request. It runs without any one
   * caller's signal (one caller going away must not fail the others; the deadline bounds it);
   * each caller stops waiting when its own signal aborts.
   */
  #sharedToken(challenge: Challenge, scope: string, signal?: AbortSignal): Promise<string> {
    let fetching = this.#pending.get(scope);
    if (!fetching) {
      fetching = this.#fetchToken(challenge, scope).finally(() => this.#pending.delete(scope));
      this.#pending.set(scope, fetching);
    }
    return signal ? untilAborted(fetching, signal) : fetching;
  }

  async #fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const realm = this.#realmUrl(challenge);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', challenge.params.scope ?? scope);
    const res = await this.http.read(
      {
        method: 'GET',
        url: realm,
        ...(this.credentials ? { authorization: this.#basic() } : {}),
      },
      TOKEN_RESPONSE_LIMIT,
    );
    if (res.status === 401 || res.status === 403) throw this.refused();
    if (res.status !== 200) throw this.#tokenFailure(realm, res.status);
    const { token, expiresIn } = this.#parseToken(res.body, realm);
    this.#scheme = 'bearer';
    this.#tokens.set(scope, token, expiresIn);
    return token;
  }

  #realmUrl(challenge: Challenge): URL {
    const realm = challenge.params.realm;
    const url = realm && URL.canParse(realm) ? new URL(realm) : undefined;
    // Credentials go to the realm: never in clear text when the upstream itself is HTTPS.
    const downgrade = url?.protocol === 'http:' && this.http.base.protocol === 'https:' && this.credentials;
    if (downgrade) {
      throw new UpstreamError(
        'protocol',
        this.http.upstream,
        `upstream ${this.http.upstream} names a plain-http token service (${url.origin}); credentials are not sent there`,
        { status: 401 },
      );
    }
    if (url && (url.protocol === 'https:' || url.protocol === 'http:')) return url;
    throw new UpstreamError(
      'protocol',
      this.http.upstream,
      `upstream ${this.http.upstream} sent a Bearer challenge without a usable realm URL`,
      { status: 401 },
    );
  }

  #parseToken(body: Buffer, realm: URL): { token: string; expiresIn?: number } {
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown } = {};
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      // handled below: no token
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    if (typeof token !== 'string' || !token) {
      throw new UpstreamError(
        'protocol',
        this.http.upstream,
        `token service ${realm.origin}${realm.pathname} of upstream ${this.http.upstream} answered without a token`,
      );
    }
    return typeof doc.expires_in === 'number' ? { token, expiresIn: doc.expires_in } : { token };
  }

  #tokenFailure(realm: URL, status: number): UpstreamError {
    const where = `token service ${realm.origin}${realm.pathname} of upstream ${this.http.upstream}`;
    if (status === 429)
      return new UpstreamError('rate-limited', this.http.upstream, `${where} is rate limiting (429)`, {
        status,
      });
    const kind = status >= 500 ? 'server-error' : 'protocol';
    return new UpstreamError(kind, this.http.upstream, `${where} answered ${status} to a token request`, {
      status,
    });
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
