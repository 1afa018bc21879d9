import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EndedSessionMeta } from '../meta/identity-store.ts';
import { AuthenticationError, type Authenticator } from './authenticator.ts';
import type { IdentityService } from './identity-service.ts';
import type { Principal } from './principal.ts';
import { type RegistryTokens, type SessionClaims, TokenError } from './registry-tokens.ts';

/** The cookie that carries a web UI session. */
export const SESSION_COOKIE = 'gantry_session';
/** How long a session lasts (the cookie's Max-Age and the token's lifetime). */
export const SESSION_TTL_SECONDS = 12 * 3600;

const CACHE_LIMIT = 10_000;

/** A verified session: who, and the CSRF token its page must echo on changes. */
export interface Session {
  principal: Principal;
  csrf: string;
}

/**
 * Browser sessions of the web UI: signing in with a password (rate-limited and audited like
 * every login, through Authenticator.login) yields a session token, an ES256 JWT with audience
 * `<service>#session` signed by the same keys as registry tokens, carrying the user's id and
 * credential generation (deleting the user, a password change or disabling the account ends every session) and a random CSRF
 * token. Nothing is stored on the server for a live session; verified tokens are cached until
 * they expire, so the signature is checked once per session and node. Signing out records the
 * session as ended (EndedSessionMeta, shared by every node), which each request checks: a copy
 * of the cookie is worthless after sign-out.
 */
export class Sessions {
  private readonly verified = new Map<string, { claims: SessionClaims; generation: number }>();

  constructor(
    private readonly identity: IdentityService,
    private readonly authenticator: Authenticator,
    private readonly tokens: RegistryTokens,
    private readonly ended: EndedSessionMeta,
  ) {}

  /** Checks the password and starts a session; AuthenticationError when wrong or rate-limited. */
  async start(
    user: string,
    password: string,
    address: string,
  ): Promise<{ token: string; csrf: string; principal: Principal }> {
    const record = await this.authenticator.login(user, password, address);
    const csrf = randomBytes(32).toString('base64url');
    const token = await this.tokens.issueSession(
      record.name,
      record.id,
      record.generation,
      csrf,
      SESSION_TTL_SECONDS,
    );
    return { token, csrf, principal: this.authenticator.principalOf(record, 'session') };
  }

  /** The session of a cookie value; AuthenticationError when it is invalid, expired or ended. */
  async resume(token: string): Promise<Session> {
    const claims = await this.claimsOf(token);
    if (await this.ended.isEnded(sessionId(claims))) {
      throw new AuthenticationError('invalid', 'you signed out of this session; sign in again');
    }
    const user = this.identity.userWithId(claims.sub, claims.uid);
    if (!user || user.disabled || user.generation !== claims.gen) {
      throw new AuthenticationError(
        'invalid',
        'your session has ended (the password changed, or the account was disabled or deleted); sign in again',
      );
    }
    return { principal: this.authenticator.principalOf(user, 'session'), csrf: claims.csrf };
  }

  /**
   * Signs out: the session ends for good, on every node. A cookie that is not a valid session
   * (expired, broken, ended already) has nothing to end. Returns who signed out, if anyone.
   */
  async end(token: string): Promise<string | undefined> {
    const claims = await this.claimsOf(token).catch((error) => {
      if (error instanceof AuthenticationError) return undefined;
      throw error;
    });
    if (!claims) return undefined;
    this.verified.delete(token);
    const id = sessionId(claims);
    if (await this.ended.isEnded(id)) return undefined;
    await this.ended.end(id, new Date(claims.exp * 1000).toISOString());
    // Ended sessions are kept only until they would have expired anyway.
    await this.ended.purgeExpired(new Date().toISOString());
    return claims.sub;
  }

  private async claimsOf(token: string): Promise<SessionClaims> {
    const cached = this.verified.get(token);
    if (cached && cached.generation === this.tokens.generation && cached.claims.exp * 1000 > Date.now())
      return cached.claims;
    let claims: SessionClaims;
    try {
      claims = await this.tokens.verifySession(token);
    } catch (error) {
      if (error instanceof TokenError)
        throw new AuthenticationError(
          'invalid',
          `your session is not valid (${error.message}); sign in again`,
        );
      throw error;
    }
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, { claims, generation: this.tokens.generation });
    return claims;
  }
}

/** A session's identity: the hash of its CSRF token, random and unique per session. */
function sessionId(claims: SessionClaims): string {
  return createHash('sha256').update(claims.csrf).digest('base64url');
}

/** The `Set-Cookie` value that sets (or with an empty value and 0 clears) the session cookie. */
export function sessionSetCookie(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/** The session cookie's value in a `Cookie` header, if any. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/** Constant-time comparison of a sent CSRF token with the session's. */
export function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
