import type { Digest } from '../oci/digest.ts';
import type {
  ApprovalRecord,
  BuildRecord,
  ContentFact,
  Location,
  PromotionMode,
  PromotionQuery,
  PromotionRecord,
  Properties,
} from './promotion-records.ts';
import type { TagCause } from './records.ts';

/**
 * The promotion part of the MetadataStore port, with the same guarantees as the rest: one
 * transaction per method, absence is undefined/false, lists in byte order unless said otherwise.
 */

export interface PropertyMeta {
  /** Every property of the digest in (repository, image); `{}` when none. */
  get(repository: string, image: string, digest: Digest): Promise<Properties>;
  /**
   * Sets the given keys to exactly the given values (an empty list removes the key); other keys
   * stay. UnknownManifestError when the name does not hold the digest.
   */
  set(repository: string, image: string, digest: Digest, values: Properties): Promise<void>;
  /** Removes the keys (every key when omitted); returns how many keys were removed. */
  remove(repository: string, image: string, digest: Digest, keys?: readonly string[]): Promise<number>;
  /**
   * Locations holding a property for every condition (`value` undefined: the key exists with
   * any value), within `repositories` when given; sorted by repository, image, digest.
   */
  find(
    conditions: readonly { key: string; value?: string }[],
    options: { repositories?: readonly string[]; limit: number },
  ): Promise<Location[]>;
}

export interface ContentFactMeta {
  /** Records facts of a digest's content; idempotent (facts of a digest never change). */
  record(digest: Digest, facts: readonly ContentFact[]): Promise<void>;
  get(digest: Digest): Promise<ContentFact[]>;
  /**
   * Locations (manifests held somewhere) whose digest has a fact for every condition, within
   * `repositories` when given; sorted by repository, image, digest.
   */
  find(
    conditions: readonly { source: ContentFact['source']; key: string; value?: string }[],
    options: { repositories?: readonly string[]; limit: number },
  ): Promise<Location[]>;
}

export interface BuildMeta {
  /**
   * Records a build. A recorded (name, number) is never replaced: MetaConflictError, and
   * nothing is written. Only delete() frees the number again.
   */
  create(record: BuildRecord): Promise<void>;
  /** Removes the build with its artifacts and dependencies; false when absent. */
  delete(name: string, number: string): Promise<boolean>;
  get(name: string, number: string): Promise<BuildRecord | undefined>;
  /** Builds of a name (every name when omitted), newest `publishedAt` first. */
  list(options: { name?: string; limit: number }): Promise<BuildRecord[]>;
  /** Builds that produced the digest, newest first. */
  byDigest(digest: Digest): Promise<BuildRecord[]>;
}

export interface ApprovalMeta {
  /** Idempotent per (digest, repository, approver): a second approval replaces the first. */
  add(record: ApprovalRecord): Promise<void>;
  /** Approvals of the digest for the repository, oldest first. */
  list(digest: Digest, repository: string): Promise<ApprovalRecord[]>;
  /** Withdraws the approver's approval of the digest for the repository; false when there was none. */
  remove(digest: Digest, repository: string, approver: string): Promise<boolean>;
}

export interface PromoteInput {
  source: { repository: string; image: string };
  target: { repository: string; image: string };
  digest: Digest;
  /** Tags to point at the digest in the target (cause 'promotion'). */
  tags: readonly string[];
  mode: PromotionMode;
  actor: string;
  /** Copy the properties of every promoted digest along. */
  copyProperties: boolean;
  /** Recorded in the same transaction, with outcome 'promoted'. */
  record: Omit<PromotionRecord, 'id'>;
}

export interface PromotionMeta {
  /**
   * In one transaction: makes the target name hold the digest, every manifest it references
   * (an index's children, recursively), every manifest whose subject is one of those
   * (referrers: signatures, SBOMs) with what they reference, and the blob links of all of
   * them; points `tags` at the digest; on `move` removes those manifests and every tag pointing
   * at them from the source; records the promotion. Promoting what the target holds already
   * only moves tags. UnknownManifestError when the source does not hold the digest.
   */
  promote(
    input: PromoteInput,
  ): Promise<{ copied: Digest[]; tags: { tag: string; previousDigest?: Digest }[] }>;
  /** Records a refused promotion (nothing else changes). */
  recordRefusal(record: Omit<PromotionRecord, 'id'>): Promise<void>;
  /** Newest first. */
  list(query: PromotionQuery): Promise<PromotionRecord[]>;
  /** Repositories and images holding the digest now (sorted). */
  locate(digest: Digest): Promise<{ repository: string; image: string }[]>;
}

export interface TagMoveMeta {
  /**
   * Points the tag at a digest the name holds and records the move with `cause`; returns the
   * previous digest. UnknownManifestError when the name does not hold the digest.
   */
  move(
    repository: string,
    image: string,
    tag: string,
    digest: Digest,
    actor: string,
    cause: TagCause,
  ): Promise<{ previousDigest?: Digest }>;
}

/** A write about a digest that the named repository and image do not hold. */
export class UnknownManifestError extends Error {
  override readonly name = 'UnknownManifestError';
  constructor(readonly where: { repository: string; image: string; digest: Digest }) {
    super(`${where.repository}/${where.image} does not hold ${where.digest}`);
  }
}
