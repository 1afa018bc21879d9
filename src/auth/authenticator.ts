import { createHash } from 'node:crypto';
import type { AuditLog } from '../events/audit-log.ts';
import type { UserRecord } from '../meta/identity-records.ts';
import { type ApiTokens, TOKEN_PREFIX } from './api-tokens.ts';
import type { IdentityService } from './identity-service.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { verifyPassword } from './passwords.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { type RegistryTokens, TokenError } from './registry-tokens.ts';

/** Credentials were sent and are wrong (`invalid`), or login attempts are paused (`limited`). */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  constructor(
    readonly reason: 'invalid' | 'limited',
    message: string,
    readonly retryAfter = 0,
  ) {
    super(message);
  }
}

/** Verified basic credentials are remembered this long, so argon2 runs once per client, not per request. */
const BASIC_CACHE_MS = 5 * 60_000;
const BASIC_CACHE_LIMIT = 10_000;
/** How long a failed login whose client repeats it with Basic (fallbackFollows) waits for that repeat. */
const FALLBACK_MS = 10_000;

export interface LoginOptions {
  /**
   * The client repeats these very credentials once more, with Basic, when this login fails:
   * containerd posts the OAuth2 password form to /v2/token and on a 401 asks GET /v2/token with
   * Basic. Both are one attempt, so the repeat is answered from this failure and not counted
   * again (else the account locks after half the attempts it allows). Only the repeat of the
   * identical user, password and address within seconds is spared; a different password always
   * counts, so guessing gains nothing.
   */
  fallbackFollows?: boolean;
}

/**
 * Turns an `Authorization` header into a Principal: none → anonymous; `Basic` with a password
 * or an API token as the password; `Bearer` with a registry token or an API token. Failed
 * passwords are counted by the LoginLimiter and audited as `login.failure`.
 */
export class Authenticator {
  /** Password verifications running now, by credentials and stored hash (verifyOnce). */
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** Verified passwords, bound to the user's id: a new user of the same name is not trusted by them. */
  private readonly basicCache = new Map<string, { userId: string; generation: number; until: number }>();
  /** Principals of verified registry tokens, valid while identity and tokens are unchanged. */
  private readonly bearerCache = new Map<string, { principal: Principal; stamp: string; until: number }>();
  /** Failed logins whose Basic repeat is expected (LoginOptions.fallbackFollows), until when. */
  private readonly awaitingRepeat = new Map<string, number>();

  constructor(
    private readonly identity: IdentityService,
    private readonly apiTokens: ApiTokens,
    private readonly registryTokens: RegistryTokens,
    private readonly limiter: LoginLimiter,
    private readonly audit: AuditLog,
  ) {}

  async authenticate(header: string | undefined, address: string): Promise<Principal> {
    if (header === undefined || header === '') return ANONYMOUS;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space < 0 ? header.length : space).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const { user, password } = decodeBasic(value);
      if (password.startsWith(TOKEN_PREFIX)) return this.viaApiToken(password, 'basic', user, address);
      return this.principalOf(await this.login(user, password, address), 'basic');
    }
    if (scheme === 'bearer') {
      if (value.startsWith(TOKEN_PREFIX)) return this.viaApiToken(value, 'api-token', undefined, address);
      return this.viaRegistryToken(value);
    }
    throw new AuthenticationError(
      'invalid',
      `unsupported authorization scheme ${scheme.slice(0, 20)}; use Basic or Bearer`,
    );
  }

  /** Checks a user name and password (rate-limited, audited); the user on success. */
  async login(
    name: string,
    password: string,
    address: string,
    options: LoginOptions = {},
  ): Promise<UserRecord> {
    const key = createHash('sha256').update(`${name}\0${password}`).digest('base64');
    if (this.isExpectedRepeat(`${key}\0${address}`)) {
      throw new AuthenticationError('invalid', 'wrong user name or password');
    }
    const cached = this.basicCache.get(key);
    const user = this.identity.user(name);
    if (
      cached &&
      cached.until > Date.now() &&
      user &&
      user.id === cached.userId &&
      !user.disabled &&
      user.generation === cached.generation
    ) {
      return user;
    }
    const wait = this.limiter.retryAfter(name, address);
    if (wait > 0) {
      this.audit.record({
        actor: name,
        action: 'login.failure',
        target: name,
        outcome: 'denied',
        address,
        detail: { reason: 'rate limited' },
      });
      throw new AuthenticationError('limited', `too many failed logins; try again in ${wait} s`, wait);
    }
    const ok = await this.verifyOnce(key, user?.passwordHash ?? null, password);
    if (!ok || !user || user.disabled) {
      this.limiter.failed(name, address);
      if (options.fallbackFollows) this.expectRepeat(`${key}\0${address}`);
      this.audit.record({
        actor: name,
        action: 'login.failure',
        target: name,
        outcome: 'failure',
        address,
        detail: { reason: user?.disabled ? 'account disabled' : 'wrong user name or password' },
      });
      throw new AuthenticationError('invalid', 'wrong user name or password');
    }
    this.limiter.succeeded(name);
    if (this.basicCache.size >= BASIC_CACHE_LIMIT) this.basicCache.clear();
    this.basicCache.set(key, {
      userId: user.id,
      generation: user.generation,
      until: Date.now() + BASIC_CACHE_MS,
    });
    return user;
  }

  /** Whether this failed login is the client's expected repeat of one just counted; consumes it. */
  private isExpectedRepeat(attempt: string): boolean {
    const until = this.awaitingRepeat.get(attempt);
    if (until === undefined) return false;
    this.awaitingRepeat.delete(attempt);
    return until > Date.now();
  }

  private expectRepeat(attempt: string): void {
    const now = Date.now();
    if (this.awaitingRepeat.size >= BASIC_CACHE_LIMIT) {
      for (const [k, until] of this.awaitingRepeat) if (until <= now) this.awaitingRepeat.delete(k);
      if (this.awaitingRepeat.size >= BASIC_CACHE_LIMIT) this.awaitingRepeat.clear();
    }
    this.awaitingRepeat.set(attempt, now + FALLBACK_MS);
  }

  /**
   * One argon2 run for requests that arrive together with the same credentials (a client
   * opening 64 connections with one Basic header): the others wait for its answer instead of
   * each costing 19 MiB and tens of milliseconds of the thread pool.
   */
  private verifyOnce(key: string, hashed: string | null, password: string): Promise<boolean> {
    const flightKey = `${key}\0${hashed ?? ''}`;
    const running = this.verifying.get(flightKey);
    if (running) return running;
    const verification = verifyPassword(hashed, password).finally(() => this.verifying.delete(flightKey));
    this.verifying.set(flightKey, verification);
    return verification;
  }

  /** The principal of an API token value, or AuthenticationError. `claimedUser` must be its owner when given. */
  viaApiToken(
    value: string,
    via: Principal['via'],
    claimedUser: string | undefined,
    address: string,
  ): Principal {
    const result = this.apiTokens.verify(value);
    if ('problem' in result) {
      this.audit.record({
        actor: claimedUser ?? 'unknown',
        action: 'login.failure',
        target: 'api-token',
        outcome: 'failure',
        address,
        detail: { reason: result.problem },
      });
      throw new AuthenticationError('invalid', result.problem);
    }
    const { token } = result;
    if (
      claimedUser !== undefined &&
      claimedUser !== '' &&
      claimedUser !== token.owner &&
      claimedUser !== 'token'
    ) {
      throw new AuthenticationError(
        'invalid',
        `this API token belongs to ${token.owner}, not ${claimedUser}`,
      );
    }
    // ApiTokens.verify checked the owner is still the user the token was issued to.
    const user = this.identity.user(token.owner) as UserRecord;
    return {
      ...this.principalOf(user, via),
      token: { id: token.id, name: token.name, targets: token.targets, actions: token.actions },
    };
  }

  principalOf(user: UserRecord, via: Principal['via']): Principal {
    return {
      name: user.name,
      id: user.id,
      authenticated: true,
      admin: user.admin,
      groups: this.identity.groupsOf(user.name),
      via,
    };
  }

  private async viaRegistryToken(value: string): Promise<Principal> {
    const stamp = `${this.identity.version}:${this.apiTokens.version}:${this.registryTokens.generation}`;
    const cached = this.bearerCache.get(value);
    if (cached && cached.stamp === stamp && cached.until > Date.now()) return cached.principal;
    const principal = await this.principalOfToken(value);
    if (this.bearerCache.size >= BASIC_CACHE_LIMIT) this.bearerCache.clear();
    const { exp } = await this.registryTokens.verifyAccess(value);
    this.bearerCache.set(value, { principal, stamp, until: exp * 1000 });
    return principal;
  }

  private async principalOfToken(value: string): Promise<Principal> {
    let claims: Awaited<ReturnType<RegistryTokens['verifyAccess']>>;
    try {
      claims = await this.registryTokens.verifyAccess(value);
    } catch (error) {
      if (error instanceof TokenError) throw new AuthenticationError('invalid', error.message);
      throw error;
    }
    if (claims.sub === ANONYMOUS.name) return { ...ANONYMOUS, via: 'bearer', access: claims.access };
    // A token without the user's id predates ids (it lives minutes): it is refused like one of a
    // deleted user, and the client simply asks for a new one.
    const user = this.identity.userWithId(claims.sub, claims.uid);
    if (!user || user.disabled)
      throw new AuthenticationError('invalid', `user ${claims.sub} no longer exists or is disabled`);
    const principal: Principal = { ...this.principalOf(user, 'bearer'), access: claims.access };
    if (claims.tid === undefined) return principal;
    const token = this.apiTokens.get(claims.tid);
    if (!token || !this.apiTokens.isLive(claims.tid))
      throw new AuthenticationError(
        'invalid',
        'the API token behind this registry token was revoked or expired',
      );
    return {
      ...principal,
      token: { id: token.id, name: token.name, targets: token.targets, actions: token.actions },
    };
  }
}

export function decodeBasic(value: string): { user: string; password: string } {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0)
    throw new AuthenticationError('invalid', 'basic credentials must be base64 of user:password');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
