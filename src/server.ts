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
import type { OutboxEvent, WebhookSubscription } from './meta/event-records.ts';
import { SqliteMetadataStore } from './meta/sqlite/sqlite-metadata-store.ts';
import { AddressPolicy } from './net/address-policy.ts';
import { GuardedHttp } from './net/guarded-http.ts';
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

export interface RunningServer {
  url: string;
  close(): Promise<void>;
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
  const blobs = await FsBlobStore.open({ root: join(config.data, 'storage') });
  const meta = await SqliteMetadataStore.open({ file: join(config.data, 'gantry.db') });
  await meta.migrate();
  const repos = new RepositoryService(meta, {
    defaultRepository: config.defaultRepository,
    addresses,
    secrets,
  });
  await repos.init();
  const pull = new PullThrough(meta, blobs, log, addresses, {
    unreachableSeconds: config.upstreamUnreachableSeconds,
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
  const promotions = new PromotionService(meta, repos, access.identity, tags, checklist, access.audit);
  const registry = {
    auth: registryAuth,
    repos,
    addressing,
    blobs: new BlobService(meta, blobs, repos, pull),
    manifests: new ManifestService(
      meta,
      blobs,
      new ManifestCache(config.manifestCacheBytes),
      repos,
      pull,
      facts,
      tags,
    ),
    tags,
    log,
  };
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
  });
  guard.watch(app.server);
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
  // Readiness for load balancers and orchestrators: false once shutdown begins.
  app.get('/readyz', async (_request, reply) =>
    guard.draining
      ? reply.code(503).send({ ready: false, reason: 'shutting down' })
      : reply.send({ ready: true }),
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
  const janitor = startUploadJanitor({ meta, blobs, ttlHours: config.uploadTtlHours, log });
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
    busy: () => inFlight > 0,
  });
  dispatcher.start();
  const extra = await listenOnMappedPorts(app.routing, addressing, config.host, guard);
  for (const { port: p, repository } of addressing.extraPorts)
    log.info({ port: p, repository }, 'listening for one repository');
  return {
    url,
    async close() {
      janitor.stop();
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
      // After the last request: its audit entries are part of what must reach the database.
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
