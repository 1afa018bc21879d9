import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROBLEM_OF_KIND, problemOf } from '../../src/api/problem-reply.ts';
import {
  ConflictError,
  type DomainError,
  type DomainErrorKind,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  RefusedError,
  TooLargeError,
  UnauthenticatedError,
} from '../../src/domain/errors.ts';
import { OCI_ERRORS } from '../../src/oci/errors.ts';
import { OCI_CODE_OF_KIND, toOciError } from '../../src/registry/wire-errors.ts';

const oneOfEach: DomainError[] = [
  new InvalidInputError('bad digest', { problems: ['digest'] }),
  new NotFoundError('no such repository'),
  new ConflictError('exists already'),
  new RefusedError('gate refused', { failed: ['approval'] }),
  new ForbiddenError('no permission'),
  new UnauthenticatedError('sign in'),
  new RateLimitedError('too many failed logins', 30),
  new TooLargeError('too large'),
];

describe('domain errors at the edges', () => {
  it('has one error class per kind, and both tables cover every kind', () => {
    const kinds = oneOfEach.map((e) => e.kind).sort();
    assert.deepEqual(kinds, Object.keys(PROBLEM_OF_KIND).sort());
    assert.deepEqual(kinds, Object.keys(OCI_CODE_OF_KIND).sort());
  });

  it('maps each kind to its problem+json status on /api', () => {
    const statuses = Object.fromEntries(oneOfEach.map((e) => [e.kind, problemOf(e).status]));
    assert.deepEqual(statuses, {
      invalid: 400,
      'not-found': 404,
      conflict: 409,
      refused: 409,
      forbidden: 403,
      unauthenticated: 401,
      'rate-limited': 429,
      'too-large': 413,
    } satisfies Record<DomainErrorKind, number>);
  });

  it('keeps message and detail, and adds the headers that belong to the kind', () => {
    const refused = problemOf(new RefusedError('gate refused', { failed: ['approval'] }));
    assert.equal(refused.detail, 'gate refused');
    assert.deepEqual(refused.extra, { failed: ['approval'] });
    assert.equal(
      problemOf(new UnauthenticatedError('sign in')).headers?.['WWW-Authenticate']?.startsWith('Basic'),
      true,
    );
    assert.equal(problemOf(new RateLimitedError('wait', 30)).headers?.['Retry-After'], '30');
    assert.deepEqual(problemOf(new RateLimitedError('wait', 30)).extra, { retryAfter: 30 });
    assert.deepEqual(problemOf(new NotFoundError('gone')).headers, {});
  });

  it('maps each kind to an OCI code on /v2, never to an internal error', () => {
    for (const error of oneOfEach) {
      const { error: wire, internal } = toOciError(error);
      assert.equal(internal, false, error.kind);
      assert.equal(wire.code, OCI_CODE_OF_KIND[error.kind]);
      assert.equal(wire.message, error.message);
      assert.ok(wire.code in OCI_ERRORS);
      assert.ok(wire.status < 500, `${error.kind} → ${wire.status}`);
    }
    assert.equal(toOciError(new ForbiddenError('no')).error.status, 403);
    assert.equal(toOciError(new UnauthenticatedError('sign in')).error.status, 401);
  });
});

it('the domain layers import nothing of HTTP: neither api/ nor registry/', async () => {
  const root = join(import.meta.dirname, '../../src');
  const offenders: string[] = [];
  for (const layer of ['domain', 'auth', 'promote', 'repos', 'meta', 'events']) {
    const files = await readdir(join(root, layer), { recursive: true });
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      const text = await readFile(join(root, layer, file), 'utf8');
      if (/from '(\.\.\/)+(api|registry)\//.test(text)) offenders.push(`${layer}/${file}`);
    }
  }
  assert.deepEqual(offenders, []);
});
