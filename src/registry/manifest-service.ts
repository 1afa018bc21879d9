import { Readable } from 'node:stream';
import { type MetadataStore, MissingReferencesError } from '../meta/metadata-store.ts';
import type { ManifestRecord, Page } from '../meta/records.ts';
import { clip, type Digest, digestAlgorithm, digestOf, parseDigest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { parseManifest } from '../oci/manifest.ts';
import { MEDIA } from '../oci/media-types.ts';
import { isTag } from '../oci/names.ts';
import type { ResolvedName } from '../repos/repository-service.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { fullName } from './blob-service.ts';
import type { ManifestCache } from './manifest-cache.ts';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

/** A manifest reference from a URL: a tag or a digest. */
export type Reference = { tag: string } | { digest: Digest };

export function parseReference(value: string): Reference {
  if (value.includes(':')) return { digest: parseDigest(value) };
  if (!isTag(value)) {
    throw new OciError(
      'MANIFEST_INVALID',
      `reference "${clip(value)}" is neither a tag (up to 128 of [A-Za-z0-9_.-], not starting with . or -) nor a digest`,
    );
  }
  return { tag: value };
}

/**
 * Manifests, tags and referrers of OCI names. Manifest bytes are written to the BlobStore
 * (durable) before the metadata row that makes them visible: the row is the commit point.
 */
export class ManifestService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly cache: ManifestCache,
  ) {}

  async get(name: ResolvedName, ref: Reference): Promise<StoredManifest> {
    const record = await this.find(name, ref);
    const cached = this.cache.get(record.digest);
    if (cached) return { digest: record.digest, mediaType: record.mediaType, bytes: cached };
    const bytes = await this.blobs.read(record.digest);
    this.cache.set(record.digest, bytes);
    return { digest: record.digest, mediaType: record.mediaType, bytes };
  }

  async put(
    name: ResolvedName,
    ref: Reference,
    input: { bytes: Buffer; contentType: string | undefined; actor: string },
  ): Promise<{ digest: Digest; subject?: Digest }> {
    const digest = digestOf(input.bytes, 'digest' in ref ? digestAlgorithm(ref.digest) : 'sha256');
    if ('digest' in ref && ref.digest !== digest) {
      throw new OciError('DIGEST_INVALID', `manifest hashes to ${digest}, not ${ref.digest} as the URL says`);
    }
    const parsed = parseManifest(input.bytes, input.contentType);
    await this.blobs.put(digest, Readable.from([input.bytes]), { size: input.bytes.length });
    const record: ManifestRecord = {
      repository: name.repository.key,
      image: name.image,
      digest,
      mediaType: parsed.mediaType,
      size: input.bytes.length,
      createdAt: new Date().toISOString(),
      ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
      ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
      ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
    };
    try {
      await this.meta.manifests.put({
        record,
        references: parsed.references,
        ...('tag' in ref ? { tag: { name: ref.tag, actor: input.actor, cause: 'push' as const } } : {}),
      });
    } catch (e) {
      if (e instanceof MissingReferencesError) {
        const missing = e.missing.map((m) => m.digest);
        throw new OciError(
          'MANIFEST_BLOB_UNKNOWN',
          `${fullName(name)} does not hold ${missing.length === 1 ? 'this' : 'these'} referenced content: ${missing.join(', ')}; push ${missing.length === 1 ? 'it' : 'them'} first`,
          { missing: e.missing },
        );
      }
      throw e;
    }
    this.cache.set(digest, input.bytes);
    return { digest, ...(parsed.subject ? { subject: parsed.subject.digest } : {}) };
  }

  async delete(name: ResolvedName, ref: Reference, actor: string): Promise<void> {
    const repo = name.repository.key;
    if ('tag' in ref) {
      if (!(await this.meta.tags.delete(repo, name.image, ref.tag, actor))) throw unknownManifest(name, ref);
      return;
    }
    if (!(await this.meta.manifests.delete(repo, name.image, ref.digest, actor)))
      throw unknownManifest(name, ref);
  }

  /** Tags of the name; NAME_UNKNOWN when the name holds nothing, so a typo is not an empty list. */
  async tags(name: ResolvedName, page: Page): Promise<string[]> {
    const tags = await this.meta.tags.list(name.repository.key, name.image, page);
    if (
      tags.length === 0 &&
      page.last === undefined &&
      !(await this.meta.manifests.exists(name.repository.key, name.image))
    ) {
      throw new OciError('NAME_UNKNOWN', `nothing has been pushed to ${fullName(name)}`);
    }
    return tags;
  }

  /** The referrers response: an OCI index of the manifests whose subject is `subject`. */
  async referrers(name: ResolvedName, subject: Digest, artifactType: string | undefined) {
    const found = await this.meta.manifests.referrers(name.repository.key, name.image, subject);
    const manifests = found
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      }));
    return { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
  }

  async catalog(page: Page): Promise<string[]> {
    return this.meta.manifests.catalog(page);
  }

  private async find(name: ResolvedName, ref: Reference): Promise<ManifestRecord> {
    const repo = name.repository.key;
    const digest = 'digest' in ref ? ref.digest : await this.meta.tags.resolve(repo, name.image, ref.tag);
    const record = digest ? await this.meta.manifests.get(repo, name.image, digest) : undefined;
    if (!record) throw unknownManifest(name, ref);
    return record;
  }
}

function unknownManifest(name: ResolvedName, ref: Reference): OciError {
  const what = 'tag' in ref ? `tag ${ref.tag}` : `manifest ${ref.digest}`;
  return new OciError('MANIFEST_UNKNOWN', `${what} is not in ${fullName(name)}`);
}
