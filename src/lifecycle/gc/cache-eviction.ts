import type { Logger } from '../../config/logger.ts';
import type { GcLink } from '../../meta/gc-store.ts';
import type { MetadataStore } from '../../meta/metadata-store.ts';
import type { Digest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { checkRemoteSettings, type RemoteCachePolicy } from '../../repos/remote/remote-settings.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { PullTracker } from '../pull-tracker.ts';

/**
 * The cache policy of remote (pull-through) repositories, applied by a GC run before its link
 * phase. A cached manifest is evicted (deleted with its tags, cause `cache`) when it was not
 * pulled for `maxAgeDays` (its cached-at time when never pulled), then oldest-pulled first while
 * the repository's cache is over `maxBytes`. Nothing else is removed here: the blob links only
 * the evicted manifests named are handed to the collector, which removes them under its own
 * argument (re-check, tombstone). Until eviction the links are roots, as the
 * collector's link phase only collects local repositories' links.
 *
 * A transfer in progress (a manifest or blob the pull-through cache is fetching for an image) keeps
 * every manifest of that image: a client that just read the manifest is downloading its layers.
 * A transfer starting right after the check is still safe: its link is written after the run's
 * start, and the collector removes only links written before it.
 */
export interface CacheEvictionDeps {
  meta: MetadataStore;
  blobs: BlobStore;
  log: Logger;
  /** Pulls not flushed yet count as pulls. */
  pulls?: PullTracker;
  /** `repository \0 image` of every transfer in progress (PullThrough.transfersInProgress). */
  inFlight?: () => ReadonlySet<string>;
}

export interface Eviction {
  repository: string;
  image: string;
  digest: Digest;
  /** Bytes the manifest accounts for in its cache (its own and its blobs'); an estimate when shared. */
  size: number;
  reason: 'age' | 'size';
  /**
   * Blob links of the image that no manifest left in it names: the collector removes those written
   * before the run started (re-checked), after which the blob phase reclaims the bytes.
   */
  links: GcLink[];
}

interface Cached {
  image: string;
  digest: Digest;
  /** Epoch ms of the last pull, or of caching when never pulled. */
  used: number;
  size: number;
  blobs: { digest: Digest; size: number }[];
}

const DAY_MS = 86_400_000;
/** The actor of the tag events an eviction records. */
const ACTOR = 'cache-policy';

/** What the cache policies would evict now; `apply` deletes it (a dry run does not). */
export async function evictCaches(
  deps: CacheEvictionDeps,
  options: { now: Date; apply: boolean },
): Promise<Eviction[]> {
  const out: Eviction[] = [];
  for (const repo of await deps.meta.repositories.list()) {
    if (repo.kind !== 'remote') continue;
    const policy = checkRemoteSettings(repo.settings).settings.cache;
    if (!policy || (policy.maxAgeDays === undefined && policy.maxBytes === undefined)) continue;
    const chosen = await chooseEvictions(deps, repo.key, policy, options.now.getTime());
    for (const e of chosen) {
      if (options.apply && !(await evictOne(deps, e))) continue;
      out.push(e);
    }
  }
  if (options.apply && out.length > 0)
    deps.log.info({ evicted: out.length }, 'remote cache policy evicted manifests');
  return out;
}

/** Deletes one manifest; false when it is gone already or something still needs it (an index). */
async function evictOne(deps: CacheEvictionDeps, e: Eviction): Promise<boolean> {
  try {
    return (await deps.meta.manifests.delete(e.repository, e.image, e.digest, ACTOR, 'cache')) !== undefined;
  } catch (error) {
    deps.log.warn(
      { err: error, repository: e.repository, digest: e.digest },
      'cache eviction skipped a manifest',
    );
    return false;
  }
}

async function chooseEvictions(
  deps: CacheEvictionDeps,
  repository: string,
  policy: RemoteCachePolicy,
  now: number,
): Promise<Eviction[]> {
  const inventory = await deps.meta.lifecycle.inventory(repository, { laterStages: [], propertyKeys: [] });
  const pending = deps.pulls?.pendingFor(repository);
  const busy = deps.inFlight?.() ?? new Set<string>();
  const cached: Cached[] = [];
  for (const m of inventory.manifests) {
    const pulledAt = [m.lastPulledAt, pending?.get(m.digest)].filter((t): t is string => t !== undefined);
    const used = Math.max(Date.parse(m.createdAt), ...pulledAt.map((t) => Date.parse(t)));
    cached.push({
      image: m.image,
      digest: m.digest,
      used,
      ...(await footprint(deps.blobs, m.digest, m.mediaType)),
    });
  }
  // Oldest use first; the digest breaks ties so the order is stable between runs.
  cached.sort((a, b) => a.used - b.used || a.digest.localeCompare(b.digest));
  const evict = new Map<Cached, Eviction['reason']>();
  const evictable = (c: Cached) => !busy.has(`${repository}\0${c.image}`);
  if (policy.maxAgeDays !== undefined) {
    const before = now - policy.maxAgeDays * DAY_MS;
    for (const c of cached) if (c.used < before && evictable(c)) evict.set(c, 'age');
  }
  if (policy.maxBytes !== undefined) {
    // Unique bytes over what stays: a blob two manifests share is counted once.
    const holders = new Map<Digest, { size: number; count: number }>();
    for (const c of cached) {
      if (evict.has(c)) continue;
      for (const b of c.blobs) {
        const h = holders.get(b.digest) ?? { size: b.size, count: 0 };
        h.count++;
        holders.set(b.digest, h);
      }
    }
    let total = 0;
    for (const h of holders.values()) total += h.size;
    for (const c of cached) {
      if (total <= policy.maxBytes) break;
      if (evict.has(c) || !evictable(c)) continue;
      evict.set(c, 'size');
      for (const b of c.blobs) {
        const h = holders.get(b.digest);
        if (h && --h.count === 0) total -= h.size;
      }
    }
  }
  // A blob stays linked while a manifest kept in the same image names it.
  const keptInImage = new Set<string>();
  for (const c of cached)
    if (!evict.has(c)) for (const b of c.blobs) keptInImage.add(`${c.image}\0${b.digest}`);
  const freed = new Set<string>();
  const out: Eviction[] = [];
  for (const c of cached) {
    const reason = evict.get(c);
    if (!reason) continue;
    const links: GcLink[] = [];
    for (const b of c.blobs) {
      const key = `${c.image}\0${b.digest}`;
      if (keptInImage.has(key) || freed.has(key) || b.digest === c.digest) continue;
      freed.add(key);
      links.push({ repository, image: c.image, digest: b.digest, size: b.size });
    }
    out.push({ repository, image: c.image, digest: c.digest, size: c.size, reason, links });
  }
  return out;
}

/** The manifest's own bytes and the blobs it names (an index names its children manifests only). */
async function footprint(
  blobs: BlobStore,
  digest: Digest,
  mediaType: string,
): Promise<{ size: number; blobs: { digest: Digest; size: number }[] }> {
  let bytes: Buffer;
  try {
    bytes = await blobs.read(digest);
  } catch {
    // The file is gone (fsck's business): it still counts as a manifest to keep or evict.
    return { size: 0, blobs: [] };
  }
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(bytes, mediaType);
  } catch {
    return { size: bytes.length, blobs: [{ digest, size: bytes.length }] };
  }
  const named = [{ digest, size: bytes.length }];
  if (parsed.config) named.push({ digest: parsed.config.digest, size: parsed.config.size });
  for (const layer of parsed.layers) named.push({ digest: layer.digest, size: layer.size });
  return { size: named.reduce((sum, b) => sum + b.size, 0), blobs: named };
}
