import type { AccessPolicy } from '../auth/access-policy.ts';
import { AuthenticationError, type Authenticator } from '../auth/authenticator.ts';
import type { Principal } from '../auth/principal.ts';
import type { AuditLog } from '../events/audit-log.ts';
import type { Action } from '../meta/identity-records.ts';
import { OciError } from '../oci/errors.ts';
import { checkName } from '../oci/names.ts';
import { writesOf } from '../promote/repository-policy.ts';
import type { MemberCheck, RepositoryService, ResolvedName } from '../repos/repository-service.ts';
import type { RegistryRequest } from './http-types.ts';

/** What a route needs before its handler runs. */
export type Need = 'none' | 'signed-in' | 'listing' | 'read' | 'deploy' | 'delete';

/** The registry-token action that stands for each permission action. */
const CLAIM: Partial<Record<Action, string>> = { read: 'pull', deploy: 'push', delete: 'delete' };

export interface ChallengeSettings {
  /** `service` of the challenge (and audience of registry tokens). */
  service: string;
  /** Base URL clients reach Gantry at; derived from each request's Host when absent. */
  publicUrl?: string | undefined;
  /** Believe X-Forwarded-Proto/Host (behind a proxy that sets them). */
  trustProxy: boolean;
}

/**
 * Authentication and authorisation of registry requests: who the caller is, and whether the
 * route's need is met on the repository the request touches (reads: the addressed repository,
 * a virtual one included; writes: where the write lands). A caller without credentials who is
 * refused gets 401 with a Bearer challenge naming the scope; a signed-in caller gets DENIED
 * saying which permission is missing. A registry token narrows the caller to its `access` claim.
 *
 * A virtual repository is an address, never a grant: reading through one needs read on it (the
 * address, checked here before the handler runs) and on the member that serves the content
 * (`memberReader`, asked by the services as they walk the members). Members the caller cannot
 * read are skipped as if absent, so what they hold is "unknown", not "denied".
 */
export class RegistryAccessControl {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly policyOf: () => AccessPolicy,
    private readonly repos: RepositoryService,
    private readonly audit: AuditLog,
    private readonly settings: ChallengeSettings,
  ) {}

  async authenticate(req: RegistryRequest): Promise<Principal> {
    try {
      return await this.authenticator.authenticate(req.headers.authorization, req.address);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.reason === 'limited') {
        throw new OciError('TOOMANYREQUESTS', error.message, undefined, {
          'Retry-After': String(error.retryAfter),
        });
      }
      throw this.unauthorized(req, error.message, undefined, 'invalid_token');
    }
  }

  /** Throws unless the principal of `req` meets `need` on the name the route addresses. */
  check(req: RegistryRequest, need: Need, resolve: () => ResolvedName): void {
    const p = req.principal;
    if (need === 'none') return;
    if (need === 'listing') {
      // The catalog lists only what the caller may read, so without credentials it would be
      // short; clients that send credentials only when challenged need the 401 to send them.
      if (p.via === 'none' && !this.readsEverything(p)) {
        throw this.unauthorized(req, 'sign in to list the names you may read', 'registry:catalog:*');
      }
      return;
    }
    if (need === 'signed-in') {
      // A registry token counts, an anonymous one too: clients ping /v2/ with what they got.
      if (p.via === 'none') throw this.unauthorized(req, 'sign in to use this registry');
      return;
    }
    const requested = resolve();
    const action: Action = need;
    const target = action === 'read' ? requested : this.repos.writeTarget(requested);
    if (!this.may(req, action, target, req.params.name ?? '')) throw this.refuse(req, action, target);
    // After the permission check, so a caller who may not write anyway learns nothing about the
    // setting (and one without credentials still gets the challenge to sign in).
    if (action === 'deploy' && writesOf(target.repository) === 'promotion-only')
      throw this.promotionOnly(req, target);
  }

  /**
   * Whether the caller may do `action` on `name`: its permissions allow it and, for a registry
   * token, the token's claim for `clientName` (the name as the client wrote it) includes
   * `claim` (by default the action's own registry action).
   */
  may(
    req: RegistryRequest,
    action: Action,
    name: ResolvedName,
    clientName: string,
    claim = CLAIM[action],
  ): boolean {
    const p = req.principal;
    if (!this.policyOf().allows(p, action, name.repository.key, name.image)) return false;
    if (p.access === undefined) return true;
    return p.access.some(
      (a) =>
        a.type === 'repository' &&
        a.name === clientName &&
        (a.actions.includes('*') || (claim !== undefined && a.actions.includes(claim))),
    );
  }

  /** Whether `p` may read every image of every repository (the catalog is then complete for it). */
  private readsEverything(p: Principal): boolean {
    const policy = this.policyOf();
    return this.repos.list().every((r) => policy.allows(p, 'read', r.key));
  }

  /**
   * Whether the caller may read a member of a virtual repository, with the image name, by its
   * permissions alone: an API token's targets and actions narrow them there as anywhere (so a
   * token for development reads nothing of production through `docker`). A registry token's
   * claim names what the client addressed (the virtual one), which `check` has already held it to.
   */
  memberReader(req: RegistryRequest): MemberCheck {
    return this.policyOf().memberReader(req.principal);
  }

  /** Whether the caller may read the stored name `repository/image` (catalog filtering). */
  mayList(req: RegistryRequest, repository: string, image: string): boolean {
    return this.policyOf().allows(req.principal, 'read', repository, image);
  }

  /** The challenge for `scope` (`repository:<name>:<actions>`), realm and service included. */
  challenge(req: RegistryRequest, scope?: string, error?: string): string {
    let header = `Bearer realm="${this.baseUrl(req)}/v2/token",service="${this.settings.service}"`;
    if (scope) header += `,scope="${scope}"`;
    if (error) header += `,error="${error}"`;
    return header;
  }

  private refuse(req: RegistryRequest, action: Action, target: ResolvedName): OciError {
    const p = req.principal;
    let scope = `repository:${req.params.name ?? ''}:${action === 'read' ? 'pull' : action === 'deploy' ? 'pull,push' : 'delete'}`;
    // A mount reads its source too: a token for the target alone makes the client upload in full.
    const from = req.method === 'POST' && req.query.has('mount') ? req.query.get('from') : null;
    if (action === 'deploy' && from && isValidName(from)) scope += ` repository:${from}:pull`;
    const where = `${target.repository.key}/${target.image}`;
    if (action !== 'read') {
      this.audit.record({
        actor: p.name,
        action: `${action}.denied`,
        repository: target.repository.key,
        target: target.image,
        outcome: 'denied',
        address: req.address,
        detail: { method: req.method },
      });
    }
    // Without credentials: 401 and a challenge. With an anonymous registry token, DENIED: clients
    // show its message ("an anonymous caller may not read …"), while after a 401 with
    // insufficient_scope docker and containerd print only a generic "access denied".
    if (!p.authenticated && p.access === undefined) {
      return this.unauthorized(req, `sign in to ${action === 'read' ? 'read' : 'write to'} ${where}`, scope);
    }
    if (p.access !== undefined && this.policyOf().allows(p, action, target.repository.key, target.image)) {
      return this.unauthorized(
        req,
        `the registry token does not cover ${scope}; request a token for it`,
        scope,
        'insufficient_scope',
      );
    }
    const who = p.authenticated
      ? `user ${p.name}${p.token ? ` (API token ${p.token.name})` : ''}`
      : 'an anonymous caller';
    const verb = { read: 'read', deploy: 'push to', delete: 'delete or move tags in' }[
      action as 'read' | 'deploy' | 'delete'
    ];
    return new OciError(
      'DENIED',
      `${who} may not ${verb ?? action} ${where}: no permission target grants ${action} there`,
      {
        repository: target.repository.key,
        image: target.image,
        action,
      },
    );
  }

  /**
   * A write into a promotion-only repository: refused for every caller, administrators too, and
   * whatever a grant implies (no action gives `deploy` there). Uploads, mounts and manifest PUTs
   * all need `deploy`, so this one place covers every way content could arrive by the registry.
   */
  private promotionOnly(req: RegistryRequest, target: ResolvedName): OciError {
    const key = target.repository.key;
    this.audit.record({
      actor: req.principal.name,
      action: 'deploy.denied',
      repository: key,
      target: target.image,
      outcome: 'denied',
      address: req.address,
      detail: { method: req.method, reason: 'writes: promotion-only' },
    });
    return new OciError(
      'DENIED',
      `${key} takes content only by promotion (setting writes: promotion-only), so pushes, uploads and mounts into it are refused for everyone; promote into it: gantry promote <repository>/${target.image}:<tag> --to ${key}`,
      { repository: key, image: target.image, writes: 'promotion-only' },
    );
  }

  private unauthorized(req: RegistryRequest, message: string, scope?: string, error?: string): OciError {
    return new OciError('UNAUTHORIZED', message, undefined, {
      'WWW-Authenticate': this.challenge(req, scope, error),
    });
  }

  private baseUrl(req: RegistryRequest): string {
    if (this.settings.publicUrl) return this.settings.publicUrl.replace(/\/+$/, '');
    const forwarded = (name: string) => {
      const v = req.headers[name];
      return this.settings.trustProxy && typeof v === 'string' ? v.split(',')[0]?.trim() : undefined;
    };
    const proto = forwarded('x-forwarded-proto') ?? 'http';
    const host = forwarded('x-forwarded-host') ?? req.headers.host ?? 'localhost';
    return `${proto}://${host}`;
  }
}

/** Only a name of the OCI grammar goes into a challenge header (no quotes, no spaces). */
function isValidName(name: string): boolean {
  try {
    checkName(name);
    return true;
  } catch {
    return false;
  }
}
