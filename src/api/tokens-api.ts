import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { ApiTokenRecord } from '../meta/identity-records.ts';
import { auditChange, requireAdmin, requireSignedIn } from './api-auth.ts';
import { ActionName, field, Timestamp } from './api-schema.ts';

const TAGS = ['tokens'];

/** A token as the API shows it (`tokenView`). */
const Token = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  targets: z
    .array(z.string())
    .nullable()
    .describe('permission targets it is narrowed to; null: all of its owner'),
  actions: z.array(ActionName).nullable().describe('actions it is narrowed to; null: all of its owner'),
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
const TokenId = z.object({ id: z.string() });

/**
 * `/api/v1/tokens`: API tokens for CI and robot accounts. People see and revoke their own;
 * administrators anyone's. The value is in the reply to the POST and nowhere else, ever. A
 * token cannot mint further tokens: a leaked CI token must not be able to outlive its revocation.
 */
export async function tokensApi(app: FastifyInstance, access: ApiAccess): Promise<void> {
  const { apiTokens } = access;

  const listSchema = {
    summary: "List API tokens: your own, another user's (owner=) or everyone's (all=true, administrators)",
    tags: TAGS,
    querystring: z.object({
      owner: z.string().optional(),
      all: z.enum(['true', 'false'], { error: 'all must be true or false' }).optional(),
    }),
    response: { 200: z.object({ tokens: z.array(Token) }) },
  };
  app.get<{ Querystring: { owner?: string; all?: string } }>(
    '/tokens',
    { schema: listSchema },
    async (request) => {
      const p = requireSignedIn(request);
      const { owner, all } = request.query;
      if (all !== undefined && all !== 'true' && all !== 'false')
        throw badRequest('all must be true or false');
      if (all === 'true') {
        requireAdmin(request, "list everyone's API tokens");
        return { tokens: apiTokens.list().map(tokenView) };
      }
      if (owner !== undefined && owner !== p.name) requireAdmin(request, "list other users' API tokens");
      return { tokens: apiTokens.list(owner ?? p.name).map(tokenView) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/tokens/:id',
    {
      schema: {
        summary: 'Read an API token (never its value)',
        tags: TAGS,
        params: TokenId,
        response: { 200: Token },
      },
    },
    async (request) => tokenView(visibleToken(request)),
  );

  const createSchema = {
    summary: 'Create an API token; its value is in this reply and nowhere else',
    tags: TAGS,
    body: z.looseObject(
      {
        name: z
          .string({ error: 'name must be 1-128 characters that say what the token is for' })
          .describe('what the token is for'),
        owner: z.string({ error: 'owner must be a user name' }).optional().describe('administrators only'),
        targets: field.strings('targets').optional().describe('narrow it to these permission targets'),
        actions: z.array(z.string()).optional().describe('narrow it to these actions'),
        expiresInDays: z
          .number({ error: 'expiresInDays must be a whole number of days from 0 (never) to 3650' })
          .optional(),
      },
      {
        error: 'send a JSON object like {"name": "ci-main", "targets": ["development"], "expiresInDays": 90}',
      },
    ),
    response: { 201: Token.extend({ token: z.string().describe('the secret value, shown once') }) },
  };
  app.post('/tokens', { schema: createSchema }, async (request, reply) => {
    const p = requireSignedIn(request);
    if (p.token) {
      throw forbidden(
        `API tokens cannot create API tokens (this request used ${p.token.name}); sign in with a password`,
      );
    }
    const input = objectBody(
      request.body,
      '{"name": "ci-main", "targets": ["development"], "expiresInDays": 90}',
    );
    if (input.owner !== undefined && typeof input.owner !== 'string')
      throw badRequest('owner must be a user name');
    const owner = (input.owner as string | undefined) ?? p.name;
    if (owner !== p.name) requireAdmin(request, 'create API tokens for other users');
    const { owner: _ignored, ...body } = input;
    const { record, value } = await apiTokens.create(owner, body);
    auditChange(request, access, {
      action: 'token.issue',
      target: record.id,
      detail: { id: record.id, name: record.name, owner: record.owner },
    });
    reply.code(201).header('Location', `/api/v1/tokens/${record.id}`);
    return { token: value, ...tokenView(record) };
  });

  const revokeSchema = {
    summary: 'Revoke an API token',
    tags: TAGS,
    params: TokenId,
    response: { 200: Token },
  };
  app.delete<{ Params: { id: string } }>('/tokens/:id', { schema: revokeSchema }, async (request) => {
    const token = visibleToken(request);
    const revoked = await apiTokens.revoke(token.id);
    auditChange(request, access, {
      action: 'token.revoke',
      target: revoked.id,
      detail: { id: revoked.id, name: revoked.name, owner: revoked.owner },
    });
    return tokenView(revoked);
  });

  /** The token named in the path when the caller owns it or is an administrator; 404 otherwise. */
  function visibleToken(request: FastifyRequest<{ Params: { id: string } }>): ApiTokenRecord {
    const p = requireSignedIn(request);
    const token = apiTokens.get(request.params.id);
    const missing = notFound(`API token ${request.params.id} does not exist`);
    if (!token) throw missing;
    if (token.owner === p.name) return token;
    try {
      requireAdmin(request, "manage other users' API tokens");
    } catch {
      throw missing;
    }
    return token;
  }
}

/** A token as the API shows it: never the secret or its hash. */
function tokenView(t: ApiTokenRecord) {
  return {
    id: t.id,
    name: t.name,
    owner: t.owner,
    targets: t.targets,
    actions: t.actions,
    expiresAt: t.expiresAt,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}
