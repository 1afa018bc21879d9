import type { Digest } from '../oci/digest.ts';

export type GcRunState = 'running' | 'finished' | 'failed';
export type GcPhase = 'tombstones' | 'manifests' | 'links' | 'blobs' | 'done';

/** What a dry run would remove. */
export interface GcItem {
  kind: 'manifest' | 'link' | 'blob';
  digest: Digest;
  size: number;
  /** `repository/image` for a link. */
  name?: string;
}

export interface GcRunRecord {
  id: string;
  state: GcRunState;
  dryRun: boolean;
  graceSeconds: number;
  trigger: 'manual' | 'schedule';
  startedBy: string;
  startedAt: string;
  finishedAt: string | null;
  phase: GcPhase;
  cursor: string | null;
  linksRemoved: number;
  blobsRemoved: number;
  manifestsRemoved: number;
  bytesFreed: number;
  errors: string[];
  /** Dry runs only. */
  items?: GcItem[];
}

/** Progress a run records after each batch; counts are totals since the run started. */
export type GcProgress = Partial<
  Pick<
    GcRunRecord,
    | 'phase'
    | 'cursor'
    | 'linksRemoved'
    | 'blobsRemoved'
    | 'manifestsRemoved'
    | 'bytesFreed'
    | 'errors'
    | 'items'
  >
>;

/** A manifest held by a name, the unit the manifest phase removes. */
export interface GcManifest {
  repository: string;
  image: string;
  digest: Digest;
}

/** A blob link (a name holding a blob), the unit the link phase removes. */
export interface GcLink {
  repository: string;
  image: string;
  digest: Digest;
  size: number;
}

/**
 * The metadata side of garbage collection. Every method is one transaction. The checks that make
 * collection safe under concurrent pushes live here, in the transactions that delete; the
 * argument is written in src/lifecycle/gc/collector.ts.
 */
export interface GcMeta {
  createRun(
    run: Omit<
      GcRunRecord,
      'finishedAt' | 'cursor' | 'linksRemoved' | 'blobsRemoved' | 'manifestsRemoved' | 'bytesFreed' | 'errors'
    >,
  ): Promise<void>;
  updateRun(id: string, progress: GcProgress & { state?: GcRunState; finishedAt?: string }): Promise<void>;
  getRun(id: string): Promise<GcRunRecord | undefined>;
  /** Newest first, without the dry-run items. */
  listRuns(limit: number): Promise<GcRunRecord[]>;
  /** Runs still marked running (a crash or restart interrupted them), oldest first. */
  unfinishedRuns(): Promise<GcRunRecord[]>;

  /**
   * Takes or renews the named lease for `holder` until `until`; false when another holder's
   * lease has not expired. The singleton guard across processes and nodes.
   */
  acquireLease(name: string, holder: string, until: Date): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;

  /**
   * Links after `after` (in (repository, image, digest) order) that no manifest of their name
   * references, created before `before`, in repositories of the given kinds; at most `limit`.
   */
  unreferencedLinks(options: {
    after: GcLink | undefined;
    before: Date;
    kinds: readonly string[];
    limit: number;
  }): Promise<GcLink[]>;
  /** Removes the link when it is still unreferenced and older than `before`; false otherwise. */
  removeLink(link: GcLink, before: Date): Promise<boolean>;
  /** removeLink for many links in one transaction (one commit); returns how many went. */
  removeLinks(links: readonly GcLink[], before: Date): Promise<number>;

  /**
   * Manifests of local repositories whose settings say `gc.untaggedManifests`, created before
   * `before`, that nothing reaches: no tag, no index of the name (transitively from a tagged
   * one), and no subject that is itself reached (a referrer lives as long as its subject).
   */
  unreachableManifests(before: Date): Promise<GcManifest[]>;
  /**
   * Deletes the manifest when, re-checked in the same transaction, no tag points at it, no
   * manifest of its name references it, and its subject (if any) is not held by the name.
   */
  removeManifest(manifest: GcManifest, before: Date): Promise<boolean>;

  /** Of `digests`, those some row still needs: a link, a manifest row, a manifest reference, a tombstone. */
  referenced(digests: readonly Digest[]): Promise<Set<Digest>>;
  /**
   * Records the blob's deletion when no row references it: after this commits no link or
   * manifest row for the digest can be written until clearTombstone. False when referenced.
   */
  tombstone(digest: Digest, size: number, runId: string): Promise<boolean>;
  /** tombstone() for many blobs in one transaction; returns the digests tombstoned. */
  tombstoneMany(blobs: readonly { digest: Digest; size: number }[], runId: string): Promise<Digest[]>;
  clearTombstones(digests: readonly Digest[]): Promise<void>;
  /** referenced() without blob links (dry runs subtract the links they would remove). */
  referencedWithoutLinks(digests: readonly Digest[]): Promise<Set<Digest>>;
  /** How many links each of `digests` has; absent when none. */
  linkCounts(digests: readonly Digest[]): Promise<Map<Digest, number>>;
  clearTombstone(digest: Digest): Promise<void>;
  tombstones(): Promise<{ digest: Digest; size: number; runId: string }[]>;

  /** For fsck: distinct digests that links or manifest rows name, after `after`, in order; at most `limit`. */
  rowDigests(after: string | undefined, limit: number): Promise<Digest[]>;
  /**
   * For fsck --repair: removes every link of a digest whose bytes are gone; returns how many.
   * With `createdBefore`, only links older than that (a check running beside pushes keeps a link
   * written after it began: its bytes were stored before it).
   */
  dropLinks(digest: Digest, options?: { createdBefore?: string }): Promise<number>;
}

/**
 * A link or manifest row was written for a blob whose deletion is committed (a tombstone):
 * the bytes are going, so the write is refused and the client must upload them again.
 */
export class BlobCollectedError extends Error {
  override readonly name = 'BlobCollectedError';
  constructor(readonly digest: string) {
    super(`blob ${digest} was removed by garbage collection at this moment; upload it again`);
  }
}
