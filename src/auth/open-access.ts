import type { Config } from '../config/config.ts';
import type { Logger } from '../config/logger.ts';
import { AuditLog } from '../events/audit-log.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { RegistryAccessControl } from '../registry/access-control.ts';
import type { RegistryAuth } from '../registry/http-types.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { ApiTokens } from './api-tokens.ts';
import { Authenticator } from './authenticator.ts';
import { IdentityService } from './identity-service.ts';
import { LoginLimiter } from './login-limiter.ts';
import { RegistryTokens } from './registry-tokens.ts';
import { Sessions } from './sessions.ts';
import { SigningKeys } from './signing-keys.ts';

/** What the management API needs of identity and access. */
export interface ApiAccess {
  identity: IdentityService;
  apiTokens: ApiTokens;
  authenticator: Authenticator;
  keys: SigningKeys;
  tokens: RegistryTokens;
  audit: AuditLog;
  /** Web UI sessions (the `gantry_session` cookie). */
  sessions: Sessions;
}

/** Loads identity and access (creating the administrator on a new instance) and wires its parts. */
export async function openAccess(
  config: Config,
  meta: MetadataStore,
  repos: RepositoryService,
  log: Logger,
  secrets: SecretBox,
): Promise<{ registry: RegistryAuth; api: ApiAccess }> {
  const identity = new IdentityService(meta, log);
  await identity.init({ adminPassword: config.adminPassword });
  const apiTokens = new ApiTokens(meta, identity);
  await apiTokens.init();
  const keys = await SigningKeys.open(meta.signingKeys, secrets);
  const tokens = new RegistryTokens(keys, {
    issuer: config.authService,
    service: config.authService,
    ttlSeconds: config.tokenTtlSeconds,
    refreshTtlSeconds: config.refreshTokenTtlHours * 3600,
  });
  const audit = new AuditLog(meta.audit, log);
  const limiter = new LoginLimiter({
    perUser: config.loginMaxFailures,
    perAddress: config.loginMaxFailuresPerAddress,
    windowSeconds: config.loginWindowSeconds,
  });
  const authenticator = new Authenticator(identity, apiTokens, tokens, limiter, audit);
  const control = new RegistryAccessControl(authenticator, () => identity.policy, repos, audit, {
    service: config.authService,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
  });
  return {
    registry: { control, authenticator, tokens, identity, audit },
    api: {
      identity,
      apiTokens,
      authenticator,
      keys,
      tokens,
      audit,
      sessions: new Sessions(identity, authenticator, tokens, meta.endedSessions),
    },
  };
}
