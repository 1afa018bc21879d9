/**
 * A management-API error, rendered as an RFC 9457 problem document
 * `{type, title, status, detail}` by api/problem-reply.ts. `detail` is written for a person:
 * it says what was wrong and what to do instead.
 *
 * The HTTP side only: domain services raise domain/errors.ts, which problem-reply.ts maps to a
 * status in one table. Handlers throw a ProblemError directly only for what is HTTP itself
 * (a response header that belongs to the problem, such as clearing the session cookie).
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
