import type { MetadataStore } from '../../../src/meta/metadata-store.ts';
import type {
  ManifestRecord,
  ManifestReference,
  RepositoryRecord,
  TagCause,
} from '../../../src/meta/records.ts';
import { type Digest, digestOf } from '../../../src/oci/digest.ts';
import { MEDIA } from '../../../src/oci/media-types.ts';

/** Registers one suite test; the body gets the fresh store made for that test alone. */
export type Define = (title: string, body: (store: MetadataStore) => Promise<void>) => void;

export const T0 = '2024-05-01T10:00:00.000Z';

/** A real sha256 digest of `label`, so each label names distinct, valid content. */
export function fakeDigest(label: string): Digest {
  return digestOf(new TextEncoder().encode(label));
}

export function repositoryRecord(key: string, extra: Partial<RepositoryRecord> = {}): RepositoryRecord {
  return { key, kind: 'local', description: `${key} images`, settings: {}, createdAt: T0, ...extra };
}

export function manifestRecord(
  repository: string,
  image: string,
  digest: Digest,
  extra: Partial<ManifestRecord> = {},
): ManifestRecord {
  return { repository, image, digest, mediaType: MEDIA.ociManifest, size: 512, createdAt: T0, ...extra };
}

export interface Push {
  repository: string;
  image: string;
  /** Distinguishes the content: same label, same digests. */
  label: string;
  tag?: string;
  cause?: TagCause;
  actor?: string;
  subject?: Digest;
}

/**
 * Links a config and a layer blob to the name and puts a manifest referencing both, the way the
 * registry does after the bytes are stored. The repository must exist.
 */
export async function pushImage(store: MetadataStore, push: Push): Promise<Digest> {
  const { repository, image, label } = push;
  const references: ManifestReference[] = [
    { digest: fakeDigest(`config ${label}`), kind: 'blob' },
    { digest: fakeDigest(`layer ${label}`), kind: 'blob' },
  ];
  for (const ref of references) await store.blobs.link(repository, image, ref.digest, 100);
  const digest = fakeDigest(`manifest ${label}`);
  const extra: Partial<ManifestRecord> = push.subject === undefined ? {} : { subject: push.subject };
  const record = manifestRecord(repository, image, digest, extra);
  const tag =
    push.tag === undefined
      ? undefined
      : { name: push.tag, actor: push.actor ?? 'ci', cause: push.cause ?? ('push' as const) };
  await store.manifests.put(tag === undefined ? { record, references } : { record, references, tag });
  return digest;
}

/** Creates the repository (with `key`) unless it exists. */
export async function ensureRepository(store: MetadataStore, key: string): Promise<void> {
  if ((await store.repositories.get(key)) === undefined)
    await store.repositories.create(repositoryRecord(key));
}

/**
 * Puts an image index referencing the child manifests (which the name must hold already), the
 * way the registry does for a multi-platform image. The repository must exist.
 */
export async function pushIndex(
  store: MetadataStore,
  push: Omit<Push, 'subject'> & { children: readonly Digest[] },
): Promise<Digest> {
  const { repository, image, label } = push;
  const references = push.children.map((digest): ManifestReference => ({ digest, kind: 'manifest' }));
  const digest = fakeDigest(`index ${label}`);
  const record = manifestRecord(repository, image, digest, { mediaType: MEDIA.ociIndex });
  const tag =
    push.tag === undefined
      ? undefined
      : { name: push.tag, actor: push.actor ?? 'ci', cause: push.cause ?? ('push' as const) };
  await store.manifests.put(tag === undefined ? { record, references } : { record, references, tag });
  return digest;
}
