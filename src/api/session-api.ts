import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthenticationError } from '../auth/authenticator.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { SESSION_TTL_SECONDS, sessionCookieOf, sessionSetCookie } from '../auth/sessions.ts';
import { badRequest, tooManyRequests } from '../domain/errors.ts';
import { NoContent } from './api-schema.ts';
import { ProblemError } from './problem.ts';

const signIn = 'send {"user": "…", "password": "…"} to sign in';

/**
 * `/api/v1/session`: the web UI signs in with a password and gets an HttpOnly, SameSite=Strict
 * cookie (`gantry_session`, 12 hours) plus the CSRF token it must send in `X-CSRF-Token` with
 * every change; `DELETE` signs out (ends the session on the server and clears the cookie). `GET /api/v1/me` of a cookie session
 * also carries `csrfToken`, so a reloaded page recovers it.
 */
export async function sessionApi(app: FastifyInstance, access: ApiAccess): Promise<void> {
  const startSchema = {
    summary: 'Sign in (web UI): sets the session cookie and returns the CSRF token',
    tags: ['session'],
    body: z.looseObject(
      { user: z.string({ error: signIn }).min(1, signIn), password: z.string({ error: signIn }) },
      { error: signIn },
    ),
    response: {
      200: z.object({
        name: z.string(),
        admin: z.boolean(),
        groups: z.array(z.string()),
        csrfToken: z.string().describe('send it in X-CSRF-Token with every change'),
      }),
    },
  };
  app.post('/session', { schema: startSchema }, async (request, reply) => {
    const body = request.body as Record<string, unknown> | null | undefined;
    const user = body?.user;
    const password = body?.password;
    if (typeof user !== 'string' || user === '' || typeof password !== 'string') {
      throw badRequest(signIn);
    }
    let started: Awaited<ReturnType<typeof access.sessions.start>>;
    try {
      started = await access.sessions.start(user, password, request.ip);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.reason === 'limited') throw tooManyRequests(error.message, error.retryAfter);
      // No WWW-Authenticate: a challenge would make browsers show their own login dialog.
      throw new ProblemError(401, 'Unauthorized', error.message);
    }
    access.audit.record({
      actor: started.principal.name,
      action: 'session.start',
      target: started.principal.name,
      outcome: 'success',
      address: request.ip,
    });
    setCookie(request, reply, started.token, SESSION_TTL_SECONDS);
    const p = started.principal;
    return { name: p.name, admin: p.admin, groups: p.groups, csrfToken: started.csrf };
  });

  const endSchema = { summary: 'Sign out', tags: ['session'], response: { 204: NoContent } };
  app.delete('/session', { schema: endSchema }, async (request, reply) => {
    const cookie = sessionCookieOf(request.headers.cookie);
    const user = cookie === undefined ? undefined : await access.sessions.end(cookie);
    if (user !== undefined) {
      access.audit.record({
        actor: user,
        action: 'session.end',
        target: user,
        outcome: 'success',
        address: request.ip,
      });
    }
    setCookie(request, reply, '', 0);
    reply.code(204).send();
  });

  // GET /me (identity-api.ts) says who the caller is; for a cookie session, add its CSRF token.
  app.addHook('preSerialization', async (request, _reply, payload) => {
    if (
      request.session !== null &&
      request.method === 'GET' &&
      request.routeOptions.url === `${app.prefix}/me` &&
      typeof payload === 'object' &&
      payload !== null
    ) {
      return { ...payload, csrfToken: request.session.csrf };
    }
    return payload;
  });
}

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  reply.header('Set-Cookie', sessionSetCookie(value, maxAge, request.protocol === 'https'));
}
