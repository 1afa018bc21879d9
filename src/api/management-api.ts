import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { authenticateRequests } from './api-auth.ts';
import { auditApi } from './audit-api.ts';
import { identityApi } from './identity-api.ts';
import { repositoriesApi } from './repositories-api.ts';
import { tokensApi } from './tokens-api.ts';

/** `/api/v1`: every management endpoint, behind authentication. */
export async function managementApi(
  app: FastifyInstance,
  deps: { repos: RepositoryService; access: ApiAccess },
): Promise<void> {
  authenticateRequests(app, deps.access);
  await repositoriesApi(app, deps.repos, deps.access);
  await identityApi(app, deps.access);
  await tokensApi(app, deps.access);
  await auditApi(app, deps.access);
}
