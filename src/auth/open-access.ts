import type { Config } from '../config/config.ts';
import type { Logger } from '../config/logger.ts';
import { AuditLog } from '../events/audit-log.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { ApiTokens } from './api-tokens.ts';
import { Authenticator } from './authenticator.ts';
import { IdentityService } from './identity-service.ts';
import { LoginLimiter } from './login-limiter.ts';
import { RegistryTokens } from './registry-tokens.ts';
import { Sessions } from './sessions.ts';
import { SigningKeys } from './signing-keys.ts';

/** Identity and access, wired; the management API uses it as is, the registry adds its control. */
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

/**
 * Loads identity and access (creating the administrator on a new instance) and wires its parts.
 * Knows nothing of the registry or the API: the composition root builds their access controls
 * from these parts. `secrets` opens the signing keys, which are stored encrypted.
 */
export async function openAccess(
  config: Config,
  meta: MetadataStore,
  log: Logger,
  secrets: SecretBox,
): Promise<ApiAccess> {
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
  // No transaction changes anything when a login is locked (the limiter is in memory), so the
  // event is written in one of its own.
  const onLocked = (lock: { user: string; address: string; by: 'user' | 'address' }) => {
    const data = { ...lock, windowSeconds: config.loginWindowSeconds };
    meta.outbox
      .append([{ type: 'io.gantry.login.locked', subject: `users/${lock.user}`, actor: lock.user, data }])
      .catch((error: unknown) => log.error({ err: error }, 'could not record a locked login'));
  };
  const limiter = new LoginLimiter(
    {
      perUser: config.loginMaxFailures,
      perAddress: config.loginMaxFailuresPerAddress,
      windowSeconds: config.loginWindowSeconds,
    },
    Date.now,
    onLocked,
  );
  const authenticator = new Authenticator(identity, apiTokens, tokens, limiter, audit);
  return {
    identity,
    apiTokens,
    authenticator,
    keys,
    tokens,
    audit,
    sessions: new Sessions(identity, authenticator, tokens, meta.endedSessions),
  };
}
