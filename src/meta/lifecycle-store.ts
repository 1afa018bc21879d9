import type { Digest } from '../oci/digest.ts';

/**
 * The lifecycle part of the MetadataStore port (retention, pull tracking, usage), with the same
 * guarantees as the rest: one transaction per write method, absence is empty, never an exception.
 */
export interface LifecycleMeta {
  /**
   * Records pulls: each (repository, digest) gets the later of its stored time and `at`. One
   * transaction for the batch. Rows for repositories that no longer exist are harmless.
   */
  recordPulls(pulls: readonly PullRecord[]): Promise<void>;
  /** Everything retention looks at in one repository, read in a few whole-repository queries. */
  inventory(
    repository: string,
    options: { laterStages: readonly string[]; propertyKeys: readonly string[] },
  ): Promise<RetentionInventory>;
  /**
   * Logical and unique bytes per repository (every existing repository in `repositories`, or
   * every repository when omitted) and in total over them. Aggregates over the blob links and
   * manifest references: seconds on a large instance, for the usage report, never per request.
   */
  usage(repositories?: readonly string[]): Promise<UsageFigures>;
  /** The repository's unique blob bytes as kept in its usage row (one row read); 0 when absent. */
  usedBytes(repository: string): Promise<number>;
  /** Whether any image of the repository links the blob (one index seek). */
  linkedIn(repository: string, digest: Digest): Promise<boolean>;
}

export interface PullRecord {
  repository: string;
  digest: Digest;
  /** ISO 8601. */
  at: string;
}

export interface InventoryManifest {
  image: string;
  digest: Digest;
  mediaType: string;
  createdAt: string;
  subject?: Digest;
  /** Manifests this one references (an index's children). */
  children: Digest[];
  /** The manifest's properties in this repository, only the keys asked for. */
  properties: Record<string, string[]>;
  /** Last pull recorded in the store (pulls not flushed yet are the tracker's). */
  lastPulledAt?: string;
}

export interface InventoryTag {
  image: string;
  tag: string;
  digest: Digest;
  updatedAt: string;
}

export interface RetentionInventory {
  manifests: InventoryManifest[];
  tags: InventoryTag[];
  /**
   * Digests of this repository that a later stage holds (by the pipeline order) or that were
   * promoted from here to any repository, with where.
   */
  elsewhere: Map<Digest, string[]>;
}

export interface UsageFigures {
  repositories: Map<string, { logicalBytes: number; uniqueBytes: number }>;
  total: { logicalBytes: number; uniqueBytes: number };
}
