import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../auth/authenticator.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import type { AuditEntry } from '../events/audit-log.ts';
import type { Action } from '../meta/identity-records.ts';
import { forbidden, tooManyRequests, unauthorized } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by `authenticateRequests` before any handler. */
    principal: Principal;
  }
}

/**
 * Every management request is authenticated first (Basic with a password or an API token,
 * Bearer with an API token or a registry token); without credentials the caller is anonymous
 * and sees what anonymous may see. Wrong credentials are a 401, never silently anonymous.
 */
export function authenticateRequests(app: FastifyInstance, access: ApiAccess): void {
  // Fastify refuses object defaults on requests (they would be shared); each request sets its own.
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
    try {
      const principal = await access.authenticator.authenticate(request.headers.authorization, request.ip);
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
}

/** 401 for anonymous callers, so clients know to send credentials. */
export function requireSignedIn(request: FastifyRequest): Principal {
  if (!request.principal.authenticated)
    throw unauthorized('sign in first (Basic credentials or an API token)');
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
