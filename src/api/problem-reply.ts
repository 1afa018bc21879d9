import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../config/logger.ts';
import { ProblemError } from './problem.ts';

/** Renders every management-API error as `application/problem+json`; 500s never carry internals. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, log: Logger): void {
  let problem: ProblemError;
  if (error instanceof ProblemError) {
    problem = error;
  } else {
    const e = error as { statusCode?: number; message?: string; validation?: unknown };
    if (typeof e.statusCode === 'number' && e.statusCode < 500) {
      problem = new ProblemError(e.statusCode, 'Bad Request', e.message ?? 'bad request');
    } else {
      log.error({ err: error, method: request.method, url: request.url }, 'api request failed');
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
    });
}
