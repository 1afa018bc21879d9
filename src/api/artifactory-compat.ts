import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { parsePromotionRequest } from '../promote/promotion-request.ts';
import type { PromotionService } from '../promote/promotion-service.ts';
import { authenticateRequests } from './api-auth.ts';

/**
 * `POST /api/docker/<repoKey>/v2/promote` as Artifactory has it, for teams migrating their
 * pipelines: `{targetRepo, dockerRepository, tag, targetTag, targetDockerRepository, copy}`.
 * Like Artifactory, `copy` defaults to false (a move). Same gates, permissions and history as
 * `/api/v1/promotions`.
 */
export async function artifactoryCompatApi(
  app: FastifyInstance,
  access: ApiAccess,
  promotions: PromotionService,
): Promise<void> {
  authenticateRequests(app, access);
  app.post<{ Params: { repoKey: string } }>('/:repoKey/v2/promote', async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { targetRepo, dockerRepository, tag, targetTag, targetDockerRepository, copy } = body;
    if (typeof targetRepo !== 'string' || typeof dockerRepository !== 'string') {
      throw badRequest(
        'send {"targetRepo": "docker-staging-local", "dockerRepository": "team/app", "tag": "1.4.2", "copy": true}',
      );
    }
    if (copy !== undefined && typeof copy !== 'boolean') throw badRequest('copy must be true or false');
    const sourceTag = typeof tag === 'string' ? tag : 'latest';
    const result = await promotions.promote(
      request.principal,
      parsePromotionRequest({
        source: { repository: request.params.repoKey, image: dockerRepository, tag: sourceTag },
        target: {
          repository: targetRepo,
          image: typeof targetDockerRepository === 'string' ? targetDockerRepository : dockerRepository,
        },
        tags: [typeof targetTag === 'string' ? targetTag : sourceTag],
        mode: copy === true ? 'copy' : 'move',
        comment: 'Artifactory-compatible promotion',
      }),
      request.ip,
    );
    return { messages: [{ level: 'INFO', message: 'Promotion ended successfully' }], ...result };
  });
}
