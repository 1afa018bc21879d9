import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { parseImageRef, parsePromotionRequest } from '../promote/promotion-request.ts';
import type { PromotionService } from '../promote/promotion-service.ts';
import { promoteWholeImage } from '../promote/whole-image-promotion.ts';
import { authenticateRequests } from './api-auth.ts';
import { type OperationSchema, openApiOperation, parseRequestPart } from './api-schema.ts';
import { PromotionResultSchema } from './promotions-api.ts';

const SEND =
  'send {"targetRepo": "docker-staging-local", "dockerRepository": "team/app", "tag": "1.4.2", "copy": true}';
const Messages = z.array(z.object({ level: z.string(), message: z.string() }));

/** The compat endpoint's schema: it validates the body here and documents the route in /api/v1/openapi.json. */
export const ARTIFACTORY_PROMOTE: OperationSchema = {
  summary: 'Promote as Artifactory does (copy defaults to false: a move; without tag, every tag)',
  tags: ['promotion'],
  // Loose: Artifactory clients send fields Gantry does not use.
  body: z.looseObject(
    {
      targetRepo: z.string({ error: SEND }),
      dockerRepository: z.string({ error: SEND }),
      tag: z.string({ error: 'tag must be a string' }).nullable().optional(),
      targetTag: z.string().nullable().optional(),
      targetDockerRepository: z.string().nullable().optional(),
      copy: z.boolean({ error: 'copy must be true or false' }).optional(),
    },
    { error: SEND },
  ),
  response: {
    200: z.union([
      z.object({ messages: Messages, promotions: z.array(PromotionResultSchema) }).describe('without tag'),
      PromotionResultSchema.extend({ messages: Messages }).describe('with tag'),
    ]),
  },
};

/** Its path item for the OpenAPI document. */
export function artifactoryPaths(): Record<string, Record<string, unknown>> {
  const repoKey = {
    name: 'repoKey',
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: 'source repository',
  };
  return { '/api/docker/{repoKey}/v2/promote': { post: openApiOperation(ARTIFACTORY_PROMOTE, [repoKey]) } };
}

/**
 * `POST /api/docker/<repoKey>/v2/promote` as Artifactory has it, for teams migrating their
 * pipelines: `{targetRepo, dockerRepository, tag, targetTag, targetDockerRepository, copy}`.
 * Like Artifactory, `copy` defaults to false (a move), and without `tag` the whole image moves:
 * every tagged digest with all its tags. Same gates, permissions and history as
 * `/api/v1/promotions`.
 */
export async function artifactoryCompatApi(
  app: FastifyInstance,
  deps: { access: ApiAccess; promotions: PromotionService; meta: MetadataStore },
): Promise<void> {
  const { access, promotions } = deps;
  authenticateRequests(app, access);
  app.post<{ Params: { repoKey: string } }>('/:repoKey/v2/promote', async (request) => {
    parseRequestPart(ARTIFACTORY_PROMOTE.body, request.body ?? {}, 'body');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { targetRepo, dockerRepository, tag, targetTag, targetDockerRepository, copy } = body;
    if (typeof targetRepo !== 'string' || typeof dockerRepository !== 'string') {
      throw badRequest(
        'send {"targetRepo": "docker-staging-local", "dockerRepository": "team/app", "tag": "1.4.2", "copy": true}',
      );
    }
    if (copy !== undefined && typeof copy !== 'boolean') throw badRequest('copy must be true or false');
    const targetImage =
      typeof targetDockerRepository === 'string' ? targetDockerRepository : dockerRepository;
    const mode = copy === true ? 'copy' : 'move';
    const comment = 'Artifactory-compatible promotion';
    const succeeded = [{ level: 'INFO', message: 'Promotion ended successfully' }];
    if (tag === undefined || tag === null) {
      if (targetTag !== undefined && targetTag !== null)
        throw badRequest('targetTag renames one tag: give tag too, or leave both out to promote every tag');
      // Checks the names' grammar as the single-tag path does, through the same parser.
      const source = parseImageRef(`${request.params.repoKey}/${dockerRepository}`, 'dockerRepository');
      const target = parseImageRef(`${targetRepo}/${targetImage}`, 'targetRepo');
      if (source.tag || source.digest || target.tag || target.digest)
        throw badRequest('dockerRepository and targetDockerRepository are image names; give the tag as tag');
      if (source.repository === target.repository && source.image === target.image)
        throw badRequest(
          'source and target are the same repository and image; promote into another repository',
        );
      const results = await promoteWholeImage(
        deps,
        request.principal,
        {
          source: { repository: source.repository, image: source.image },
          target: { repository: target.repository, image: target.image },
          mode,
          comment,
        },
        request.ip,
      );
      return { messages: succeeded, promotions: results };
    }
    if (typeof tag !== 'string') throw badRequest('tag must be a string');
    const result = await promotions.promote(
      request.principal,
      parsePromotionRequest({
        source: { repository: request.params.repoKey, image: dockerRepository, tag },
        target: { repository: targetRepo, image: targetImage },
        tags: [typeof targetTag === 'string' ? targetTag : tag],
        mode,
        comment,
      }),
      request.ip,
    );
    return { messages: succeeded, ...result };
  });
}
