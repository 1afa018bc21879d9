import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../auth/authenticator.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import {
  csrfMatches,
  SESSION_COOKIE,
  type Session,
  sessionCookieOf,
  sessionSetCookie,
} from '../auth/sessions.ts';
import { DomainError, forbidden, tooManyRequests, unauthorized } from '../domain/errors.ts';
import type { AuditEntry } from '../events/audit-log.ts';
import type { Action } from '../meta/identity-records.ts';
import { ProblemError } from './problem.ts';
import { problemOf } from './problem-reply.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by `authenticateRequests` before any handler. */
    principal: Principal;
    /** The web UI session the caller came with (cookie), or null. */
    session: Session | null;
  }
}

/** Methods that change something: with a session cookie they need the session's CSRF token. */
const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes whose service audits its own refusals (promotion.refused, with the gates' reasons). */
const AUDIT_OWN_REFUSALS = [/\/promotions$/, /\/v2\/promote$/];

/**
 * Every management request is authenticated first (Basic with a password or an API token,
 * Bearer with an API token or a registry token, or, without an Authorization header, the web
 * UI's session cookie); without credentials the caller is anonymous and sees what anonymous may
 * see. Wrong credentials are a 401, never silently anonymous. A cookie session must send its
 * CSRF token in `X-CSRF-Token` with every POST, PUT, PATCH and DELETE. `/session` itself (sign
 * in, sign out) does not look at the cookie.
 */
export function authenticateRequests(app: FastifyInstance, access: ApiAccess): void {
  // Fastify refuses object defaults on requests (they would be shared); each request sets its own.
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
    request.session = null;
    try {
      const header = request.headers.authorization;
      const cookie = header ? undefined : sessionCookieOf(request.headers.cookie);
      if (cookie !== undefined) {
        if (request.routeOptions.url === `${app.prefix}/session`) return;
        const session = await access.sessions.resume(cookie).catch((error) => {
          if (!(error instanceof AuthenticationError)) throw error;
          // An ended or broken session: say so, and drop the cookie so the next request is anonymous.
          const clear = sessionSetCookie('', 0, request.protocol === 'https');
          throw new ProblemError(401, 'Unauthorized', error.message, undefined, { 'Set-Cookie': clear });
        });
        if (MUTATIONS.has(request.method) && !csrfMatches(request.headers['x-csrf-token'], session.csrf)) {
          throw forbidden(
            'missing or wrong CSRF token: send the csrfToken of POST /api/v1/session (or GET /api/v1/me) in X-CSRF-Token',
          );
        }
        request.session = session;
        request.principal = session.principal;
        return;
      }
      const principal = await access.authenticator.authenticate(header, request.ip);
      // A registry token carries a scope for /v2 only; here it would stand for all of its user.
      if (principal.access !== undefined) {
        throw unauthorized('registry tokens are for /v2; use Basic credentials or an API token here');
      }
      request.principal = principal;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.reason === 'limited') throw tooManyRequests(error.message, error.retryAfter);
      throw unauthorized(error.message);
    }
  });
  // Every refused change, in one place: whatever handler or hook said 403 to a POST, PUT, PATCH
  // or DELETE, the audit log has it with the reason the caller was given.
  app.addHook('onError', async (request, _reply, raised) => {
    // Domain errors become problems at the edge: judge the refusal by the status it is sent with.
    const error = raised instanceof DomainError ? problemOf(raised) : raised;
    if (!(error instanceof ProblemError) || error.status !== 403 || !MUTATIONS.has(request.method)) return;
    const route = request.routeOptions.url ?? '';
    if (AUDIT_OWN_REFUSALS.some((r) => r.test(route))) return;
    const params = (request.params ?? {}) as Record<string, unknown>;
    access.audit.record({
      actor: request.principal.name,
      action: 'api.refused',
      repository: typeof params.key === 'string' ? params.key : null,
      target: `${request.method} ${request.url.split('?')[0]?.slice(0, 300)}`,
      outcome: 'denied',
      address: request.ip,
      detail: {
        reason: error.detail,
        ...(request.principal.token ? { apiToken: request.principal.token.id } : {}),
      },
    });
  });
  // A browser's fetch answered 401 with `WWW-Authenticate: Basic` pops up the browser's own
  // login dialog over the web UI. Scripts of a page (Sec-Fetch-Site with Sec-Fetch-Dest: empty,
  // as browsers send on https and localhost; or X-Requested-With, which the UI sends) and
  // cookie sessions get the problem without the challenge.
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode !== 401 || !reply.hasHeader('WWW-Authenticate')) return;
    const h = request.headers;
    const fromScript =
      (h['sec-fetch-site'] !== undefined && h['sec-fetch-dest'] === 'empty') ||
      h['x-requested-with'] !== undefined;
    if (fromScript || h.cookie?.includes(`${SESSION_COOKIE}=`)) reply.removeHeader('WWW-Authenticate');
  });
}

/** 401 for anonymous callers, so clients know to send credentials. */
export function requireSignedIn(request: FastifyRequest): Principal {
  if (!request.principal.authenticated)
    throw unauthorized('sign in first (Basic credentials, an API token or a web UI session)');
  return request.principal;
}

/** Administrators only; an API token acting for one must not be narrowed to permission targets. */
export function requireAdmin(request: FastifyRequest, what: string): Principal {
  const p = requireSignedIn(request);
  if (!p.admin || p.token?.targets) throw forbidden(`only administrators may ${what}`);
  if (p.token?.actions && !p.token.actions.includes('manage')) {
    throw forbidden(`API token ${p.token.name} does not carry the manage action needed to ${what}`);
  }
  return p;
}

/** Throws 401 (anonymous) or 403 unless the caller may do `action` on the repository (and image). */
export function requireAction(
  request: FastifyRequest,
  access: ApiAccess,
  action: Action,
  repository: string,
  image?: string,
): void {
  if (access.identity.policy.allows(request.principal, action, repository, image)) return;
  const where = image === undefined ? `repository ${repository}` : `${repository}/${image}`;
  if (!request.principal.authenticated) throw unauthorized(`sign in to ${action} in ${where}`);
  throw forbidden(
    `user ${request.principal.name} may not ${action} in ${where}: no permission target grants it`,
  );
}

/** Records a management change by the caller. */
export function auditChange(
  request: FastifyRequest,
  access: ApiAccess,
  entry: Omit<AuditEntry, 'actor' | 'address'>,
): void {
  const p = request.principal;
  access.audit.record({
    ...entry,
    actor: p.name,
    address: request.ip,
    ...(p.token ? { detail: { ...entry.detail, apiToken: p.token.id } } : {}),
  });
}
