import semver from 'semver';
import type { AccessPolicy } from '../auth/access-policy.ts';
import type { Principal } from '../auth/principal.ts';
import type { MetadataStore, TagEntry } from '../meta/metadata-store.ts';
import type { GateResult } from '../meta/promotion-records.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { membersOf } from '../repos/virtual-settings.ts';
import { approvalRefusal } from './approval-eligibility.ts';
import type { BrowseService } from './browse-service.ts';
import { describeGate } from './gates.ts';
import type { PromotionService } from './promotion-service.ts';
import { policyOf } from './repository-policy.ts';
import { isFloating } from './tag-rules.ts';

export interface PipelineView {
  stages: { repository: string; description: string; gates: string[] }[];
  others: { repository: string; kind: string; description: string; members?: string[] }[];
  images: PipelineImage[];
  more: boolean;
}

export interface PipelineImage {
  image: string;
  /** For each stage the caller may read: what the chosen tag resolves to there, or null. */
  stages: Record<string, { digest: Digest; tags: string[] } | null>;
  /**
   * For each stage the caller may read: the other tagged digests the stage holds for the image
   * (not the one in `stages`), most recently tagged first, at most OTHER_DIGESTS of them; and
   * how many more there are. Older builds still in a stage are what a release manager compares.
   */
  otherDigests: Record<
    string,
    { digests: { digest: Digest; tags: string[]; updatedAt: string }[]; more: number }
  >;
  /** Where a stage holds a digest the next stage does not: that promotion, evaluated as a dry run. */
  waiting: Waiting[];
}

/** A promotion waiting between two adjacent stages, evaluated for the caller as a dry run would. */
export interface Waiting {
  from: string;
  to: string;
  digest: Digest;
  gates: GateResult[];
  /** Whether the caller could promote it now. */
  promotable: boolean;
  /** When not promotable: why, as the caller should read it (a missing permission before failing gates). */
  unavailable?: string;
  /** Whether an approval by the caller would count for an approval gate of `to`. */
  mayApprove: boolean;
}

/**
 * The promotion pipeline as the web UI shows it: the stages (local repositories in order, from
 * the `pipeline` setting), each image's state at every stage for one tag, and the promotions
 * waiting between adjacent stages with each gate's verdict. Only what the caller may read.
 */
/** How many digests besides the followed tag's a pipeline cell lists. */
export const OTHER_DIGESTS = 3;

export class PipelineService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly browse: BrowseService,
    private readonly promotions: PromotionService,
    private readonly policy: () => AccessPolicy,
    private readonly configured: readonly string[],
  ) {}

  /** The configured keys that are local repositories; every local repository in key order when none is. */
  stages(): RepositoryRecord[] {
    const found = this.configured
      .map((key) => this.repos.get(key))
      .filter((r): r is RepositoryRecord => r?.kind === 'local');
    const unique = [...new Map(found.map((r) => [r.key, r])).values()];
    return unique.length > 0 ? unique : this.repos.list().filter((r) => r.kind === 'local');
  }

  /**
   * `image`: only images whose name contains it (case-insensitive), for the UI's filter box.
   * `stage`: only images that stage holds (any tag); the filter runs before paging, so a page is
   * never emptied by it. Undefined when `stage` is not a stage the caller may read (the caller
   * answers 400: an unknown and an unreadable stage look the same).
   */
  async view(
    p: Principal,
    options: { n: number; last?: string; tag: string; image?: string; stage?: string },
  ): Promise<PipelineView | undefined> {
    const policy = this.policy();
    const all = this.stages();
    const stageKeys = new Set(all.map((r) => r.key));
    const visible = all.filter((r) => policy.readsSomethingIn(p, r.key));
    const only = options.stage;
    if (only !== undefined && !visible.some((r) => r.key === only)) return undefined;
    const others = this.repos
      .list()
      .filter((r) => !stageKeys.has(r.key) && policy.readsSomethingIn(p, r.key))
      .map((r) => ({
        repository: r.key,
        kind: r.kind,
        description: r.description,
        ...(r.kind === 'virtual' ? { members: membersOf(r) } : {}),
      }));
    const reads = (key: string, image: string) => policy.allows(p, 'read', key, image);
    const page = await this.browse.readableImages(
      only === undefined ? visible.map((r) => r.key) : [only],
      { n: options.n, ...(options.last === undefined ? {} : { last: options.last }) },
      (image) =>
        (options.image === undefined || image.toLowerCase().includes(options.image.toLowerCase())) &&
        (only === undefined ? visible.some((r) => reads(r.key, image)) : reads(only, image)),
    );
    const images: PipelineImage[] = [];
    for (const { image } of page.images) {
      const stages: PipelineImage['stages'] = {};
      const otherDigests: PipelineImage['otherDigests'] = {};
      for (const stage of visible) {
        if (!reads(stage.key, image)) {
          stages[stage.key] = null;
          otherDigests[stage.key] = { digests: [], more: 0 };
          continue;
        }
        const entries = await this.meta.tags.entries(stage.key, image);
        const digest = chooseTag(entries, options.tag);
        stages[stage.key] =
          digest === undefined
            ? null
            : { digest, tags: entries.filter((e) => e.digest === digest).map((e) => e.tag) };
        otherDigests[stage.key] = othersThan(entries, digest);
      }
      const waiting: PipelineImage['waiting'] = [];
      for (let i = 0; i + 1 < all.length; i++) {
        const from = (all[i] as RepositoryRecord).key;
        const to = (all[i + 1] as RepositoryRecord).key;
        const here = stages[from];
        if (!here || !(to in stages) || !reads(to, image)) continue;
        if (await this.meta.manifests.get(to, image, here.digest)) continue;
        const gates = await this.promotions.gatesFor(
          p,
          { repository: from, image },
          { repository: to, image },
          here.digest,
        );
        const allowed = policy.allows(p, 'promote', to, image);
        const failing = gates.filter((g) => !g.passed).map((g) => g.gate);
        const unavailable = !allowed
          ? `${p.authenticated ? p.name : 'an anonymous visitor'} may not promote into ${to}`
          : failing.length > 0
            ? `waiting for ${failing.length === 1 ? 'this gate' : 'these gates'} to pass: ${failing.join('; ')}`
            : undefined;
        const target = all[i + 1] as RepositoryRecord;
        waiting.push({
          from,
          to,
          digest: here.digest,
          gates,
          promotable: unavailable === undefined,
          ...(unavailable === undefined ? {} : { unavailable }),
          mayApprove: p.authenticated && approvalRefusal(p, target, p.groups, policy) === undefined,
        });
      }
      images.push({ image, stages, otherDigests, waiting });
    }
    return {
      stages: visible.map((r) => ({
        repository: r.key,
        description: r.description,
        gates: policyOf(r).gates.map(describeGate),
      })),
      others,
      images,
      more: page.more,
    };
  }
}

/** The tagged digests of `entries` other than `chosen`, grouped, most recently tagged first. */
function othersThan(
  entries: readonly TagEntry[],
  chosen: Digest | undefined,
): PipelineImage['otherDigests'][string] {
  const byDigest = new Map<Digest, { digest: Digest; tags: string[]; updatedAt: string }>();
  for (const e of entries) {
    if (e.digest === chosen) continue;
    const seen = byDigest.get(e.digest);
    if (!seen) byDigest.set(e.digest, { digest: e.digest, tags: [e.tag], updatedAt: e.updatedAt });
    else {
      seen.tags.push(e.tag);
      if (e.updatedAt > seen.updatedAt) seen.updatedAt = e.updatedAt;
    }
  }
  // Ties (tags written in one transaction) fall back to the digest, so pages are stable.
  const sorted = [...byDigest.values()].sort((a, b) =>
    a.updatedAt === b.updatedAt ? a.digest.localeCompare(b.digest) : a.updatedAt < b.updatedAt ? 1 : -1,
  );
  return { digests: sorted.slice(0, OTHER_DIGESTS), more: Math.max(0, sorted.length - OTHER_DIGESTS) };
}

/**
 * The digest `tag` picks among an image's tags in one stage: `latest` or any exact tag as it
 * is; a release line (`1`, `1.4`, `v2`) the highest stable `X.Y.Z` of that line.
 */
export function chooseTag(entries: readonly TagEntry[], tag: string): Digest | undefined {
  if (tag === 'latest' || !isFloating(tag)) return entries.find((e) => e.tag === tag)?.digest;
  const prefix = tag.startsWith('v') ? 'v' : '';
  const line = tag.slice(prefix.length).split('.').map(Number);
  let best: { version: semver.SemVer; digest: Digest } | undefined;
  for (const e of entries) {
    if (!e.tag.startsWith(prefix) || (prefix === '' && e.tag.startsWith('v'))) continue;
    const version = semver.parse(e.tag.slice(prefix.length));
    if (!version || version.prerelease.length > 0 || version.build.length > 0) continue;
    if (version.major !== line[0] || (line.length > 1 && version.minor !== line[1])) continue;
    if (!best || semver.gt(version, best.version)) best = { version, digest: e.digest };
  }
  return best?.digest;
}
