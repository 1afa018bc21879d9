import type { Digest } from '../oci/digest.ts';
import type { OutboxMeta, WebhookMeta } from './event-store.ts';
import type { GcMeta } from './gc-store.ts';
import type {
  ApiTokenMeta,
  AuditMeta,
  EndedSessionMeta,
  GroupMeta,
  PermissionTargetMeta,
  SigningKeyMeta,
  UserMeta,
} from './identity-store.ts';
import type { LifecycleMeta } from './lifecycle-store.ts';
import type { Location } from './promotion-records.ts';
import type {
  ApprovalMeta,
  BuildMeta,
  ContentFactMeta,
  PromotionMeta,
  PropertyMeta,
  TagMoveMeta,
} from './promotion-store.ts';
import type {
  ManifestRecord,
  ManifestReference,
  Page,
  RepositoryRecord,
  TagCause,
  TagEvent,
  UploadRecord,
} from './records.ts';

/**
 * Everything Gantry knows about repositories, images, manifests, tags and uploads, apart from
 * the bytes themselves (those are in the BlobStore).
 *
 * Guarantees every implementation gives (checked by test/meta/metadata-store-suite.ts):
 * - Each method is one transaction: it happens whole or not at all, also when the process dies.
 *   The metadata row is the commit point of a push: callers write blobs and manifest bytes to
 *   the BlobStore first, so a row never points at missing content.
 * - Lists come back in lexical (byte) order of their key and honour `Page`.
 * - Absence is `undefined` / `false`, never an exception. Conflicts throw MetaConflictError.
 *   Writes under a repository key that does not exist throw UnknownRepositoryError.
 */
export interface MetadataStore {
  readonly repositories: RepositoryMeta;
  readonly blobs: BlobLinkMeta;
  readonly manifests: ManifestMeta;
  readonly tags: TagMeta;
  readonly uploads: UploadMeta;
  readonly users: UserMeta;
  readonly groups: GroupMeta;
  readonly permissions: PermissionTargetMeta;
  readonly apiTokens: ApiTokenMeta;
  readonly signingKeys: SigningKeyMeta;
  readonly audit: AuditMeta;
  readonly endedSessions: EndedSessionMeta;
  readonly properties: PropertyMeta;
  readonly contentFacts: ContentFactMeta;
  readonly builds: BuildMeta;
  readonly approvals: ApprovalMeta;
  readonly promotions: PromotionMeta;
  /** Tag moves outside a push (floating tags, rollback). */
  readonly tagMoves: TagMoveMeta;
  /** Retention inventory, pull times, usage figures. */
  readonly lifecycle: LifecycleMeta;
  /** Garbage collection: runs, tombstones, leases. */
  readonly gc: GcMeta;
  /** Domain events; the writes above append theirs in their own transaction. */
  readonly outbox: OutboxMeta;
  readonly webhooks: WebhookMeta;
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Readiness: one trivial read of a real table, resolving when the database answers and
   * rejecting with its error otherwise. Called by every `GET /readyz`: an indexed seek, no scan.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RepositoryMeta {
  /** MetaConflictError when the key exists. */
  create(record: RepositoryRecord): Promise<void>;
  get(key: string): Promise<RepositoryRecord | undefined>;
  list(): Promise<RepositoryRecord[]>;
  /** Replaces description and settings; false when absent. */
  update(
    key: string,
    changes: { description?: string; settings?: Record<string, unknown> },
  ): Promise<boolean>;
  /** Removes the repository with every tag, manifest, blob link and upload record in it. */
  delete(key: string): Promise<boolean>;
  /**
   * What each repository holds, keyed by repository key, every existing repository included
   * (empty ones with zeros). Implementations keep the figures up to date in the writes that
   * change them: this reads one row per repository, never the manifests or blob links.
   */
  stats(): Promise<Map<string, RepositoryStats>>;
  /**
   * stats() recomputed from every manifest and blob link: full scans, seconds on a large
   * instance, for consistency checks (the test suite; an fsck), never per request. Equal to stats() except
   * that `lastPushAt` here is the newest manifest still held, which a delete can make older
   * than stats()' (or null).
   */
  recountStats(): Promise<Map<string, RepositoryStats>>;
  /**
   * Manifests and distinct blobs per repository (repositories holding none are absent), for the
   * metrics scrape: one grouped count over each table's repository index, never per request.
   */
  contentCounts(): Promise<Map<string, { manifests: number; blobs: number }>>;
}

export interface RepositoryStats {
  /** Images holding at least one manifest. */
  imageCount: number;
  /** Sum of the sizes of the blobs linked in the repository, each digest counted once. */
  sizeBytes: number;
  /**
   * The newest `createdAt` of a manifest put in the repository; null when none ever was. A
   * delete does not move it back: it says when the repository was last pushed to.
   */
  lastPushAt: string | null;
}

/** One image of a repository (or of several, merged), for browsing. */
export interface ImageSummary {
  image: string;
  /** Distinct tag names over the repositories asked about. */
  tagCount: number;
  /** The newest manifest's `createdAt`. */
  lastPushAt: string;
}

/** A tag with where it points and when it last moved. */
export interface TagEntry {
  tag: string;
  digest: Digest;
  updatedAt: string;
}

/** Which OCI names (repository + image) hold which blobs. */
export interface BlobLinkMeta {
  /** Idempotent. */
  link(repository: string, image: string, digest: Digest, size: number): Promise<void>;
  /** Size of the blob when this name holds it. */
  get(repository: string, image: string, digest: Digest): Promise<number | undefined>;
  unlink(repository: string, image: string, digest: Digest): Promise<boolean>;
  /**
   * Whether the name links any blob. Deleting manifests leaves their blobs linked, so this tells
   * a name whose manifests were all deleted from one nothing was ever pushed to.
   */
  linksAny(repository: string, image: string): Promise<boolean>;
  /** Whether any name in the instance still links or references the digest (for GC). */
  isReferenced(digest: Digest): Promise<boolean>;
}

export interface PutManifest {
  record: ManifestRecord;
  references: ManifestReference[];
  /** Tag to point at the manifest in the same transaction. */
  tag?: { name: string; actor: string; cause: TagCause };
}

export interface ManifestMeta {
  /**
   * Stores the manifest row, its references and (optionally) moves a tag, in one transaction.
   * Throws MissingReferencesError listing every reference this name does not hold (blobs must
   * be linked, child manifests stored), and stores nothing then. Putting an existing digest
   * again is allowed and only moves the tag. Returns the digest the tag pointed at before.
   */
  put(input: PutManifest): Promise<{ previousDigest?: Digest }>;
  get(repository: string, image: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Whether the name holds any manifest at all: what makes an image exist. */
  exists(repository: string, image: string): Promise<boolean>;
  /**
   * Deletes the manifest and every tag pointing at it (recorded as tag events with `actor` and
   * `cause`, 'delete' unless given).
   */
  delete(
    repository: string,
    image: string,
    digest: Digest,
    actor: string,
    cause?: TagCause,
  ): Promise<{ removedTags: string[] } | undefined>;
  /** Manifests in this name whose subject is `subject`, sorted by digest. */
  referrers(repository: string, image: string, subject: Digest): Promise<ManifestRecord[]>;
  /** OCI names (`repository/image`) holding at least one manifest, optionally within one repository. */
  catalog(page: Page, repository?: string): Promise<string[]>;
  /**
   * Images holding a manifest in any of `repositories`, merged by image name, in byte order of
   * the name, after `page.last`, at most `page.n`.
   */
  images(repositories: readonly string[], page: Page): Promise<ImageSummary[]>;
  /**
   * Where manifests whose digest starts with `prefix` are held, within `repositories`, sorted by
   * repository, image, digest; at most `limit`.
   */
  withDigestPrefix(
    prefix: string,
    options: { repositories: readonly string[]; limit: number },
  ): Promise<Location[]>;
}

export interface TagMeta {
  resolve(repository: string, image: string, tag: string): Promise<Digest | undefined>;
  list(repository: string, image: string, page: Page): Promise<string[]>;
  /** Every tag of the name with its digest and last move, in tag order. */
  entries(repository: string, image: string): Promise<TagEntry[]>;
  /** Removes the tag and records the event (cause 'delete' unless given); false when absent. */
  delete(repository: string, image: string, tag: string, actor: string, cause?: TagCause): Promise<boolean>;
  /** Newest first. */
  history(repository: string, image: string, tag: string, limit?: number): Promise<TagEvent[]>;
  /** Where a tag of this name points, within `repositories`, sorted; at most `limit`. */
  withTag(tag: string, options: { repositories: readonly string[]; limit: number }): Promise<Location[]>;
}

export interface UploadMeta {
  create(record: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | undefined>;
  delete(id: string): Promise<boolean>;
  /**
   * Ends an upload that became a blob: removes its row and links the blob to the upload's name,
   * in one transaction (one commit on the hot path of every push). False, and nothing linked,
   * when there is no such upload.
   */
  complete(id: string, digest: Digest, size: number): Promise<boolean>;
  /** Uploads started before `before`, for cleaning up abandoned ones. */
  listStartedBefore(before: Date): Promise<UploadRecord[]>;
  /** How many uploads are open (for metrics; a count over the table, read per scrape). */
  count(): Promise<number>;
}

export class MetaConflictError extends Error {
  override readonly name = 'MetaConflictError';
}

/**
 * A write into a repository that does not exist (or was deleted while the write ran). Writes
 * that name a repository (blob links, manifests, uploads) throw it and store nothing.
 */
export class UnknownRepositoryError extends Error {
  override readonly name = 'UnknownRepositoryError';
  constructor(readonly repository: string) {
    super(`repository ${repository} does not exist`);
  }
}

export class MissingReferencesError extends Error {
  override readonly name = 'MissingReferencesError';
  constructor(readonly missing: ManifestReference[]) {
    super(`references not held by this name: ${missing.map((m) => m.digest).join(', ')}`);
  }
}
