import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import type { WebhookService } from '../events/webhook-service.ts';
import type { OutboxEvent, WebhookSubscription } from '../meta/event-records.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { BrowseService } from '../promote/browse-service.ts';
import { BuildsService } from '../promote/builds-service.ts';
import type { ChecklistService } from '../promote/checklist-service.ts';
import type { ImageFacts } from '../promote/image-facts.ts';
import { PipelineService } from '../promote/pipeline-service.ts';
import type { PromotionService } from '../promote/promotion-service.ts';
import { PropertiesService } from '../promote/properties-service.ts';
import { SearchService } from '../promote/search-service.ts';
import type { TagService } from '../promote/tag-service.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { authenticateRequests } from './api-auth.ts';
import { auditApi } from './audit-api.ts';
import { browseApi, browseRoutes } from './browse-api.ts';
import { buildsApi } from './builds-api.ts';
import { identityApi } from './identity-api.ts';
import { imageRoutes } from './image-routes.ts';
import { manifestRoutes, promotionsApi } from './promotions-api.ts';
import { propertyRoutes, searchApi } from './properties-api.ts';
import { repositoriesApi } from './repositories-api.ts';
import { sessionApi } from './session-api.ts';
import { tagRoutes } from './tags-api.ts';
import { tokensApi } from './tokens-api.ts';
import { webhooksApi } from './webhooks-api.ts';

/** `/api/v1`: every management endpoint, behind authentication. */
export async function managementApi(
  app: FastifyInstance,
  deps: {
    repos: RepositoryService;
    access: ApiAccess;
    tags: TagService;
    meta: MetadataStore;
    promotions: PromotionService;
    checklist: ChecklistService;
    facts: ImageFacts;
    /** Repository keys of the pipeline the web UI shows (config `pipeline`). */
    pipeline: readonly string[];
    webhooks: {
      webhooks: WebhookService;
      receives: (s: WebhookSubscription, e: OutboxEvent) => boolean;
      wake: () => void;
    };
  },
): Promise<void> {
  authenticateRequests(app, deps.access);
  await sessionApi(app, deps.access);
  await repositoriesApi(app, deps.repos, deps.access, () => deps.meta.repositories.stats());
  await identityApi(app, deps.access);
  await tokensApi(app, deps.access);
  await auditApi(app, deps.access);
  await webhooksApi(app, deps.access, deps.webhooks);
  const policy = () => deps.access.identity.policy;
  const properties = new PropertiesService(deps.meta, deps.repos);
  await searchApi(app, new SearchService(deps.meta, deps.repos, policy));
  await buildsApi(app, deps.access, new BuildsService(deps.meta, deps.repos, policy));
  const browse = new BrowseService(deps.meta, deps.repos, deps.facts, policy);
  const pipeline = new PipelineService(deps.meta, deps.repos, browse, deps.promotions, policy, deps.pipeline);
  const browseDeps = { repos: deps.repos, browse, pipeline };
  await browseApi(app, deps.access, browseDeps);
  // Everything under /repositories/:key/images/<image>/…: one wildcard route per method.
  const promotionDeps = {
    meta: deps.meta,
    repos: deps.repos,
    promotions: deps.promotions,
    checklist: deps.checklist,
  };
  await promotionsApi(app, deps.access, promotionDeps);
  imageRoutes(app, [
    ...tagRoutes(deps.access, deps.tags),
    ...propertyRoutes(deps.access, properties),
    ...manifestRoutes(deps.access, promotionDeps),
    ...browseRoutes(deps.access, browseDeps),
  ]);
}
