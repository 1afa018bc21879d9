import type { ColumnType, Generated } from 'kysely';

/**
 * Table types of the metadata database, shared by every dialect (SQLite now, PostgreSQL later).
 * Column names are snake_case as in the migrations; src/meta/kysely/* maps rows to records.
 *
 * - Timestamps are ISO-8601 strings (`Date#toISOString()`), so they sort lexically in time order.
 * - JSON columns are text, parsed by the store: one representation on every dialect.
 * - Digests are stored as plain text; they are only ever written from validated `Digest` values.
 * - Booleans are integers 0/1: one representation on every dialect.
 */
export interface Database {
  repositories: RepositoriesTable;
  blob_links: BlobLinksTable;
  manifests: ManifestsTable;
  manifest_refs: ManifestRefsTable;
  tags: TagsTable;
  tag_events: TagEventsTable;
  uploads: UploadsTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  permission_targets: PermissionTargetsTable;
  permission_grants: PermissionGrantsTable;
  api_tokens: ApiTokensTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  properties: PropertiesTable;
  content_facts: ContentFactsTable;
  builds: BuildsTable;
  build_artifacts: BuildArtifactsTable;
  build_dependencies: BuildDependenciesTable;
  approvals: ApprovalsTable;
  promotions: PromotionsTable;
  repository_usage: RepositoryUsageTable;
  ended_sessions: EndedSessionsTable;
  manifest_pulls: ManifestPullsTable;
  gc_runs: GcRunsTable;
  gc_tombstones: GcTombstonesTable;
  job_leases: JobLeasesTable;
  outbox_events: OutboxEventsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  job_cursors: JobCursorsTable;
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

export interface UsersTable {
  /** Immutable random id (0007); null only in a database mid-migration. */
  id: string | null;
  name: string;
  email: string;
  password_hash: string | null;
  /** 0 | 1 */
  admin: number;
  /** 0 | 1 */
  disabled: number;
  generation: number;
  created_at: string;
  updated_at: string;
}

export interface GroupsTable {
  name: string;
  description: string;
  created_at: string;
}

export interface GroupMembersTable {
  group_name: string;
  user_name: string;
}

export interface PermissionTargetsTable {
  name: string;
  description: string;
  /** JSON PatternSet. */
  repositories: string;
  /** JSON PatternSet. */
  images: string;
  created_at: string;
  updated_at: string;
}

/**
 * One principal's actions through one target. `principal` names a user or a group (by
 * `principal_kind`), or is '' for the anonymous grant; the store checks users and groups exist,
 * since one column cannot hold a foreign key to two tables.
 */
export interface PermissionGrantsTable {
  target: string;
  /** 'user' | 'group' | 'anonymous' */
  principal_kind: string;
  principal: string;
  /** JSON array of actions, in ACTIONS order. */
  actions: string;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  owner: string;
  /** users.id of the owner when the token was issued. */
  owner_id: string | null;
  secret_hash: string;
  /** JSON array of permission target names, or null. */
  targets: string | null;
  /** JSON array of actions, or null. */
  actions: string | null;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface AuditEventsTable {
  /** Insertion order; queries page newest first by this (as tag_events). */
  id: Generated<number | string>;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  target: string;
  /** 'success' | 'denied' | 'failure' */
  outcome: string;
  address: string | null;
  /** JSON object, or null. */
  detail: string | null;
}

/** One value of one property key on a manifest held by a name; a key with n values is n rows. */
export interface PropertiesTable {
  repository: string;
  image: string;
  digest: string;
  key: string;
  value: string;
}

/** A label or annotation of a digest's content: the same wherever the digest is held. */
export interface ContentFactsTable {
  digest: string;
  /** 'label' | 'annotation' */
  source: string;
  key: string;
  value: string;
}

export interface BuildsTable {
  name: string;
  number: string;
  started_at: string;
  duration_ms: Int64 | null;
  vcs_url: string | null;
  vcs_revision: string | null;
  branch: string | null;
  ci_url: string | null;
  /** JSON object of strings. */
  properties: string;
  published_by: string;
  /** users.id of the publisher; null for builds recorded before 0007. */
  published_by_id: string | null;
  published_token_id: string | null;
  published_token_name: string | null;
  published_at: string;
}

export interface BuildArtifactsTable {
  build_name: string;
  build_number: string;
  /** Order of the record's artifact list. */
  position: number;
  digest: string;
  name: string;
}

export interface BuildDependenciesTable {
  build_name: string;
  build_number: string;
  /** Order of the record's dependency list. */
  position: number;
  name: string;
  version: string;
  digest: string | null;
}

export interface ApprovalsTable {
  repository: string;
  digest: string;
  approver: string;
  comment: string;
  at: string;
}

/**
 * History of promotions, promoted and refused. Deliberately without foreign keys: the history
 * outlives the repositories and manifests it names.
 */
export interface PromotionsTable {
  /** Insertion order; lists read newest first by this (as tag_events). */
  id: Generated<number | string>;
  at: string;
  actor: string;
  source_repository: string;
  source_image: string;
  target_repository: string;
  target_image: string;
  digest: string;
  /** JSON array of tag names. */
  tags: string;
  /** 'copy' | 'move' */
  mode: string;
  comment: string;
  /** JSON array of GateResult. */
  gates: string;
  /** 'promoted' | 'refused' */
  outcome: string;
}

/**
 * What a repository holds, maintained by the store in the transactions that change it (see
 * src/meta/kysely/usage.ts), so listing it is one row per repository rather than an aggregate
 * over every manifest and blob link.
 */
export interface RepositoryUsageTable {
  repository: string;
  /** Images holding at least one manifest. */
  image_count: Int64;
  /** Sum of the blob sizes linked in the repository, each digest once. */
  size_bytes: Int64;
  /** The newest `created_at` of a manifest ever put, kept when manifests are deleted; null before. */
  last_push_at: string | null;
}

/** Web UI sessions signed out before they expired (EndedSessionMeta). */
export interface EndedSessionsTable {
  /** The session's id (hash of its CSRF token). */
  id: string;
  /** When the session would have expired: the row may go after that. */
  expires_at: string;
}

/** When a digest was last pulled from a repository, written in batches (lifecycle/pull-tracker.ts). */
export interface ManifestPullsTable {
  repository: string;
  digest: string;
  last_pulled_at: string;
}

/** One garbage collection run (src/lifecycle/gc/). */
export interface GcRunsTable {
  id: string;
  /** 'running' | 'finished' | 'failed' */
  state: string;
  /** 0 | 1 */
  dry_run: number;
  grace_seconds: Int64;
  /** 'manual' | 'schedule' */
  trigger: string;
  started_by: string;
  started_at: string;
  finished_at: string | null;
  /** Where the run is: 'tombstones' | 'links' | 'blobs' | 'done'; a restart resumes from here. */
  phase: string;
  /** The last key the phase finished, so a resumed run skips what it did. */
  cursor: string | null;
  links_removed: Int64;
  blobs_removed: Int64;
  manifests_removed: Int64;
  bytes_freed: Int64;
  /** JSON array of strings. */
  errors: string;
  /** JSON list of what a dry run would remove; null for real runs. */
  items: string | null;
}

/**
 * A blob whose rows are gone and whose bytes are being deleted. Written in the transaction that
 * found the blob unreferenced, removed after the file is gone; while it exists no link or
 * manifest row for the digest may be written (src/lifecycle/gc/collector.ts).
 */
export interface GcTombstonesTable {
  digest: string;
  run_id: string;
  size: Int64;
  created_at: string;
}

/** A singleton job's lease: whoever holds an unexpired row may run the job. */
export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

/** Domain events, written in the transaction of the change they describe (migration 0008). */
export interface OutboxEventsTable {
  id: Generated<number | string>;
  /** A random UUID: the CloudEvents `id`, stable across redeliveries and replays. */
  event_id: string;
  type: string;
  repository: string | null;
  image: string | null;
  /** `<repository>/<image>` or another name the event is about; the per-key delivery order. */
  subject: string | null;
  actor: string | null;
  /** JSON object: the event payload. */
  data: string;
  at: string;
}

export interface WebhookSubscriptionsTable {
  id: string;
  url: string;
  /** JSON arrays: event types, repository keys and image patterns ([] = all). */
  events: string;
  repositories: string;
  images: string;
  /** SecretBox ciphertext of the signing secret. */
  secret: string;
  owner_id: string;
  owner_name: string;
  description: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: Generated<number | string>;
  subscription_id: string;
  /** outbox_events.id */
  event_id: Int64;
  order_key: string;
  /** 'pending' | 'delivered' | 'dead' */
  status: string;
  attempts: number;
  next_attempt_at: string;
  response_status: number | null;
  /** The start of the receiver's last answer (at most 1 KiB). */
  response_body: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface JobCursorsTable {
  name: string;
  position: Int64;
}
