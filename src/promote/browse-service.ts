import type { AccessPolicy } from '../auth/access-policy.ts';
import type { Principal } from '../auth/principal.ts';
import { notFound } from '../domain/errors.ts';
import type { ImageSummary, MetadataStore, TagEntry } from '../meta/metadata-store.ts';
import type { Properties } from '../meta/promotion-records.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import { IMAGE_CONFIG_MEDIA_TYPES } from '../oci/media-types.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { SECRET_NAME, secretKind } from './checklist.ts';
import { holderOf } from './holder.ts';
import type { ImageConfigView, ImageFacts } from './image-facts.ts';
import { policyOf } from './repository-policy.ts';
import { immutableRule, isFloating } from './tag-rules.ts';

export interface TagView {
  tag: string;
  digest: Digest;
  /**
   * The repository the tag is in: the member serving it when listed through a virtual
   * repository (its history and rollback live there, never on the virtual address).
   */
  repository: string;
  /** immutable: never moves (rule says which); floating: the server moves it; mutable: anyone with delete may. */
  kind: 'immutable' | 'floating' | 'mutable';
  rule?: string;
  updatedAt: string;
}

export interface ManifestView {
  digest: Digest;
  /** The repository that holds it (for a virtual repository: the first member that does). */
  repository: string;
  mediaType: string;
  size: number;
  /**
   * Set for an artifact that is not a runnable image (a signature, an SBOM): its artifactType,
   * else its config's media type when that is not an image config. Null for images and indexes.
   */
  artifactType: string | null;
  /** The manifest this one refers to (it is then a referrer, listed under that manifest). */
  subject: Digest | null;
  tags: string[];
  platforms: { platform: string; digest: Digest }[];
  layers: { digest: Digest; size: number; mediaType: string }[];
  config: ImageConfigView | null;
  annotations: Record<string, string>;
  referrers: { digest: Digest; artifactType: string | null; mediaType: string; size: number }[];
  properties: Properties;
  builds: { name: string; number: string; vcsUrl: string | null; revision: string | null }[];
}

/** What the web UI shows of secret-looking environment values. */
export const MASKED = '••••';

/**
 * Read-only views for browsing (the web UI): the images of a repository, the tags of an image
 * with their discipline, one manifest in detail. A virtual repository is the union of the local
 * and remote repositories behind it (repos.readTargets), as on /v2. Callers check that the
 * principal may read the repository; image lists are filtered to the images it may read.
 */
export class BrowseService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly facts: ImageFacts,
    private readonly policy: () => AccessPolicy,
  ) {}

  /** The local and remote repositories behind `repo`. */
  keysBehind(repo: RepositoryRecord): string[] {
    return this.repos.readTargets({ repository: repo, image: '' }).map((t) => t.repository.key);
  }

  /**
   * Images of the repositories `keys` that `readable` accepts, after `last`, at most `n`, and
   * whether more follow. Filtering happens after the query, so it reads on in batches until the
   * page is full.
   */
  async readableImages(
    keys: readonly string[],
    page: { n: number; last?: string },
    readable: (image: string) => boolean,
  ): Promise<{ images: ImageSummary[]; more: boolean }> {
    const out: ImageSummary[] = [];
    let last = page.last;
    const batch = Math.max(page.n + 1, 50);
    for (;;) {
      const rows = await this.meta.manifests.images(keys, {
        n: batch,
        ...(last === undefined ? {} : { last }),
      });
      for (const row of rows) {
        if (!readable(row.image)) continue;
        if (out.length === page.n) return { images: out, more: true };
        out.push(row);
      }
      if (rows.length < batch) return { images: out, more: false };
      last = (rows.at(-1) as ImageSummary).image;
    }
  }

  /** `filter`: only images whose name contains it, case-insensitively ('' for all). */
  async images(
    p: Principal,
    repo: RepositoryRecord,
    page: { n: number; last?: string },
    filter = '',
  ): Promise<{ images: ImageSummary[]; more: boolean }> {
    const wanted = filter.toLowerCase();
    const policy = this.policy();
    const whole = policy.allows(p, 'read', repo.key);
    // Through a virtual repository: an image counts when a member the caller may read it in is
    // behind it (a virtual repository is an address, never a grant).
    const behind = this.keysBehind(repo).filter(
      (k) => repo.kind !== 'virtual' || policy.readsSomethingIn(p, k),
    );
    const inMember = (image: string) =>
      repo.kind !== 'virtual' || behind.some((k) => policy.allows(p, 'read', k, image));
    return this.readableImages(
      behind,
      page,
      (image) =>
        image.toLowerCase().includes(wanted) &&
        (whole || policy.allows(p, 'read', repo.key, image)) &&
        inMember(image),
    );
  }

  /**
   * Every tag of the image, the first member's winning in a virtual repository (members the
   * caller cannot read skipped); 404 when the image holds nothing there.
   */
  async tags(p: Principal, repo: RepositoryRecord, image: string): Promise<TagView[]> {
    const seen = new Map<string, TagView>();
    let exists = false;
    const readable = this.policy().memberReader(p);
    for (const { repository } of this.repos.readTargets({ repository: repo, image }, readable)) {
      const entries = await this.meta.tags.entries(repository.key, image);
      if (!exists) exists = entries.length > 0 || (await this.meta.manifests.exists(repository.key, image));
      for (const entry of entries) if (!seen.has(entry.tag)) seen.set(entry.tag, tagView(repository, entry));
    }
    if (!exists) throw notFound(`${repo.key} holds no image ${image}`);
    return [...seen.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /** One manifest in detail, from the first repository behind `repo` that holds it. */
  async manifest(p: Principal, repo: RepositoryRecord, image: string, digest: Digest): Promise<ManifestView> {
    const readable = this.policy().memberReader(p);
    const held = await holderOf(this.meta, this.repos, { repository: repo, image, digest }, readable);
    if (!held) throw notFound(`${repo.key}/${image} does not hold ${digest}`);
    const { repository: holder, record } = held;
    const parsed = await this.facts.manifest(digest);
    const config = parsed.config ? await this.facts.configView(parsed) : null;
    const tags = (await this.tags(p, repo, image)).filter((t) => t.digest === digest).map((t) => t.tag);
    const referrers = await this.meta.manifests.referrers(holder.key, image, digest);
    const builds = await this.meta.builds.byDigest(digest);
    return {
      digest,
      repository: holder.key,
      mediaType: record.mediaType,
      size: record.size,
      artifactType:
        parsed.artifactType && !IMAGE_CONFIG_MEDIA_TYPES.includes(parsed.artifactType)
          ? parsed.artifactType
          : null,
      subject: parsed.subject?.digest ?? null,
      tags,
      platforms: parsed.manifests.map((m) => ({ platform: platformOf(m.platform), digest: m.digest })),
      layers: parsed.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      config: config && { ...config, env: maskSecrets(config.env) },
      annotations: parsed.annotations ?? {},
      referrers: referrers.map((r) => ({
        digest: r.digest,
        artifactType: r.artifactType ?? null,
        mediaType: r.mediaType,
        size: r.size,
      })),
      properties: await this.meta.properties.get(holder.key, image, digest),
      builds: builds.map((b) => ({
        name: b.name,
        number: b.number,
        vcsUrl: b.vcsUrl,
        revision: b.vcsRevision,
      })),
    };
  }
}

/** The kind of a tag under the rules of the repository holding it; remote repositories' tags are upstream's. */
export function tagView(repository: RepositoryRecord, entry: TagEntry): TagView {
  const base = {
    tag: entry.tag,
    digest: entry.digest,
    repository: repository.key,
    updatedAt: entry.updatedAt,
  };
  if (repository.kind !== 'local') return { ...base, kind: 'mutable' };
  const rules = policyOf(repository).tags;
  if (rules.floating && isFloating(entry.tag)) return { ...base, kind: 'floating' };
  const rule = immutableRule(rules, entry.tag);
  return rule === undefined ? { ...base, kind: 'mutable' } : { ...base, kind: 'immutable', rule };
}

/** `NAME=value` with the value masked when it looks like a secret, by name or by value (checklist.ts). */
export function maskSecrets(env: readonly string[]): string[] {
  return env.map((e) => {
    const eq = e.indexOf('=');
    if (eq < 0) return e;
    const name = e.slice(0, eq);
    // By name even when empty: whether a secret is set is not for every reader to learn.
    return SECRET_NAME.test(name) || secretKind(name, e.slice(eq + 1)) ? `${name}=${MASKED}` : e;
  });
}

function platformOf(platform: Record<string, unknown> | undefined): string {
  if (!platform) return 'unknown';
  const parts = [platform.os, platform.architecture, platform.variant].filter(
    (x): x is string => typeof x === 'string' && x !== '',
  );
  return parts.length > 0 ? parts.join('/') : 'unknown';
}
