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
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(400, 'Bad Request', detail, extra);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail);
