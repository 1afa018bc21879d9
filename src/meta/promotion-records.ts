import type { Digest } from '../oci/digest.ts';

/**
 * Records of promotion and the metadata around it: properties, content metadata (labels and
 * annotations) for search, CI builds, approvals and the promotion history. Pure data; src/promote
 * gives them meaning.
 */

/** `key → values` (values sorted, no duplicates) on a digest within a repository and image. */
export type Properties = Record<string, string[]>;

/** Where a digest is held. */
export interface Location {
  repository: string;
  image: string;
  digest: Digest;
}

/** A fact read from the content itself; the same for a digest wherever it is. */
export interface ContentFact {
  source: 'label' | 'annotation';
  key: string;
  value: string;
}

export interface BuildArtifact {
  digest: Digest;
  /** What CI called it, e.g. `team/app:main-1a2b3c-20261125`. */
  name: string;
}

export interface BuildDependency {
  name: string;
  version: string;
  digest: Digest | null;
}

export interface BuildRecord {
  name: string;
  number: string;
  startedAt: string;
  durationMs: number | null;
  vcsUrl: string | null;
  vcsRevision: string | null;
  branch: string | null;
  ciUrl: string | null;
  artifacts: BuildArtifact[];
  dependencies: BuildDependency[];
  /** Free-form `key → value` the CI adds (environment, runner, …). */
  properties: Record<string, string>;
  /** User name of the publisher. */
  publishedBy: string;
  /** The publisher's user id (UserRecord.id); null for builds recorded before ids existed. */
  publishedById: string | null;
  /** The API token the build was published through, if any. */
  publishedToken: { id: string; name: string } | null;
  publishedAt: string;
}

export interface ApprovalRecord {
  digest: Digest;
  /** The repository the approval lets the digest into. */
  repository: string;
  approver: string;
  comment: string;
  at: string;
}

export type PromotionMode = 'copy' | 'move';

export interface GateResult {
  /** The gate as declared, e.g. `property qa.status = passed`. */
  gate: string;
  type: string;
  passed: boolean;
  /** Why, in words a person can act on. */
  reason: string;
  /** Approval gates: everyone who approved the digest for the target, counting or not (sorted). */
  approvers?: string[];
}

export interface PromotionRecord {
  /** Assigned by the store, increasing. */
  id?: number;
  at: string;
  actor: string;
  sourceRepository: string;
  sourceImage: string;
  targetRepository: string;
  targetImage: string;
  digest: Digest;
  tags: string[];
  mode: PromotionMode;
  comment: string;
  gates: GateResult[];
  outcome: 'promoted' | 'refused';
}

export interface PromotionQuery {
  digest?: Digest;
  /** Source or target. */
  repository?: string;
  /** Source or target image name. */
  image?: string;
  outcome?: PromotionRecord['outcome'];
  beforeId?: number;
  limit: number;
}
