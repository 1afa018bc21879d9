import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PullTracker } from '../lifecycle/pull-tracker.ts';
import type { QuotaGuard } from '../lifecycle/quota-guard.ts';
import { BlobCollectedError } from '../meta/gc-store.ts';
import { type MetadataStore, MissingReferencesError } from '../meta/metadata-store.ts';
import { type ManifestRecord, manifestRecord, type Page, type RepositoryRecord } from '../meta/records.ts';
import { clip, type Digest, digestAlgorithm, digestOf, parseDigest } from '../oci/digest.ts';
import { bounded, OciError } from '../oci/errors.ts';
import { type ParsedManifest, parseManifest } from '../oci/manifest.ts';
import { MEDIA } from '../oci/media-types.ts';
import { isTag } from '../oci/names.ts';
import { ImageFacts } from '../promote/image-facts.ts';
import type { TagService } from '../promote/tag-service.ts';
import type { PullThrough } from '../repos/remote/pull-through.ts';
import type { MemberCheck, RepositoryService, ResolvedName } from '../repos/repository-service.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { fullName } from './blob-service.ts';
import type { ManifestCache } from './manifest-cache.ts';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

/** Attempts at a manifest row while garbage collection deletes the same manifest's bytes. */
const COLLECTED_RETRIES = 10;

/** A manifest reference from a URL: a tag or a digest. */
export type Reference = { tag: string } | { digest: Digest };

export function parseReference(value: string): Reference {
  if (value.includes(':')) return { digest: parseDigest(value) };
  if (!isTag(value)) {
    throw new OciError(
      'MANIFEST_INVALID',
      `reference "${clip(value)}" is neither a tag (up to 128 of [A-Za-z0-9_.-], not starting with . or -) nor a digest`,
    );
  }
  return { tag: value };
}

/**
 * The reference of a read (GET/HEAD): a tag that breaks the grammar cannot exist, so it is
 * 404 MANIFEST_UNKNOWN like any missing tag (the conformance suite reads
 * `.INVALID_MANIFEST_NAME` for its "nonexistent manifest" cases). Writes still refuse it (400).
 */
export function parseReadReference(value: string): Reference | undefined {
  if (!value.includes(':') && !isTag(value)) return undefined;
  return parseReference(value);
}

/**
 * Manifests, tags and referrers of OCI names. Manifest bytes are written to the BlobStore
 * (durable) before the metadata row that makes them visible: the row is the commit point.
 */
export class ManifestService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly cache: ManifestCache,
    private readonly repos: RepositoryService,
    private readonly pull: PullThrough,
    private readonly facts: ImageFacts,
    private readonly tagRules: TagService,
    /** Storage quotas: a repository over its limit takes no new manifest. */
    private readonly quota?: QuotaGuard,
    /** Notes who pulled what (manifest GETs), for retention. */
    private readonly pulls?: PullTracker,
  ) {}

  /**
   * The manifest as the first member `readable` accepts serves it (virtual repositories).
   * `pull`: the client downloads it (a GET, not a HEAD): noted for retention at the member that
   * served it, in memory (PullTracker), never a write on this path.
   */
  async get(
    name: ResolvedName,
    ref: Reference,
    readable: MemberCheck,
    options: { pull?: boolean } = {},
  ): Promise<StoredManifest> {
    const record = await this.find(name, ref, readable);
    if (options.pull) this.pulls?.record(record.repository, record.digest);
    const cached = this.cache.get(record.digest);
    if (cached) return { digest: record.digest, mediaType: record.mediaType, bytes: cached };
    const bytes = await this.blobs.read(record.digest);
    this.cache.set(record.digest, bytes);
    return { digest: record.digest, mediaType: record.mediaType, bytes };
  }

  async put(
    requested: ResolvedName,
    ref: Reference,
    input: {
      bytes: Buffer;
      contentType: string | undefined;
      actor: string;
      mayMoveTag: boolean;
      /**
       * Called once with the blobs the target lacks; true when it linked some of them (a push
       * through a virtual repository, BlobService.adoptFromMembers), and the write is tried again.
       */
      adopt?: (missing: Digest[]) => Promise<boolean>;
    },
  ): Promise<{ digest: Digest; subject?: Digest; previousDigest?: Digest }> {
    const name = this.repos.writeTarget(requested);
    const digest = digestOf(input.bytes, 'digest' in ref ? digestAlgorithm(ref.digest) : 'sha256');
    if ('digest' in ref && ref.digest !== digest) {
      throw new OciError('DIGEST_INVALID', `manifest hashes to ${digest}, not ${ref.digest} as the URL says`);
    }
    const parsed = parseManifest(input.bytes, input.contentType);
    if ('tag' in ref) await this.refuseTagMove(name, ref.tag, digest, input.mayMoveTag);
    await this.quota?.checkCommit(name.repository);
    await this.recordContentFacts(digest, parsed);
    const record = manifestRecord(
      { repository: name.repository.key, image: name.image },
      { digest, size: input.bytes.length, parsed },
    );
    let previousDigest: Digest | undefined;
    const write = () =>
      this.meta.manifests.put({
        record,
        references: parsed.references,
        ...('tag' in ref ? { tag: { name: ref.tag, actor: input.actor, cause: 'push' as const } } : {}),
      });
    const writeWithAdoption = async () => {
      try {
        return await write();
      } catch (e) {
        const blobs =
          e instanceof MissingReferencesError
            ? e.missing.filter((m) => m.kind === 'blob').map((m) => m.digest)
            : [];
        if (blobs.length === 0 || !input.adopt || !(await input.adopt(blobs))) throw e;
        return await write();
      }
    };
    try {
      // Bytes first, row last (the commit point). When garbage collection is deleting the very
      // same bytes (a manifest deleted earlier and pushed again), the row is refused until the
      // tombstone clears; the bytes are in memory, so they are written again and the row retried.
      for (let attempt = 1; ; attempt++) {
        await this.blobs.put(digest, Readable.from([input.bytes]), { size: input.bytes.length });
        try {
          ({ previousDigest } = await writeWithAdoption());
          // A run may have deleted these bytes between the put (which keeps a file already
          // there) and the row; now that the row names them no run can, so storing them again
          // is final.
          if ((await this.blobs.stat(digest)) === undefined)
            await this.blobs.put(digest, Readable.from([input.bytes]), { size: input.bytes.length });
          break;
        } catch (e) {
          if (!(e instanceof BlobCollectedError) || attempt >= COLLECTED_RETRIES) throw e;
          await sleep(50 * attempt);
        }
      }
    } catch (e) {
      if (e instanceof MissingReferencesError) {
        const { first, count, more } = bounded(e.missing);
        const listed = first.map((m) => m.digest).join(', ') + (more > 0 ? ` and ${more} more` : '');
        throw new OciError(
          'MANIFEST_BLOB_UNKNOWN',
          `${fullName(name)} does not hold ${count === 1 ? 'this' : `these ${count}`} referenced content: ${listed}; push ${count === 1 ? 'it' : 'them'} first`,
          { missing: first, count },
        );
      }
      throw e;
    }
    this.cache.set(digest, input.bytes);
    return {
      digest,
      ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
      ...(previousDigest ? { previousDigest } : {}),
    };
  }

  /**
   * Labels and annotations of the content, for search; before the manifest row (a crash leaves
   * harmless facts about unreferenced content). A config that is missing or unreadable yet
   * only costs the labels: the manifest row then reports what is missing.
   */
  private async recordContentFacts(digest: Digest, parsed: ParsedManifest): Promise<void> {
    const config = await this.facts.configOf(parsed).catch(() => undefined);
    const facts = ImageFacts.contentFacts(parsed, config);
    if (facts.length > 0) await this.meta.contentFacts.record(digest, facts);
  }

  /**
   * DENIED when the tag exists and points elsewhere and either it is immutable (whoever asks,
   * administrators included) or the caller may push new tags but not move existing ones
   * (`mayMoveTag`: the delete permission). Checked before the write; two pushes racing for a
   * new tag both count as new.
   */
  private async refuseTagMove(
    name: ResolvedName,
    tag: string,
    digest: Digest,
    mayMoveTag: boolean,
  ): Promise<void> {
    // One lookup serves both rules: immutability (everyone) and moving needs delete.
    const current = await this.meta.tags.resolve(name.repository.key, name.image, tag);
    await this.tagRules.checkMove(name, tag, digest, { current });
    if (mayMoveTag || current === undefined || current === digest) return;
    throw new OciError(
      'DENIED',
      `tag ${tag} of ${fullName(name)} exists (${current}); moving it to another image needs the delete permission`,
      { tag, current },
    );
  }

  /**
   * Deleting by tag removes only the tag and is refused for immutable tags; deleting by digest
   * removes the manifest with every tag on it, immutable ones included (withdrawing an image).
   */
  async delete(requested: ResolvedName, ref: Reference, actor: string): Promise<void> {
    const name = this.repos.writeTarget(requested);
    const repo = name.repository.key;
    if ('tag' in ref) {
      await this.tagRules.checkDelete(name, ref.tag);
      if (!(await this.meta.tags.delete(repo, name.image, ref.tag, actor))) throw unknownManifest(name, ref);
      return;
    }
    if (!(await this.meta.manifests.delete(repo, name.image, ref.digest, actor)))
      throw unknownManifest(name, ref);
  }

  /**
   * Tags of the name; for a virtual repository the sorted union over the members `readable`
   * accepts, paginated after the union. NAME_UNKNOWN when no such target holds or ever held
   * anything under the name, so a typo is not an empty list (and an unreadable member's image is
   * no different); a name whose last manifest was deleted lists no tags (a client that deletes
   * and then lists must not break).
   */
  async tags(name: ResolvedName, page: Page, readable: MemberCheck): Promise<string[]> {
    const targets = this.repos.readTargets(name, readable);
    let tags: string[];
    if (name.repository.kind === 'local') {
      tags = await this.meta.tags.list(name.repository.key, name.image, page);
    } else {
      const all = new Set<string>();
      for (const t of targets)
        for (const tag of await this.tagsOf(t, { skipFailures: targets.length > 1 })) all.add(tag);
      const after = [...all].sort(byteOrder).filter((tag) => page.last === undefined || tag > page.last);
      tags = page.n === undefined ? after : after.slice(0, page.n);
    }
    if (tags.length === 0 && page.last === undefined && !(await this.holdsAnything(targets))) {
      throw new OciError('NAME_UNKNOWN', `nothing has been pushed to ${fullName(name)}`);
    }
    return tags;
  }

  /** The referrers response: an OCI index of the manifests whose subject is `subject`, over every readable target. */
  async referrers(
    name: ResolvedName,
    subject: Digest,
    artifactType: string | undefined,
    readable: MemberCheck,
  ) {
    const found = new Map<Digest, ManifestRecord>();
    for (const t of this.repos.readTargets(name, readable)) {
      for (const m of await this.meta.manifests.referrers(t.repository.key, t.image, subject)) {
        if (!found.has(m.digest)) found.set(m.digest, m);
      }
    }
    const manifests = [...found.values()]
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      }));
    return { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
  }

  async catalog(page: Page): Promise<string[]> {
    return this.meta.manifests.catalog(page);
  }

  /**
   * Image names inside one repository (over its members when virtual), for host/port-addressed
   * requests. Through a virtual repository an image counts only when a member that holds it is
   * one `readable` accepts, as a pull of it would find it.
   */
  async catalogWithin(repository: RepositoryRecord, page: Page, readable: MemberCheck): Promise<string[]> {
    const names = new Set<string>();
    const virtual = repository.kind === 'virtual';
    for (const t of this.repos.readTargets({ repository, image: '' })) {
      const prefix = `${t.repository.key}/`;
      for (const name of await this.meta.manifests.catalog({}, t.repository.key)) {
        const image = name.slice(prefix.length);
        if (!virtual || readable({ repository: t.repository, image })) names.add(image);
      }
    }
    const after = [...names].sort(byteOrder).filter((n) => page.last === undefined || n > page.last);
    return page.n === undefined ? after : after.slice(0, page.n);
  }

  /**
   * The manifest from the first readable target that has the tag or digest (shadowing order). An
   * unreachable remote does not hide a later member. Asked directly, a remote's error is the
   * answer; through a virtual repository an unreachable member only makes the manifest unknown
   * (404, the detail names the member): clients retry a 5xx for minutes, a 404 not at all.
   */
  private async find(name: ResolvedName, ref: Reference, readable: MemberCheck): Promise<ManifestRecord> {
    let failure: unknown;
    let unavailable: unknown;
    const unreachable: { repository: string; reason: string }[] = [];
    for (const target of this.repos.readTargets(name, readable)) {
      try {
        const record =
          target.repository.kind === 'remote'
            ? await this.pull.manifest(target, ref)
            : await this.findLocal(target, ref);
        if (record) return record;
      } catch (error) {
        if (target.repository.kind === 'remote' && error instanceof OciError && error.status >= 500) {
          unavailable ??= error;
          unreachable.push({ repository: target.repository.key, reason: error.message });
        } else failure ??= error;
      }
    }
    if (failure) throw failure;
    if (unavailable && name.repository.kind !== 'virtual') throw unavailable;
    throw unknownManifest(name, ref, unreachable);
  }

  private async findLocal(target: ResolvedName, ref: Reference): Promise<ManifestRecord | undefined> {
    const repo = target.repository.key;
    const digest = 'digest' in ref ? ref.digest : await this.meta.tags.resolve(repo, target.image, ref.tag);
    return digest ? this.meta.manifests.get(repo, target.image, digest) : undefined;
  }

  /** A remote member that cannot be asked adds nothing to a union of several members. */
  private async tagsOf(target: ResolvedName, options: { skipFailures: boolean }): Promise<string[]> {
    if (target.repository.kind !== 'remote')
      return this.meta.tags.list(target.repository.key, target.image, {});
    try {
      return (await this.pull.tags(target)) ?? [];
    } catch (error) {
      if (options.skipFailures) return [];
      throw error;
    }
  }

  private async holdsAnything(targets: ResolvedName[]): Promise<boolean> {
    for (const t of targets) {
      const holds =
        t.repository.kind === 'remote'
          ? (await this.pull.tags(t).catch(() => undefined)) !== undefined
          : (await this.meta.manifests.exists(t.repository.key, t.image)) ||
            (await this.meta.blobs.linksAny(t.repository.key, t.image));
      if (holds) return true;
    }
    return false;
  }
}

/** Code-unit order, which equals byte order for the ASCII of tags: the order of the tags list. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unknownManifest(
  name: ResolvedName,
  ref: Reference,
  unreachable: { repository: string; reason: string }[] = [],
): OciError {
  const what = 'tag' in ref ? `tag ${ref.tag}` : `manifest ${ref.digest}`;
  if (unreachable.length === 0)
    return new OciError('MANIFEST_UNKNOWN', `${what} is not in ${fullName(name)}`);
  const members = unreachable.map((u) => u.repository).join(', ');
  return new OciError(
    'MANIFEST_UNKNOWN',
    `${what} is not in ${fullName(name)} as far as its reachable members know; ${members} cannot reach ${unreachable.length === 1 ? 'its upstream' : 'their upstreams'} right now`,
    { unreachable },
  );
}
