import type { FastifyInstance } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import type { WebhookService } from '../events/webhook-service.ts';
import type { GarbageCollector } from '../lifecycle/gc/collector.ts';
import type { RetentionService } from '../lifecycle/retention-service.ts';
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
import type { BlobStore } from '../storage/blob-store.ts';
import { authenticateRequests } from './api-auth.ts';
import { apiDocs } from './api-schema.ts';
import { artifactoryPaths } from './artifactory-compat.ts';
import { auditApi } from './audit-api.ts';
import { browseApi, browseRoutes } from './browse-api.ts';
import { buildsApi } from './builds-api.ts';
import { gcApi } from './gc-api.ts';
import { identityApi } from './identity-api.ts';
import { type ImageRoute, imageRoutePaths, imageRoutes } from './image-routes.ts';
import { lifecycleApi } from './lifecycle-api.ts';
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
    retention: RetentionService;
    /** Check each response against its documented schema (config `validateResponses`). */
    validateResponses: boolean;
    gc: GarbageCollector;
    blobs: BlobStore;
    webhooks: {
      webhooks: WebhookService;
      receives: (s: WebhookSubscription, e: OutboxEvent) => boolean;
      wake: () => void;
    };
  },
): Promise<void> {
  // Filled below; the document is generated on first request, after every route is registered.
  let images: ImageRoute[] = [];
  await apiDocs(app, {
    validateResponses: deps.validateResponses,
    extraPaths: () => ({ ...imageRoutePaths(images), ...artifactoryPaths() }),
  });
  authenticateRequests(app, deps.access);
  await sessionApi(app, deps.access);
  await repositoriesApi(app, deps.repos, deps.access, () => deps.meta.repositories.stats());
  await identityApi(app, deps.access);
  await tokensApi(app, deps.access);
  await auditApi(app, deps.access);
  await lifecycleApi(app, {
    access: deps.access,
    repos: deps.repos,
    meta: deps.meta,
    retention: deps.retention,
  });
  await gcApi(app, { access: deps.access, gc: deps.gc, meta: deps.meta, blobs: deps.blobs });
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
  images = [
    ...tagRoutes(deps.access, deps.tags),
    ...propertyRoutes(deps.access, properties),
    ...manifestRoutes(deps.access, promotionDeps),
    ...browseRoutes(deps.access, browseDeps),
  ];
  imageRoutes(app, images, { validateResponses: deps.validateResponses });
}
