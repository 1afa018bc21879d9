/**
 * A management-API error, rendered as an RFC 9457 problem document
 * `{type, title, status, detail}` by api/problem-reply.ts. `detail` is written for a person:
 * it says what was wrong and what to do instead.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra?: Record<string, unknown>,
    /** Response headers that belong to the problem (WWW-Authenticate, Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(400, 'Bad Request', detail, extra);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail);
export const unauthorized = (detail: string) =>
  new ProblemError(401, 'Unauthorized', detail, undefined, {
    'WWW-Authenticate': 'Basic realm="gantry", charset="UTF-8"',
  });
export const forbidden = (detail: string) => new ProblemError(403, 'Forbidden', detail);
export const tooManyRequests = (detail: string, retryAfter: number) =>
  new ProblemError(429, 'Too Many Requests', detail, { retryAfter }, { 'Retry-After': String(retryAfter) });
