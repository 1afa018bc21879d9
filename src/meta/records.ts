import type { Digest } from '../oci/digest.ts';
import type { ParsedManifest } from '../oci/manifest.ts';

export type RepositoryKind = 'local' | 'remote' | 'virtual';

export interface RepositoryRecord {
  key: string;
  kind: RepositoryKind;
  description: string;
  /** Kind-specific settings (upstream URL, members, ...), validated by repos/ before storing. */
  settings: Record<string, unknown>;
  createdAt: string;
}

/** A manifest held by an OCI name, i.e. by an image inside a repository. */
export interface ManifestRecord {
  repository: string;
  image: string;
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
  createdAt: string;
}

/** The row for a manifest of `size` bytes with `digest`, as parsed, held by `repository/image` from now. */
export function manifestRecord(
  where: { repository: string; image: string },
  manifest: { digest: Digest; size: number; parsed: ParsedManifest },
): ManifestRecord {
  const { parsed } = manifest;
  return {
    repository: where.repository,
    image: where.image,
    digest: manifest.digest,
    mediaType: parsed.mediaType,
    size: manifest.size,
    createdAt: new Date().toISOString(),
    ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
    ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
    ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
  };
}

export interface ManifestReference {
  digest: Digest;
  kind: 'blob' | 'manifest';
}

/**
 * `cache`: a remote repository's tag moved to what upstream has now; `retention`: removed by the
 * repository's retention rules.
 */
export type TagCause = 'push' | 'delete' | 'promotion' | 'floating' | 'rollback' | 'cache' | 'retention';

export interface TagEvent {
  repository: string;
  image: string;
  tag: string;
  oldDigest?: Digest;
  newDigest?: Digest;
  actor: string;
  cause: TagCause;
  at: string;
}

export interface UploadRecord {
  id: string;
  repository: string;
  image: string;
  startedAt: string;
}

/** `n`/`last` pagination as in the distribution spec: entries sorted lexically, after `last`. */
export interface Page {
  n?: number;
  last?: string;
}
