import { badRequest, notFound } from '../domain/errors.ts';
import type { AuditLog } from '../events/audit-log.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import { policyOf } from '../promote/repository-policy.ts';
import { immutableRule, isFloating } from '../promote/tag-rules.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { checkRetention, type RetentionRule, retentionOf } from './lifecycle-settings.ts';
import type { PullTracker } from './pull-tracker.ts';
import { evaluateRetention, HOLD_PROPERTY, type RetentionItem } from './retention-engine.ts';

/** Digests a snapshot holds in a repository. Snapshots are another issue: the default holds none. */
export interface SnapshotHolds {
  heldIn(repository: string): Promise<ReadonlySet<Digest>>;
}

export const NO_SNAPSHOTS: SnapshotHolds = { heldIn: async () => new Set() };

export interface RetentionRun {
  repository: string;
  dryRun: boolean;
  items: RetentionItem[];
  /** What was actually removed (a dry run removes nothing). */
  removed: { tags: number; manifests: number };
  /** Removals skipped because the item changed between the decision and the removal. */
  skipped: number;
}

/**
 * Applies a local repository's retention rules (settings.retention, see lifecycle-settings.ts)
 * on demand and on its schedule. Removals go through the metadata store's ordinary delete paths
 * with tag-history cause `retention`, each one audited; blobs are left to garbage collection.
 *
 * Race with pushes: an evaluation reads a snapshot of the repository, so before each removal
 * the item is checked again (the tag still points at the decided digest; a manifest to remove
 * has gained no tag), and skipped otherwise. What remains is the window between that check and
 * the delete's own transaction: a push landing there can lose a just-written tag on an old
 * digest; the next run does not repeat it.
 */
export class RetentionService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly audit: AuditLog,
    private readonly options: {
      /** Repository keys in promotion order (config `pipeline`): later stages protect digests. */
      pipeline: readonly string[];
      pulls?: PullTracker;
      snapshots?: SnapshotHolds;
      now?: () => Date;
    },
  ) {}

  /**
   * Evaluates (and unless `dryRun`, applies) the repository's rules, or `rules` given for a
   * preview (dry runs only: the form's unsaved rules). 404 for an unknown repository, 400 for
   * one that is not local or has no rules.
   */
  async run(
    key: string,
    options: { dryRun: boolean; actor: string; rules?: unknown; address?: string | null },
  ): Promise<RetentionRun> {
    const repo = this.repos.get(key);
    if (!repo) throw notFound(`repository ${key} does not exist`);
    if (repo.kind !== 'local')
      throw badRequest(`${key} is a ${repo.kind} repository; retention works on local repositories`);
    const rules = this.rulesFor(repo, options);
    const items = await this.evaluate(repo, rules);
    const run: RetentionRun = {
      repository: key,
      dryRun: options.dryRun,
      items,
      removed: { tags: 0, manifests: 0 },
      skipped: 0,
    };
    if (!options.dryRun) await this.apply(repo, run, options);
    return run;
  }

  private rulesFor(
    repo: RepositoryRecord,
    options: { dryRun: boolean; rules?: unknown },
  ): readonly RetentionRule[] {
    if (options.rules !== undefined) {
      if (!options.dryRun)
        throw badRequest(
          'rules may be given only with dryRun: true (a preview); save them in the settings to apply them',
        );
      const problems = checkRetention({ rules: options.rules });
      if (problems.length > 0) throw badRequest(problems.join('; '), { problems });
      const preview = retentionOf({ ...repo, settings: { retention: { rules: options.rules } } });
      return preview?.rules ?? [];
    }
    const settings = retentionOf(repo);
    if (!settings)
      throw badRequest(
        `${repo.key} has no retention rules; set settings.retention, like {"rules": [{"keep": "last", "count": 10}]}`,
      );
    return settings.rules;
  }

  /** The decisions for the repository as it is now. */
  async evaluate(repo: RepositoryRecord, rules: readonly RetentionRule[]): Promise<RetentionItem[]> {
    const position = this.options.pipeline.indexOf(repo.key);
    const laterStages = position < 0 ? [] : this.options.pipeline.slice(position + 1);
    const inventory = await this.meta.lifecycle.inventory(repo.key, {
      laterStages,
      propertyKeys: [HOLD_PROPERTY],
    });
    const pending = this.options.pulls?.pendingFor(repo.key);
    if (pending && pending.size > 0)
      for (const m of inventory.manifests) {
        const at = pending.get(m.digest);
        if (at !== undefined && (m.lastPulledAt === undefined || m.lastPulledAt < at)) m.lastPulledAt = at;
      }
    const policy = policyOf(repo);
    return evaluateRetention({
      rules,
      inventory,
      now: this.options.now?.() ?? new Date(),
      immutableRule: (tag) => immutableRule(policy.tags, tag),
      floating: policy.tags.floating,
      isFloating,
      snapshotHeld: await (this.options.snapshots ?? NO_SNAPSHOTS).heldIn(repo.key),
    });
  }

  /**
   * Tags first, then manifests: referrers before the manifests they refer to, indexes before
   * their children, so no removal leaves a reference to a manifest already gone.
   */
  private async apply(
    repo: RepositoryRecord,
    run: RetentionRun,
    who: { actor: string; address?: string | null },
  ): Promise<void> {
    const key = repo.key;
    const record = (target: string, detail: Record<string, unknown>) =>
      this.audit.record({
        actor: who.actor,
        action: 'retention.remove',
        repository: key,
        target,
        address: who.address ?? null,
        detail,
      });
    for (const item of run.items) {
      if (item.action !== 'remove' || item.tag === undefined) continue;
      const now = await this.meta.tags.resolve(key, item.image, item.tag);
      if (
        now !== item.digest ||
        !(await this.meta.tags.delete(key, item.image, item.tag, who.actor, 'retention'))
      ) {
        run.skipped++;
        continue;
      }
      run.removed.tags++;
      record(`${item.image}:${item.tag}`, { digest: item.digest, rule: item.rule });
    }
    const manifests = run.items.filter((i) => i.action === 'remove' && i.tag === undefined);
    const rank = async (i: RetentionItem) => {
      const m = await this.meta.manifests.get(key, i.image, i.digest);
      return m?.subject ? 0 : m?.mediaType.includes('index') || m?.mediaType.includes('list') ? 1 : 2;
    };
    const ranked = await Promise.all(manifests.map(async (i) => ({ i, r: await rank(i) })));
    ranked.sort((a, b) => a.r - b.r);
    for (const { i: item } of ranked) {
      const tagged = (await this.meta.tags.entries(key, item.image)).some((t) => t.digest === item.digest);
      if (tagged) {
        run.skipped++;
        continue;
      }
      if (!(await this.meta.manifests.delete(key, item.image, item.digest, who.actor, 'retention'))) {
        run.skipped++;
        continue;
      }
      run.removed.manifests++;
      record(`${item.image}@${item.digest}`, { rule: item.rule });
    }
  }
}
