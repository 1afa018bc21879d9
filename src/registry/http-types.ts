import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Authenticator } from '../auth/authenticator.ts';
import type { IdentityService } from '../auth/identity-service.ts';
import type { Principal } from '../auth/principal.ts';
import type { RegistryTokens } from '../auth/registry-tokens.ts';
import type { Logger } from '../config/logger.ts';
import type { AuditLog } from '../events/audit-log.ts';
import type { TagService } from '../promote/tag-service.ts';
import type { Addressing } from '../repos/addressing.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import type { RegistryAccessControl } from './access-control.ts';
import type { BlobService } from './blob-service.ts';
import type { ManifestService } from './manifest-service.ts';

/** What a registry handler sees of a request. `body` is the unread request stream. */
export interface RegistryRequest {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** Aborted when the client goes away; pass it to every port call. */
  signal: AbortSignal;
  /** The repository the request is addressed to by host or port, when it is. */
  scope?: string;
  /** Who is calling (anonymous until authenticated by the dispatcher). */
  principal: Principal;
  /** The client's address (after trusted proxies). */
  address: string;
}

/** What a handler answers. Status codes of errors never appear here: handlers throw OciError. */
export interface Reply {
  status: number;
  headers?: Record<string, string | number>;
  /** A Buffer or stream is sent as is; an object as JSON. */
  body?: Buffer | Readable | object;
}

/** Identity and access, as the registry uses them. */
export interface RegistryAuth {
  control: RegistryAccessControl;
  authenticator: Authenticator;
  tokens: RegistryTokens;
  identity: IdentityService;
  audit: AuditLog;
}

export interface RegistryContext {
  auth: RegistryAuth;
  repos: RepositoryService;
  addressing: Addressing;
  blobs: BlobService;
  manifests: ManifestService;
  /** Tag discipline: floating tags follow pushes of stable versions. */
  tags: TagService;
  log: Logger;
}

export type Handler = (req: RegistryRequest, ctx: RegistryContext) => Promise<Reply>;
