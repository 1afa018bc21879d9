import type { FastifyInstance, FastifyRequest } from 'fastify';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { ApiTokenRecord } from '../meta/identity-records.ts';
import { auditChange, requireAdmin, requireSignedIn } from './api-auth.ts';

/**
 * `/api/v1/tokens`: API tokens for CI and robot accounts. People see and revoke their own;
 * administrators anyone's. The value is in the reply to the POST and nowhere else, ever. A
 * token cannot mint further tokens: a leaked CI token must not be able to outlive its revocation.
 */
export async function tokensApi(app: FastifyInstance, access: ApiAccess): Promise<void> {
  const { apiTokens } = access;

  app.get<{ Querystring: { owner?: string; all?: string } }>('/tokens', async (request) => {
    const p = requireSignedIn(request);
    const { owner, all } = request.query;
    if (all !== undefined && all !== 'true' && all !== 'false') throw badRequest('all must be true or false');
    if (all === 'true') {
      requireAdmin(request, "list everyone's API tokens");
      return { tokens: apiTokens.list().map(tokenView) };
    }
    if (owner !== undefined && owner !== p.name) requireAdmin(request, "list other users' API tokens");
    return { tokens: apiTokens.list(owner ?? p.name).map(tokenView) };
  });

  app.get<{ Params: { id: string } }>('/tokens/:id', async (request) => tokenView(visibleToken(request)));

  app.post('/tokens', async (request, reply) => {
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

  app.delete<{ Params: { id: string } }>('/tokens/:id', async (request) => {
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
