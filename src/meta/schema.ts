import type { ColumnType, Generated } from 'kysely';

/**
 * Table types of the metadata database, shared by every dialect (SQLite now, PostgreSQL later).
 * Column names are snake_case as in the migrations; src/meta/kysely/* maps rows to records.
 *
 * - Timestamps are ISO-8601 strings (`Date#toISOString()`), so they sort lexically in time order.
 * - JSON columns are text, parsed by the store: one representation on every dialect.
 * - Digests are stored as plain text; they are only ever written from validated `Digest` values.
 */
export interface Database {
  repositories: RepositoriesTable;
  blob_links: BlobLinksTable;
  manifests: ManifestsTable;
  manifest_refs: ManifestRefsTable;
  tags: TagsTable;
  tag_events: TagEventsTable;
  uploads: UploadsTable;
}

/**
 * A 64-bit integer column (blob sizes pass 2 GiB). SQLite returns a number; node-postgres returns
 * `bigint` columns as strings unless told otherwise, so readers must go through `Number()`.
 */
export type Int64 = ColumnType<number | string, number, number>;

export interface RepositoriesTable {
  key: string;
  kind: string;
  description: string;
  /** JSON object. */
  settings: string;
  created_at: string;
}

export interface BlobLinksTable {
  repository: string;
  image: string;
  digest: string;
  size: Int64;
  created_at: string;
}

export interface ManifestsTable {
  repository: string;
  image: string;
  /**
   * `repository + '/' + image`, denormalised so the catalog is one ordered range scan of an index
   * (ordering by the (repository, image) pair is not the same as ordering by the joined name:
   * `a-b/x` < `a/x` bytewise, yet `a` < `a-b`).
   */
  name: string;
  digest: string;
  media_type: string;
  size: Int64;
  artifact_type: string | null;
  subject: string | null;
  /** JSON object of strings, or null. */
  annotations: string | null;
  created_at: string;
}

export interface ManifestRefsTable {
  repository: string;
  image: string;
  digest: string;
  ref_digest: string;
  /** 'blob' | 'manifest' */
  kind: string;
}

export interface TagsTable {
  repository: string;
  image: string;
  tag: string;
  digest: string;
  updated_at: string;
}

export interface TagEventsTable {
  /** Insertion order; history is read newest first by this, not by `at` (clocks can step back). */
  id: Generated<number | string>;
  repository: string;
  image: string;
  tag: string;
  old_digest: string | null;
  new_digest: string | null;
  actor: string;
  cause: string;
  at: string;
}

export interface UploadsTable {
  id: string;
  repository: string;
  image: string;
  started_at: string;
}
