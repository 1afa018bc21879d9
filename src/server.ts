import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import Fastify, { LogController } from 'fastify';
import { artifactoryCompatApi } from './api/artifactory-compat.ts';
import { managementApi } from './api/management-api.ts';
import { sendProblem } from './api/problem-reply.ts';
import { openAccess } from './auth/open-access.ts';
import { type Config, defaultUiDir } from './config/config.ts';
import type { Logger } from './config/logger.ts';
import { SqliteMetadataStore } from './meta/sqlite/sqlite-metadata-store.ts';
import { AddressPolicy } from './net/address-policy.ts';
import { OciError } from './oci/errors.ts';
import { ChecklistService } from './promote/checklist-service.ts';
import { ImageFacts } from './promote/image-facts.ts';
import { PromotionService } from './promote/promotion-service.ts';
import { TagService } from './promote/tag-service.ts';
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
  const pull = new PullThrough(meta, blobs, log, addresses);
  const addressing = new Addressing({ hosts: config.repositoryHosts, ports: config.repositoryPorts });
  const access = await openAccess(config, meta, repos, log, secrets);
  const facts = new ImageFacts(blobs);
  const tags = new TagService(meta, repos);
  const checklist = new ChecklistService(meta, repos, facts);
  const promotions = new PromotionService(
    meta,
    repos,
    access.api.identity,
    tags,
    checklist,
    access.api.audit,
  );
  const registry = {
    auth: access.registry,
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
    clientErrorHandler: rejectMalformedRequest,
  });
  await app.register(async (scope) => registryPlugin(scope, registry));
  await app.register(
    async (scope) => {
      scope.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, log));
      await managementApi(scope, {
        repos,
        access: access.api,
        tags,
        meta,
        promotions,
        checklist,
        facts,
        pipeline: config.pipeline,
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    async (scope) => {
      scope.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, log));
      await artifactoryCompatApi(scope, access.api, promotions);
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
  const extra = await listenOnMappedPorts(app.routing, addressing, config.host);
  for (const { port: p, repository } of addressing.extraPorts)
    log.info({ port: p, repository }, 'listening for one repository');
  return {
    url,
    async close() {
      janitor.stop();
      await access.registry.audit.flush();
      await Promise.all(extra.map((server) => new Promise((done) => server.close(done))));
      await app.close();
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
): Promise<Server[]> {
  const servers: Server[] = [];
  for (const { port } of addressing.extraPorts) {
    const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, routing);
    server.on('clientError', rejectMalformedRequest);
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => done());
    });
    servers.push(server);
  }
  return servers;
}

/**
 * Requests Node's HTTP parser refuses get an OCI error and a closed connection: a body that
 * ends before its Content-Length (SIZE_INVALID), both Transfer-Encoding and Content-Length or
 * other unparseable framing (REQUEST_INVALID).
 */
function rejectMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const oci =
    error.code === 'HPE_INVALID_EOF_STATE'
      ? new OciError('SIZE_INVALID', 'the request body ended before Content-Length bytes arrived')
      : new OciError(
          'REQUEST_INVALID',
          `malformed HTTP request: ${error.message} (${error.code ?? 'no code'})`,
        );
  const body = JSON.stringify(oci.toBody());
  socket.end(
    `HTTP/1.1 ${oci.status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
