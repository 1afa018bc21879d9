import type { Digest } from '../oci/digest.ts';

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

export interface ManifestReference {
  digest: Digest;
  kind: 'blob' | 'manifest';
}

/** `cache`: a remote repository's tag moved to what upstream has now. */
export type TagCause = 'push' | 'delete' | 'promotion' | 'floating' | 'rollback' | 'cache';

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
