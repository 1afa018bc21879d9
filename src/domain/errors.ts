/**
 * Errors the domain services (repositories, identity, tags, promotion, properties, builds) raise,
 * by kind and without HTTP. Each edge maps the kind once: api/problem-reply.ts to a problem+json
 * status, registry/wire-errors.ts to an OCI code, the CLI and background jobs read `message`.
 *
 * `message` is written for a person: what was wrong and what to do instead. `detail` is
 * structured data a client may act on (gate results, the failing settings); the edges pass it on
 * as is, so it must never hold secrets or internals.
 */
export type DomainErrorKind =
  /** The input is malformed or breaks a rule of its own (a bad digest, unknown settings). */
  | 'invalid'
  /** The thing named does not exist (or the caller may not learn that it does). */
  | 'not-found'
  /** The request contradicts the current state (exists already, moved meanwhile, immutable). */
  | 'conflict'
  /** A gate or another precondition of the target refused the change; detail says which. */
  | 'refused'
  /** The caller is known but no permission grants the action. */
  | 'forbidden'
  /** Nobody is signed in, or the credentials are wrong. */
  | 'unauthenticated'
  /** Too many attempts; `retryAfter` seconds until the next one may succeed. */
  | 'rate-limited'
  /** The input is larger than the instance accepts. */
  | 'too-large';

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly detail?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export class InvalidInputError extends DomainError {
  override readonly name = 'InvalidInputError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('invalid', message, detail);
  }
}

export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('not-found', message, detail);
  }
}

export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('conflict', message, detail);
  }
}

/** A gate or precondition said no. Today's API answers it as 409, like other conflicts. */
export class RefusedError extends DomainError {
  override readonly name = 'RefusedError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('refused', message, detail);
  }
}

export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('forbidden', message, detail);
  }
}

export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('unauthenticated', message, detail);
  }
}

export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super('rate-limited', message, { retryAfter });
  }
}

export class TooLargeError extends DomainError {
  override readonly name = 'TooLargeError';
  constructor(message: string, detail?: Record<string, unknown>) {
    super('too-large', message, detail);
  }
}

// Short factories. The names are kept from the time these were HTTP problems, so the services'
// call sites did not change; each builds the domain error of one kind and nothing of HTTP.
export const badRequest = (message: string, detail?: Record<string, unknown>) =>
  new InvalidInputError(message, detail);
export const notFound = (message: string) => new NotFoundError(message);
export const conflict = (message: string) => new ConflictError(message);
export const forbidden = (message: string) => new ForbiddenError(message);
export const unauthorized = (message: string) => new UnauthenticatedError(message);
export const tooManyRequests = (message: string, retryAfter: number) =>
  new RateLimitedError(message, retryAfter);
