import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { RegistryAccess } from './principal.ts';
import { type SigningKeys, tokenId } from './signing-keys.ts';

export interface TokenSettings {
  /** `iss` of every token. */
  issuer: string;
  /** `service` of the challenge and `aud` of access tokens. */
  service: string;
  ttlSeconds: number;
  refreshTtlSeconds: number;
}

/** Claims Gantry reads back from its own tokens. */
export interface AccessClaims {
  sub: string;
  /** The user's immutable id (UserRecord.id); absent for anonymous tokens. */
  uid?: string;
  access: RegistryAccess[];
  /** API token the access token was issued through. */
  tid?: string;
  exp: number;
}

export interface RefreshClaims {
  sub: string;
  /** The user's immutable id: a new user of the same name is not the one it was issued to. */
  uid: string;
  /** The user's credential generation when issued (identity-records.ts UserRecord.generation). */
  gen: number;
  exp: number;
}

/** A browser session (the `gantry_session` cookie of the web UI). */
export interface SessionClaims {
  sub: string;
  /** The user's immutable id, as in RefreshClaims. */
  uid: string;
  /** The user's credential generation when issued: a password change or disabling ends the session. */
  gen: number;
  /** What the page must send back in `X-CSRF-Token` with every change. */
  csrf: string;
  exp: number;
}

/** Why a token was refused, in words for the client. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
}

const CACHE_LIMIT = 10_000;

/**
 * Docker registry tokens: short-lived ES256 JWTs carrying the granted `access`, and refresh
 * tokens (a different audience, so neither passes for the other) for OAuth2 clients. Verified
 * tokens are cached until they expire: signature checks (~0.2 ms each) stay off the hot path.
 */
export class RegistryTokens {
  private readonly verified = new Map<string, AccessClaims>();
  /** Grows when cached verifications are forgotten; caches built on them compare it. */
  generation = 0;

  constructor(
    private readonly keys: SigningKeys,
    readonly settings: TokenSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async issueAccess(
    sub: string,
    access: RegistryAccess[],
    extra: { tid?: string; uid?: string } = {},
  ): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    const now = Math.floor(this.now().getTime() / 1000);
    const token = await this.sign(
      { access, ...extra },
      sub,
      this.settings.service,
      now,
      this.settings.ttlSeconds,
    );
    return { token, expiresIn: this.settings.ttlSeconds, issuedAt: new Date(now * 1000).toISOString() };
  }

  async issueRefresh(sub: string, uid: string, gen: number): Promise<string> {
    const now = Math.floor(this.now().getTime() / 1000);
    return this.sign({ gen, uid }, sub, this.refreshAudience(), now, this.settings.refreshTtlSeconds);
  }

  /** A session token for the web UI: audience `<service>#session`, so it passes for nothing else. */
  async issueSession(
    sub: string,
    uid: string,
    gen: number,
    csrf: string,
    ttlSeconds: number,
  ): Promise<string> {
    const now = Math.floor(this.now().getTime() / 1000);
    return this.sign({ gen, csrf, uid }, sub, this.sessionAudience(), now, ttlSeconds);
  }

  async verifySession(token: string): Promise<SessionClaims> {
    const payload = await this.verify(token, this.sessionAudience());
    if (
      typeof payload.gen !== 'number' ||
      typeof payload.uid !== 'string' ||
      typeof payload.csrf !== 'string' ||
      payload.csrf === ''
    )
      throw new TokenError('session token lacks its user id, generation or CSRF token');
    return {
      sub: payload.sub as string,
      uid: payload.uid,
      gen: payload.gen,
      csrf: payload.csrf,
      exp: payload.exp as number,
    };
  }

  async verifyAccess(token: string): Promise<AccessClaims> {
    const cached = this.verified.get(token);
    if (cached && cached.exp * 1000 > this.now().getTime()) return cached;
    const payload = await this.verify(token, this.settings.service);
    if (!Array.isArray(payload.access)) throw new TokenError('token has no access claim');
    const claims: AccessClaims = {
      sub: payload.sub as string,
      access: (payload.access as RegistryAccess[]).filter(isAccess),
      exp: payload.exp as number,
      ...(typeof payload.tid === 'string' ? { tid: payload.tid } : {}),
      ...(typeof payload.uid === 'string' ? { uid: payload.uid } : {}),
    };
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }

  async verifyRefresh(token: string): Promise<RefreshClaims> {
    const payload = await this.verify(token, this.refreshAudience());
    if (typeof payload.gen !== 'number' || typeof payload.uid !== 'string')
      throw new TokenError('refresh token has no user id or generation; sign in again');
    return { sub: payload.sub as string, uid: payload.uid, gen: payload.gen, exp: payload.exp as number };
  }

  /** Forgets cached verifications (after a signing key was dropped). */
  forget(): void {
    this.verified.clear();
    this.generation++;
  }

  private refreshAudience(): string {
    return `${this.settings.service}#refresh`;
  }

  private sessionAudience(): string {
    return `${this.settings.service}#session`;
  }

  private async sign(
    claims: Record<string, unknown>,
    sub: string,
    audience: string,
    now: number,
    ttl: number,
  ): Promise<string> {
    const { kid, privateKey } = this.keys.current();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(this.settings.issuer)
      .setSubject(sub)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now - 1)
      .setExpirationTime(now + ttl)
      .setJti(tokenId())
      .sign(privateKey);
  }

  private async verify(token: string, audience: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.keys.publicKey(header.kid);
          if (!key)
            throw new TokenError(`token is signed with an unknown key (kid ${header.kid ?? 'missing'})`);
          return key;
        },
        {
          issuer: this.settings.issuer,
          audience,
          algorithms: ['ES256'],
          clockTolerance: 5,
          currentDate: this.now(),
        },
      );
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number')
        throw new TokenError('token lacks sub or exp');
      return payload;
    } catch (error) {
      throw asTokenError(error);
    }
  }
}

function asTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof joseErrors.JWTExpired) return new TokenError('token has expired; request a new one');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new TokenError(`token is not for this registry (${error.claim} claim: ${error.reason})`);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return new TokenError('token signature is invalid');
  return new TokenError('token is malformed');
}

function isAccess(a: unknown): a is RegistryAccess {
  const x = a as RegistryAccess;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.type === 'string' &&
    typeof x.name === 'string' &&
    Array.isArray(x.actions)
  );
}

/**
 * `repository:team/app:pull,push` → {type, name, actions}. The name sits between the first and
 * the last colon; a type may carry a `(class)` suffix, which is dropped. Undefined when malformed.
 */
export function parseScope(scope: string): RegistryAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  if (name === '') return undefined;
  return { type, name, actions };
}
