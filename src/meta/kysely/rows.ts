import type { Insertable, Selectable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { ManifestRecord, RepositoryKind, RepositoryRecord, TagCause, TagEvent } from '../records.ts';
import type { Database } from '../schema.ts';

// Row ⇄ record mapping. The casts to Digest, RepositoryKind and TagCause are sound because
// those columns are only written from such values by the modules next to this one.

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
