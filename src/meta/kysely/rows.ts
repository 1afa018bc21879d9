import type { Insertable, Selectable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import {
  ACTIONS,
  type Action,
  type ApiTokenRecord,
  type AuditEvent,
  type AuditOutcome,
  type PatternSet,
  type SigningKeyRecord,
  type UserRecord,
} from '../identity-records.ts';
import type {
  ApprovalRecord,
  BuildArtifact,
  BuildDependency,
  BuildRecord,
  GateResult,
  PromotionMode,
  PromotionRecord,
} from '../promotion-records.ts';
import type { ManifestRecord, RepositoryKind, RepositoryRecord, TagCause, TagEvent } from '../records.ts';
import type { Database } from '../schema.ts';

// Row ⇄ record mapping. The casts to Digest, RepositoryKind, TagCause, Action, AuditOutcome,
// PromotionMode and the promotion outcome are sound because those columns are only written from such values by the modules next to
// this one.

type Row<T extends keyof Database> = Selectable<Database[T]>;
type NewRow<T extends keyof Database> = Insertable<Database[T]>;

export function toRepository(row: Row<'repositories'>): RepositoryRecord {
  return {
    key: row.key,
    kind: row.kind as RepositoryKind,
    description: row.description,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

export function fromRepository(record: RepositoryRecord): NewRow<'repositories'> {
  return {
    key: record.key,
    kind: record.kind,
    description: record.description,
    settings: JSON.stringify(record.settings),
    created_at: record.createdAt,
  };
}

export function toManifest(row: Row<'manifests'>): ManifestRecord {
  const record: ManifestRecord = {
    repository: row.repository,
    image: row.image,
    digest: row.digest as Digest,
    mediaType: row.media_type,
    size: Number(row.size),
    createdAt: row.created_at,
  };
  if (row.artifact_type !== null) record.artifactType = row.artifact_type;
  if (row.subject !== null) record.subject = row.subject as Digest;
  if (row.annotations !== null) record.annotations = JSON.parse(row.annotations) as Record<string, string>;
  return record;
}

export function fromManifest(record: ManifestRecord): NewRow<'manifests'> {
  return {
    repository: record.repository,
    image: record.image,
    name: `${record.repository}/${record.image}`,
    digest: record.digest,
    media_type: record.mediaType,
    size: record.size,
    artifact_type: record.artifactType ?? null,
    subject: record.subject ?? null,
    annotations: record.annotations === undefined ? null : JSON.stringify(record.annotations),
    created_at: record.createdAt,
  };
}

export function toTagEvent(row: Omit<Row<'tag_events'>, 'id'>): TagEvent {
  const event: TagEvent = {
    repository: row.repository,
    image: row.image,
    tag: row.tag,
    actor: row.actor,
    cause: row.cause as TagCause,
    at: row.at,
  };
  if (row.old_digest !== null) event.oldDigest = row.old_digest as Digest;
  if (row.new_digest !== null) event.newDigest = row.new_digest as Digest;
  return event;
}

export function fromTagEvent(event: TagEvent): NewRow<'tag_events'> {
  return {
    repository: event.repository,
    image: event.image,
    tag: event.tag,
    old_digest: event.oldDigest ?? null,
    new_digest: event.newDigest ?? null,
    actor: event.actor,
    cause: event.cause,
    at: event.at,
  };
}

/** Each action once, in the order ACTIONS lists them: how action lists are stored. */
export function normaliseActions(actions: readonly Action[]): Action[] {
  return ACTIONS.filter((action) => actions.includes(action));
}

export function parseActions(json: string): Action[] {
  return JSON.parse(json) as Action[];
}

export function parsePatterns(json: string): PatternSet {
  return JSON.parse(json) as PatternSet;
}

export function toUser(row: Row<'users'>): UserRecord {
  return {
    id: row.id ?? '',
    name: row.name,
    email: row.email,
    passwordHash: row.password_hash,
    admin: row.admin !== 0,
    disabled: row.disabled !== 0,
    generation: Number(row.generation),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function fromUser(record: UserRecord): NewRow<'users'> {
  return {
    id: record.id,
    name: record.name,
    email: record.email,
    password_hash: record.passwordHash,
    admin: record.admin ? 1 : 0,
    disabled: record.disabled ? 1 : 0,
    generation: record.generation,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

export function toApiToken(row: Row<'api_tokens'>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    ownerId: row.owner_id ?? '',
    secretHash: row.secret_hash,
    targets: row.targets === null ? null : (JSON.parse(row.targets) as string[]),
    actions: row.actions === null ? null : parseActions(row.actions),
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export function fromApiToken(record: ApiTokenRecord): NewRow<'api_tokens'> {
  return {
    id: record.id,
    name: record.name,
    owner: record.owner,
    owner_id: record.ownerId,
    secret_hash: record.secretHash,
    targets: record.targets === null ? null : JSON.stringify(record.targets),
    actions: record.actions === null ? null : JSON.stringify(normaliseActions(record.actions)),
    expires_at: record.expiresAt,
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
    revoked_at: record.revokedAt,
  };
}

export function toSigningKey(row: Row<'signing_keys'>): SigningKeyRecord {
  return {
    kid: row.kid,
    privateJwk: row.private_jwk,
    publicJwk: row.public_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

export function fromSigningKey(record: SigningKeyRecord): NewRow<'signing_keys'> {
  return {
    kid: record.kid,
    private_jwk: record.privateJwk,
    public_jwk: record.publicJwk,
    created_at: record.createdAt,
    retired_at: record.retiredAt,
  };
}

export function toAuditEvent(row: Row<'audit_events'>): AuditEvent {
  return {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    repository: row.repository,
    target: row.target,
    outcome: row.outcome as AuditOutcome,
    address: row.address,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  };
}

/** The id is the store's to assign: one given by the caller is ignored. */
export function fromAuditEvent(event: AuditEvent): NewRow<'audit_events'> {
  return {
    at: event.at,
    actor: event.actor,
    action: event.action,
    repository: event.repository,
    target: event.target,
    outcome: event.outcome,
    address: event.address,
    detail: event.detail === null ? null : JSON.stringify(event.detail),
  };
}

export function toBuild(
  row: Row<'builds'>,
  artifacts: readonly Omit<Row<'build_artifacts'>, 'build_name' | 'build_number' | 'position'>[],
  dependencies: readonly Omit<Row<'build_dependencies'>, 'build_name' | 'build_number' | 'position'>[],
): BuildRecord {
  return {
    name: row.name,
    number: row.number,
    startedAt: row.started_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    vcsUrl: row.vcs_url,
    vcsRevision: row.vcs_revision,
    branch: row.branch,
    ciUrl: row.ci_url,
    artifacts: artifacts.map((a): BuildArtifact => ({ digest: a.digest as Digest, name: a.name })),
    dependencies: dependencies.map(
      (d): BuildDependency => ({ name: d.name, version: d.version, digest: d.digest as Digest | null }),
    ),
    properties: JSON.parse(row.properties) as Record<string, string>,
    publishedBy: row.published_by,
    publishedById: row.published_by_id,
    publishedToken:
      row.published_token_id === null
        ? null
        : { id: row.published_token_id, name: row.published_token_name ?? '' },
    publishedAt: row.published_at,
  };
}

/** The build row and its child rows, each list numbered in the record's order. */
export function fromBuild(record: BuildRecord): {
  build: NewRow<'builds'>;
  artifacts: NewRow<'build_artifacts'>[];
  dependencies: NewRow<'build_dependencies'>[];
} {
  const key = { build_name: record.name, build_number: record.number };
  return {
    build: {
      name: record.name,
      number: record.number,
      started_at: record.startedAt,
      duration_ms: record.durationMs,
      vcs_url: record.vcsUrl,
      vcs_revision: record.vcsRevision,
      branch: record.branch,
      ci_url: record.ciUrl,
      properties: JSON.stringify(record.properties),
      published_by: record.publishedBy,
      published_by_id: record.publishedById,
      published_token_id: record.publishedToken?.id ?? null,
      published_token_name: record.publishedToken?.name ?? null,
      published_at: record.publishedAt,
    },
    artifacts: record.artifacts.map((a, position) => ({ ...key, position, digest: a.digest, name: a.name })),
    dependencies: record.dependencies.map((d, position) => ({
      ...key,
      position,
      name: d.name,
      version: d.version,
      digest: d.digest,
    })),
  };
}

export function toApproval(row: Row<'approvals'>): ApprovalRecord {
  return {
    digest: row.digest as Digest,
    repository: row.repository,
    approver: row.approver,
    comment: row.comment,
    at: row.at,
  };
}

export function fromApproval(record: ApprovalRecord): NewRow<'approvals'> {
  return {
    repository: record.repository,
    digest: record.digest,
    approver: record.approver,
    comment: record.comment,
    at: record.at,
  };
}

export function toPromotion(row: Row<'promotions'>): PromotionRecord {
  return {
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    sourceRepository: row.source_repository,
    sourceImage: row.source_image,
    targetRepository: row.target_repository,
    targetImage: row.target_image,
    digest: row.digest as Digest,
    tags: JSON.parse(row.tags) as string[],
    mode: row.mode as PromotionMode,
    comment: row.comment,
    gates: JSON.parse(row.gates) as GateResult[],
    outcome: row.outcome as PromotionRecord['outcome'],
  };
}

/** The id is the store's to assign: one given by the caller is ignored. */
export function fromPromotion(record: Omit<PromotionRecord, 'id'>): NewRow<'promotions'> {
  return {
    at: record.at,
    actor: record.actor,
    source_repository: record.sourceRepository,
    source_image: record.sourceImage,
    target_repository: record.targetRepository,
    target_image: record.targetImage,
    digest: record.digest,
    tags: JSON.stringify(record.tags),
    mode: record.mode,
    comment: record.comment,
    gates: JSON.stringify(record.gates),
    outcome: record.outcome,
  };
}
