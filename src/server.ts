import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import Fastify, { LogController } from 'fastify';
import { artifactoryCompatApi } from './api/artifactory-compat.ts';
import { managementApi } from './api/management-api.ts';
import { sendProblem } from './api/problem-reply.ts';
import { type ApiAccess, openAccess } from './auth/open-access.ts';
import { type Config, defaultUiDir } from './config/config.ts';
import type { Logger } from './config/logger.ts';
import { type OwnerLookup, receives } from './events/webhook-audience.ts';
import { WebhookDispatcher } from './events/webhook-dispatcher.ts';
import { WebhookService } from './events/webhook-service.ts';
import { ConnectionGuard, originForm } from './http-connections.ts';
import { evictCaches } from './lifecycle/gc/cache-eviction.ts';
import { GarbageCollector } from './lifecycle/gc/collector.ts';
import { startSchedule } from './lifecycle/gc/schedule.ts';
import { PullTracker } from './lifecycle/pull-tracker.ts';
import { QuotaGuard } from './lifecycle/quota-guard.ts';
import { RetentionScheduler } from './lifecycle/retention-scheduler.ts';
import { RetentionService } from './lifecycle/retention-service.ts';
import type { OutboxEvent, WebhookSubscription } from './meta/event-records.ts';
import { SqliteMetadataStore } from './meta/sqlite/sqlite-metadata-store.ts';
import { AddressPolicy } from './net/address-policy.ts';
import { GuardedHttp } from './net/guarded-http.ts';
import { observeRequests } from './ops/http-observability.ts';
import { dbQueryLogger, Metrics } from './ops/metrics.ts';
import { listenForMetrics, opsRoutes } from './ops/ops-routes.ts';
import { requestIdOf } from './ops/request-id.ts';
import { ChecklistService } from './promote/checklist-service.ts';
import { ImageFacts } from './promote/image-facts.ts';
import { PromotionService } from './promote/promotion-service.ts';
import { TagService } from './promote/tag-service.ts';
import { RegistryAccessControl } from './registry/access-control.ts';
import { BlobService } from './registry/blob-service.ts';
import { ManifestCache } from './registry/manifest-cache.ts';
import { ManifestService } from './registry/manifest-service.ts';
import { registryPlugin } from './registry/registry-plugin.ts';
import { startUploadJanitor } from './registry/upload-janitor.ts';
import { Addressing } from './repos/addressing.ts';
import { PullThrough } from './repos/remote/pull-through.ts';
import { RepositoryService } from './repos/repository-service.ts';
import { securePrivateData } from './secrets/file-modes.ts';
import { loadSecretBox } from './secrets/secret-box.ts';
import { FsBlobStore } from './storage/fs/fs-blob-store.ts';
import { uiPlugin } from './ui/ui-plugin.ts';

/** How often pull times are written (PullTracker): one batch, never a write per pull. */
const PULL_FLUSH_MS = 5_000;

export interface RunningServer {
  url: string;
  /** Every route this server registered, as fastify saw it (the OpenAPI test checks each is documented). */
  routes: readonly ServedRoute[];
  close(): Promise<void>;
}

export interface ServedRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document on purpose (`schema.hide`): the docs page, a wildcard dispatch. */
  hidden: boolean;
}

/**
 * Composition root: wires the embedded default (SQLite + local disk under `config.data`) into
 * the registry and management APIs and starts listening.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  await securePrivateData(config.data, log);
  const secrets = await loadSecretBox({
    secretKey: config.secretKey,
    secretKeyFile: config.secretKeyFile,
    data: config.data,
    log,
  });
  const addresses = new AddressPolicy({ allow: config.upstreamAllow, deny: config.upstreamDeny });
  const metrics = new Metrics({ log });
  const blobs = await FsBlobStore.open({ root: join(config.data, 'storage') });
  const meta = await SqliteMetadataStore.open({
    file: join(config.data, 'gantry.db'),
    log: dbQueryLogger(metrics),
  });
  await meta.migrate();
  wireContentMetrics(metrics, meta);
  const repos = new RepositoryService(meta, {
    defaultRepository: config.defaultRepository,
    addresses,
    secrets,
  });
  await repos.init();
  const pull = new PullThrough(meta, blobs, log, addresses, {
    unreachableSeconds: config.upstreamUnreachableSeconds,
    metrics,
  });
  const addressing = new Addressing({ hosts: config.repositoryHosts, ports: config.repositoryPorts });
  const access = await openAccess(config, meta, log, secrets);
  const registryAuth = {
    control: new RegistryAccessControl(
      access.authenticator,
      () => access.identity.policy,
      repos,
      access.audit,
      {
        service: config.authService,
        publicUrl: config.publicUrl,
        trustProxy: config.trustProxy,
      },
    ),
    authenticator: access.authenticator,
    tokens: access.tokens,
    identity: access.identity,
    audit: access.audit,
  };
  const owners = webhookOwners(access);
  const webhookService = new WebhookService(meta, secrets, addresses, () => access.identity.policy);
  let dispatcher: WebhookDispatcher | undefined;
  const webhooks = {
    webhooks: webhookService,
    receives: (s: WebhookSubscription, e: OutboxEvent) => receives(s, e, owners),
    wake: () => dispatcher?.wake(),
  };
  const facts = new ImageFacts(blobs);
  const tags = new TagService(meta, repos);
  const checklist = new ChecklistService(meta, repos, facts);
  const promotions = new PromotionService(
    meta,
    repos,
    access.identity,
    tags,
    checklist,
    access.audit,
    metrics,
  );
  const pulls = new PullTracker(meta.lifecycle, log);
  pulls.start(PULL_FLUSH_MS);
  const quota = new QuotaGuard(meta.lifecycle);
  const retention = new RetentionService(meta, repos, access.audit, { pipeline: config.pipeline, pulls });
  const retentionSchedule = new RetentionScheduler(repos, retention, log);
  retentionSchedule.start();
  const registry = {
    auth: registryAuth,
    repos,
    addressing,
    blobs: new BlobService(meta, blobs, repos, pull, quota),
    manifests: new ManifestService(
      meta,
      blobs,
      new ManifestCache(config.manifestCacheBytes),
      repos,
      pull,
      facts,
      tags,
      quota,
      pulls,
    ),
    tags,
    log,
  };
  const gc = new GarbageCollector({
    meta: meta.gc,
    blobs,
    log,
    settings: { graceSeconds: config.gcGraceHours * 3600, deletesPerSecond: config.gcDeletesPerSecond },
    evictCaches: (options) =>
      evictCaches({ meta, blobs, log, pulls, inFlight: () => pull.transfersInProgress() }, options),
  });
  const guard = new ConnectionGuard({ bodyIdleTimeoutMs: config.bodyIdleTimeoutSeconds * 1000, log });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
    trustProxy: config.trustProxy,
    routerOptions: { maxParamLength: 4096 },
    clientErrorHandler: guard.rejectMalformedRequest,
    rewriteUrl: originForm,
    genReqId: (req) => requestIdOf(req.headers),
  });
  guard.watch(app.server);
  const routes: ServedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden });
  });
  // A change may have written events: let the dispatcher look, after the answer went out. The
  // count of requests in flight lets webhook delivery give way to them (bounded: a count that
  // drifts, say on an aborted request, delays deliveries by at most a quarter second per pass).
  let inFlight = 0;
  app.addHook('onRequest', (_request, _reply, done) => {
    inFlight++;
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    inFlight = Math.max(0, inFlight - 1);
    if (request.method !== 'GET' && request.method !== 'HEAD') webhooks.wake();
    done();
  });
  app.addHook('onRequestAbort', (_request, done) => {
    inFlight = Math.max(0, inFlight - 1);
    done();
  });
  observeRequests(app, { metrics });
  await app.register(async (scope) =>
    opsRoutes(scope, {
      metrics,
      meta,
      blobs,
      authenticator: access.authenticator,
      draining: () => guard.draining,
      metricsToken: config.metricsToken,
      log,
    }),
  );
  await app.register(async (scope) => registryPlugin(scope, registry));
  await app.register(
    async (scope) => {
      scope.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, log));
      await managementApi(scope, {
        repos,
        access,
        tags,
        meta,
        promotions,
        checklist,
        facts,
        pipeline: config.pipeline,
        retention,
        validateResponses: config.validateResponses,
        gc,
        blobs,
        webhooks,
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    async (scope) => {
      scope.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, log));
      await artifactoryCompatApi(scope, { access, promotions, meta });
    },
    { prefix: '/api/docker' },
  );
  await app.register(async (scope) => uiPlugin(scope, { dir: config.uiDir ?? defaultUiDir() }));
  const janitor = startUploadJanitor({ meta, blobs, ttlHours: config.uploadTtlHours, log, metrics });
  // A run a crash or restart interrupted continues where it stopped.
  await gc.resume();
  const schedule =
    config.gcSchedule === ''
      ? undefined
      : startSchedule({
          expression: config.gcSchedule,
          log,
          job: async () => {
            await gc.idle();
            await metrics.timeJob('gc', async () => {
              await gc.start({ dryRun: false, trigger: 'schedule', actor: 'schedule' });
              await gc.idle();
            });
          },
        });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info({ url, data: config.data }, 'listening');
  dispatcher = new WebhookDispatcher({
    meta,
    http: new GuardedHttp(addresses),
    secrets,
    owners,
    log,
    source: config.publicUrl ?? url,
    maxAgeSeconds: config.webhookMaxAgeSeconds,
    timeoutSeconds: config.webhookTimeoutSeconds,
    retrySeconds: config.webhookRetrySeconds,
    concurrency: config.webhookConcurrency,
    leaseMs: config.webhookLeaseSeconds * 1000,
    retentionMs: config.webhookRetentionDays * 86_400_000,
    busy: () => inFlight > 0,
    onAttempt: (result) => metrics.delivery(result),
  });
  metrics.readGauge('outbox_backlog', () => meta.webhooks.pendingCount());
  dispatcher.start();
  const extra = await listenOnMappedPorts(app.routing, addressing, config.host, guard);
  for (const { port: p, repository } of addressing.extraPorts)
    log.info({ port: p, repository }, 'listening for one repository');
  if (config.metricsPort !== undefined) {
    extra.push(await listenForMetrics({ metrics, host: config.host, port: config.metricsPort, log }));
    log.info({ port: config.metricsPort }, 'serving /metrics without credentials');
  }
  return {
    url,
    routes,
    async close() {
      janitor.stop();
      schedule?.stop();
      await guard.drain(config.shutdownDrainSeconds * 1000, async () => {
        await Promise.all([
          ...extra.map((server) => {
            const closed = new Promise((done) => server.close(done));
            server.closeIdleConnections();
            return closed;
          }),
          app.close(),
        ]);
      });
      retentionSchedule.stop();
      // Between two steps; the run stays recorded as running and resumes on the next start.
      await gc.stop();
      // After the last request: its audit entries and pulls are part of what must reach the database.
      await pulls.stop();
      await access.audit.flush();
      await dispatcher?.stop();
      await meta.close();
    },
  };
}

/**
 * The port method: one more HTTP server per mapped port, handing requests to the same router;
 * the registry tells them apart by the port a request arrived on.
 */
async function listenOnMappedPorts(
  routing: (req: IncomingMessage, res: ServerResponse) => void,
  addressing: Addressing,
  host: string,
  guard: ConnectionGuard,
): Promise<Server[]> {
  const servers: Server[] = [];
  for (const { port } of addressing.extraPorts) {
    const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, routing);
    server.on('clientError', guard.rejectMalformedRequest);
    guard.watch(server);
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => done());
    });
    servers.push(server);
  }
  return servers;
}

/** The gauges read from the metadata at scrape time: per-repository content and open uploads. */
function wireContentMetrics(metrics: Metrics, meta: SqliteMetadataStore): void {
  metrics.readGauge('uploads_in_progress', () => meta.uploads.count());
  metrics.readRepositories(async () => {
    const [stats, counts] = await Promise.all([meta.repositories.stats(), meta.repositories.contentCounts()]);
    return new Map(
      [...stats].map(([key, s]) => {
        const c = counts.get(key);
        return [
          key,
          { images: s.imageCount, manifests: c?.manifests ?? 0, blobs: c?.blobs ?? 0, bytes: s.sizeBytes },
        ];
      }),
    );
  });
}

/** A subscription's owner as a principal, while still the same enabled user (see receives()). */
function webhookOwners(access: ApiAccess): OwnerLookup {
  return {
    policy: () => access.identity.policy,
    principal: (s) => {
      const user = access.identity.userWithId(s.ownerName, s.ownerId);
      if (user === undefined || user.disabled) return undefined;
      return {
        name: user.name,
        id: user.id,
        authenticated: true,
        admin: user.admin,
        groups: access.identity.groupsOf(user.name),
        via: 'session',
      };
    },
  };
}
