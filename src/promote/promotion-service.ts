import type { IdentityService } from '../auth/identity-service.ts';
import type { Principal } from '../auth/principal.ts';
import {
  badRequest,
  conflict,
  DomainError,
  ForbiddenError,
  forbidden,
  notFound,
  RefusedError,
  unauthorized,
} from '../domain/errors.ts';
import type { AuditLog } from '../events/audit-log.ts';
import type { Action } from '../meta/identity-records.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { GateResult, PromotionRecord } from '../meta/promotion-records.ts';
import { UnknownManifestError } from '../meta/promotion-store.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import type { ChecklistService } from './checklist-service.ts';
import { evaluateGates, type GateFacts } from './gates.ts';
import type { PromotionRequest } from './promotion-request.ts';
import { policyOf } from './repository-policy.ts';
import type { TagService } from './tag-service.ts';

export interface PromotionResult {
  promoted: boolean;
  dryRun: boolean;
  digest: Digest;
  source: { repository: string; image: string };
  target: { repository: string; image: string };
  mode: PromotionRecord['mode'];
  tags: { tag: string; previousDigest?: Digest }[];
  gates: GateResult[];
  /** Digests newly held by the target (the image, its children, its referrers). */
  copied: Digest[];
  /** Floating tags the server moved afterwards. */
  floating: { tag: string; digest: Digest }[];
}

/**
 * Promotion: a digest (with its children and referrers) enters another repository by metadata
 * alone, when the caller may and every gate of the target passes; recorded with who, what, when
 * and each gate's verdict. A refusal is recorded too, and raised as a RefusedError naming every failing gate.
 */
export class PromotionService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly identity: IdentityService,
    private readonly tags: TagService,
    private readonly checklist: ChecklistService,
    private readonly audit: AuditLog,
    /** Counts promotions by result (ops/metrics.ts); dry runs are questions and not counted. */
    private readonly metrics: Pick<Metrics, 'promotion'> = { promotion: () => {} },
  ) {}

  async promote(principal: Principal, request: PromotionRequest, address: string): Promise<PromotionResult> {
    try {
      const result = await this.#promote(principal, request, address);
      if (!request.dryRun) this.metrics.promotion('promoted');
      return result;
    } catch (error) {
      if (!request.dryRun) this.metrics.promotion(promotionResultOf(error));
      throw error;
    }
  }

  async #promote(principal: Principal, request: PromotionRequest, address: string): Promise<PromotionResult> {
    const { source, target } = request;
    const sourceRepo = this.repository(principal, source.repository, 'source');
    const targetRepo = this.repository(principal, target.repository, 'target');
    if (sourceRepo.kind === 'virtual')
      throw badRequest(`${source.repository} is virtual; promote from the repository that holds the image`);
    if (targetRepo.kind !== 'local')
      throw badRequest(`${target.repository} is ${targetRepo.kind}; promotions go into local repositories`);
    const refused = (reason: string) =>
      this.audit.record({
        actor: principal.name,
        action: 'promotion.refused',
        repository: target.repository,
        target: `${target.image}`,
        outcome: 'denied',
        address,
        detail: { from: `${source.repository}/${source.image}`, reason },
      });
    try {
      this.require(principal, 'read', source.repository, source.image);
      this.require(principal, 'promote', target.repository, target.image);
      if (request.mode === 'move') this.require(principal, 'delete', source.repository, source.image);
    } catch (error) {
      refused((error as Error).message);
      throw error;
    }
    const digest = await this.resolve(request);
    const targetName = { repository: targetRepo, image: target.image };
    const moving: MovedTag[] = [];
    for (const tag of request.tags) {
      const current = await this.meta.tags.resolve(target.repository, target.image, tag);
      await this.tags.checkMove(targetName, tag, digest, { current }).catch((error) => {
        refused((error as Error).message);
        return asConflict(error);
      });
      if (current !== undefined && current !== digest) moving.push({ tag, current });
    }

    const gates = await evaluateGates(policyOf(targetRepo).gates, this.gateFacts(principal, request, digest));
    const base = {
      digest,
      source: { repository: source.repository, image: source.image },
      target: { repository: target.repository, image: target.image },
      mode: request.mode,
      gates,
      dryRun: request.dryRun,
    };
    const record: Omit<PromotionRecord, 'id'> = {
      at: new Date().toISOString(),
      actor: principal.name,
      sourceRepository: source.repository,
      sourceImage: source.image,
      targetRepository: target.repository,
      targetImage: target.image,
      digest,
      tags: request.tags,
      mode: request.mode,
      comment: request.comment,
      gates,
      outcome: 'promoted',
    };
    const moveRefusal = this.tagMoveRefusal(principal, request, moving);
    if (moveRefusal) {
      // A dry run answers the same 403 (as for a missing promote right) but records nothing.
      if (!request.dryRun) {
        refused(moveRefusal.detail);
        await this.meta.promotions.recordRefusal({
          ...record,
          gates: [...gates, moveRefusal.result],
          outcome: 'refused',
        });
      }
      throw new ForbiddenError(moveRefusal.detail, {
        missing: 'delete',
        repository: target.repository,
        tags: moving,
      });
    }
    const failed = gates.filter((g) => !g.passed);
    if (request.dryRun) {
      return {
        ...base,
        promoted: failed.length === 0,
        tags: request.tags.map((tag) => ({ tag })),
        copied: [],
        floating: [],
      };
    }
    if (failed.length > 0) {
      await this.meta.promotions.recordRefusal({ ...record, outcome: 'refused' });
      this.audited(principal, address, 'promotion.refused', record, 'denied');
      throw new RefusedError(
        `promotion of ${source.image}@${digest} into ${target.repository} refused: ${failed.map((g) => g.reason).join('; ')}`,
        { gates, failed: failed.map((g) => g.gate) },
      );
    }
    const done = await this.meta.promotions
      .promote({
        source: base.source,
        target: base.target,
        digest,
        tags: request.tags,
        mode: request.mode,
        actor: principal.name,
        copyProperties: policyOf(targetRepo).copyProperties,
        record,
      })
      .catch((e) => {
        if (e instanceof UnknownManifestError)
          throw notFound(`${source.repository}/${source.image} does not hold ${digest} (any more)`);
        throw e;
      });
    const floating = await this.tags.updateFloating(target.repository, target.image, principal.name);
    // A move takes the version away from the source: its floating tags fall back to what remains.
    if (request.mode === 'move')
      await this.tags.updateFloating(source.repository, source.image, principal.name);
    this.audited(principal, address, 'promotion', record, 'success');
    return { ...base, promoted: true, tags: done.tags, copied: done.copied, floating };
  }

  /**
   * The verdict of every gate of the target for `digest` held by `source`, as a dry run gives it,
   * without asking whether the caller may promote and without recording anything: what the
   * pipeline view shows for each image waiting at a stage. The caller checks read access.
   */
  async gatesFor(
    principal: Principal,
    source: { repository: string; image: string },
    target: { repository: string; image: string },
    digest: Digest,
  ): Promise<GateResult[]> {
    const targetRepo = this.repos.get(target.repository);
    if (!targetRepo) throw notFound(`target repository ${target.repository} does not exist`);
    const request: PromotionRequest = {
      source: { ...source, digest },
      target,
      tags: [],
      mode: 'copy',
      comment: '',
      dryRun: true,
    };
    return evaluateGates(policyOf(targetRepo).gates, this.gateFacts(principal, request, digest));
  }

  private gateFacts(principal: Principal, request: PromotionRequest, digest: Digest): GateFacts {
    const { source, target } = request;
    return {
      digest,
      target: target.repository,
      promoter: principal.name,
      properties: () => this.meta.properties.get(source.repository, source.image, digest),
      approvals: () => this.meta.approvals.list(digest, target.repository),
      groupsOf: (user) => this.identity.groupsOf(user),
      reached: async () => {
        const now = await this.meta.promotions.locate(digest);
        const past = await this.meta.promotions.list({ digest, outcome: 'promoted', limit: 1000 });
        return new Set([...now.map((l) => l.repository), ...past.map((p) => p.targetRepository)]);
      },
      checklist: () =>
        this.checklist.evaluate({ repository: source.repository, image: source.image, digest }),
      builds: async () =>
        (await this.meta.builds.byDigest(digest)).map((b) => {
          const publisher = this.identity.userWithId(b.publishedBy, b.publishedById ?? undefined);
          return {
            label: `${b.name} #${b.number}`,
            publisher: b.publishedBy,
            publisherGroups: publisher ? this.identity.groupsOf(publisher.name) : [],
            token: b.publishedToken,
          };
        }),
    };
  }

  private async resolve(request: PromotionRequest): Promise<Digest> {
    const { repository, image, tag, digest } = request.source;
    if (digest) {
      if (!(await this.meta.manifests.get(repository, image, digest))) {
        throw notFound(`${repository}/${image} does not hold ${digest}`);
      }
      return digest;
    }
    const resolved = await this.meta.tags.resolve(repository, image, tag as string);
    if (!resolved) throw notFound(`${repository}/${image} has no tag ${tag}`);
    return resolved;
  }

  /**
   * The repository, when the caller may read something in it: one they cannot read gets the
   * answer of one that does not exist (not its kind, not a 403 that would confirm it is there).
   */
  private repository(p: Principal, key: string, role: string) {
    const repo = this.repos.get(key);
    if (repo && this.identity.policy.readsSomethingIn(p, key)) return repo;
    if (!p.authenticated) throw unauthorized(`sign in to promote from or into ${key}`);
    throw notFound(`${role} repository ${key} does not exist or you may not read it`);
  }

  /**
   * Re-pointing a tag that exists in the target at another digest is overwriting, as for a
   * push: it needs `delete` on the target besides `promote`. A tag already naming the digest is
   * not a move, and the floating tags the server moves afterwards (X.Y, X, latest) are the
   * server's, not the caller's; a floating tag the caller names in `tags` counts like any other.
   */
  private tagMoveRefusal(
    p: Principal,
    request: PromotionRequest,
    moving: readonly MovedTag[],
  ): { detail: string; result: GateResult } | undefined {
    const { repository, image } = request.target;
    if (moving.length === 0 || this.identity.policy.allows(p, 'delete', repository, image)) return undefined;
    const who = p.authenticated ? `user ${p.name}` : 'an anonymous caller';
    const tags = moving.map((m) => `${m.tag} (now ${m.current})`).join(', ');
    const detail = `${who} may not move the existing tag${moving.length > 1 ? 's' : ''} ${tags} of ${repository}/${image}: moving a tag needs delete on ${repository} besides promote, and delete is missing; promote under a new tag, or ask for delete there`;
    return {
      detail,
      result: { gate: 'moving existing tags needs delete', type: 'tag-move', passed: false, reason: detail },
    };
  }

  private require(p: Principal, action: Action, repository: string, image: string): void {
    if (this.identity.policy.allows(p, action, repository, image)) return;
    const where = `${repository}/${image}`;
    if (!p.authenticated) throw unauthorized(`sign in to ${action} in ${where}`);
    throw forbidden(`user ${p.name} may not ${action} in ${where}: no permission target grants it`);
  }

  private audited(
    p: Principal,
    address: string,
    action: string,
    r: Omit<PromotionRecord, 'id'>,
    outcome: 'success' | 'denied',
  ): void {
    this.audit.record({
      actor: p.name,
      action,
      repository: r.targetRepository,
      target: `${r.targetImage}@${r.digest}`,
      outcome,
      address,
      detail: {
        from: `${r.sourceRepository}/${r.sourceImage}`,
        tags: r.tags,
        mode: r.mode,
        ...(p.token ? { apiToken: p.token.id } : {}),
      },
    });
  }
}

/** A requested tag that exists in the target and points at another digest. */
interface MovedTag {
  tag: string;
  current: Digest;
}

/** An immutable tag in the way is a conflict of the promotion, not a refusal of the caller. */
function asConflict(error: unknown): never {
  if (error instanceof OciError) throw conflict(error.message);
  throw error;
}

/** A failed promotion's metrics result: a rule or gate said no, the caller may not, or else. */
function promotionResultOf(error: unknown): 'refused' | 'denied' | 'failed' {
  if (!(error instanceof DomainError)) return 'failed';
  if (error.kind === 'refused' || error.kind === 'conflict') return 'refused';
  if (error.kind === 'forbidden' || error.kind === 'unauthenticated') return 'denied';
  return 'failed';
}
