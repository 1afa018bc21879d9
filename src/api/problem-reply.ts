import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../config/logger.ts';
import { DomainError, type DomainErrorKind, RateLimitedError } from '../domain/errors.ts';
import { ProblemError } from './problem.ts';

/**
 * The one table from domain error kinds to HTTP on /api. A refused gate is a 409 like any other
 * conflict with the target's state: the request was well formed and allowed, the state said no.
 */
export const PROBLEM_OF_KIND = {
  invalid: { status: 400, title: 'Bad Request' },
  'not-found': { status: 404, title: 'Not Found' },
  conflict: { status: 409, title: 'Conflict' },
  refused: { status: 409, title: 'Conflict' },
  forbidden: { status: 403, title: 'Forbidden' },
  unauthenticated: { status: 401, title: 'Unauthorized' },
  'rate-limited': { status: 429, title: 'Too Many Requests' },
  'too-large': { status: 413, title: 'Content Too Large' },
} as const satisfies Record<DomainErrorKind, { status: number; title: string }>;

/** The problem a domain error is on /api, with the headers that belong to it. */
export function problemOf(error: DomainError): ProblemError {
  const { status, title } = PROBLEM_OF_KIND[error.kind];
  const headers: Record<string, string> = {};
  // Only a request without credentials is invited to send Basic ones; a browser shows a dialog.
  if (error.kind === 'unauthenticated') headers['WWW-Authenticate'] = 'Basic realm="gantry", charset="UTF-8"';
  if (error instanceof RateLimitedError) headers['Retry-After'] = String(error.retryAfter);
  return new ProblemError(
    status,
    title,
    error.message,
    error.detail ? { ...error.detail } : undefined,
    headers,
  );
}

/** Renders every management-API error as `application/problem+json`; 500s never carry internals. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, log: Logger): void {
  let problem: ProblemError;
  if (error instanceof ProblemError) {
    problem = error;
  } else if (error instanceof DomainError) {
    problem = problemOf(error);
  } else {
    const e = error as { statusCode?: number; message?: string; validation?: unknown };
    if (typeof e.statusCode === 'number' && e.statusCode < 500) {
      problem = new ProblemError(e.statusCode, 'Bad Request', e.message ?? 'bad request');
    } else {
      (request.log ?? log).error(
        { err: error, method: request.method, url: request.url },
        'api request failed',
      );
      problem = new ProblemError(
        500,
        'Internal Server Error',
        'internal error; the server log has the details',
      );
    }
  }
  if (problem.headers) reply.headers(problem.headers);
  reply
    .code(problem.status)
    .header('Content-Type', 'application/problem+json')
    .send({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      ...problem.extra,
      // RFC 9457 extension member: what to quote to an operator, who finds it in the log lines.
      requestId: request.id,
    });
}
