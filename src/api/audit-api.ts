import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { objectBody, optionalBoolean } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import type { AuditOutcome, AuditQuery } from '../meta/identity-records.ts';
import { auditChange, requireAdmin } from './api-auth.ts';
import { field, Timestamp } from './api-schema.ts';

const AuditEvent = z.object({
  id: z.number().optional(),
  at: Timestamp,
  actor: z.string(),
  action: z.string(),
  repository: z.string().nullable(),
  target: z.string(),
  outcome: z.enum(['success', 'denied', 'failure']),
  address: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
const SigningKey = z.object({
  kid: z.string(),
  createdAt: Timestamp,
  retiredAt: Timestamp.nullable(),
  jwk: z.looseObject({ kty: z.string() }).describe('the public key'),
});

const OUTCOMES: readonly AuditOutcome[] = ['success', 'denied', 'failure'];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

type AuditParams = Partial<
  Record<'actor' | 'repository' | 'action' | 'outcome' | 'since' | 'until' | 'limit' | 'before', string>
>;

/**
 * `/api/v1/audit` (the audit log, newest first, paged with `before`) and `/api/v1/auth/keys`
 * (the keys that sign registry tokens). Administrators only.
 */
export async function auditApi(app: FastifyInstance, access: ApiAccess): Promise<void> {
  const auditSchema = {
    summary: 'The audit log, newest first, paged with before (administrators)',
    tags: ['audit'],
    querystring: z.object({
      actor: z.string().optional(),
      repository: z.string().optional(),
      action: z.string().optional(),
      outcome: z.string().optional().describe(OUTCOMES.join(', ')),
      since: z.string().optional().describe('ISO 8601 time'),
      until: z.string().optional().describe('ISO 8601 time'),
      limit: z.string().optional().describe(`1 to ${MAX_LIMIT}, default ${DEFAULT_LIMIT}`),
      before: z.string().optional().describe('an event id: the page after it'),
    }),
    response: {
      200: z.object({ events: z.array(AuditEvent), next: z.string().optional().describe('the next page') }),
    },
  };
  app.get<{ Querystring: AuditParams }>('/audit', { schema: auditSchema }, async (request) => {
    requireAdmin(request, 'read the audit log');
    const params = request.query;
    const query = auditQuery(params);
    const events = await access.audit.query(query);
    const last = events[events.length - 1];
    if (events.length < query.limit || last?.id === undefined) return { events };
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (key !== 'before' && typeof value === 'string') next.set(key, value);
    }
    next.set('before', String(last.id));
    return { events, next: `/api/v1/audit?${next}` };
  });

  const keysSchema = {
    summary: 'The keys that sign registry tokens (administrators)',
    tags: ['audit'],
    response: { 200: z.object({ keys: z.array(SigningKey) }) },
  };
  app.get('/auth/keys', { schema: keysSchema }, async (request) => {
    requireAdmin(request, 'list signing keys');
    return { keys: access.keys.list() };
  });

  const rotateSchema = {
    summary: 'Start signing with a new key; dropRetired also drops the retired ones (administrators)',
    tags: ['audit'],
    body: z
      .looseObject(
        { dropRetired: field.boolean('dropRetired').optional() },
        { error: 'send a JSON object like {"dropRetired": true}' },
      )
      .nullable()
      .optional(),
    response: { 200: z.object({ kid: z.string(), dropped: z.array(z.string()).optional() }) },
  };
  app.post('/auth/keys/rotate', { schema: rotateSchema }, async (request) => {
    requireAdmin(request, 'rotate signing keys');
    const input =
      request.body === undefined || request.body === null
        ? {}
        : objectBody(request.body, '{"dropRetired": true}');
    const dropRetired = optionalBoolean(input, 'dropRetired') ?? false;
    const kid = await access.keys.rotate();
    let dropped: string[] = [];
    if (dropRetired) {
      dropped = await access.keys.dropRetired();
      access.tokens.forget();
    }
    auditChange(request, access, { action: 'key.rotate', target: kid, detail: { dropped } });
    return { kid, ...(dropRetired ? { dropped } : {}) };
  });
}

function auditQuery(params: AuditParams): AuditQuery {
  const query: AuditQuery = { limit: wholeNumber(params.limit, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT };
  if (params.actor) query.actor = params.actor;
  if (params.repository) query.repository = params.repository;
  if (params.action) query.action = params.action;
  if (params.outcome) {
    if (!(OUTCOMES as readonly string[]).includes(params.outcome)) {
      throw badRequest(`outcome must be one of ${OUTCOMES.join(', ')}`);
    }
    query.outcome = params.outcome as AuditOutcome;
  }
  const since = timestamp(params.since, 'since');
  if (since) query.since = since;
  const until = timestamp(params.until, 'until');
  if (until) query.until = until;
  const before = wholeNumber(params.before, 'before', 1, Number.MAX_SAFE_INTEGER);
  if (before !== undefined) query.beforeId = before;
  return query;
}

function wholeNumber(value: string | undefined, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw badRequest(`${field} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** An ISO 8601 time (a date alone means its midnight UTC), normalised the way events store theirs. */
function timestamp(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (!ISO_TIME.test(value) || Number.isNaN(ms)) {
    throw badRequest(
      `${field} must be an ISO 8601 time like 2024-05-01T12:00:00Z, not ${JSON.stringify(value)}`,
    );
  }
  return new Date(ms).toISOString();
}
