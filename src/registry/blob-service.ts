import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { QuotaGuard } from '../lifecycle/quota-guard.ts';
import { BlobCollectedError } from '../meta/gc-store.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { PullThrough } from '../repos/remote/pull-through.ts';
import type { MemberCheck, RepositoryService, ResolvedName } from '../repos/repository-service.ts';
import type { BlobStore, ByteRange } from '../storage/blob-store.ts';

export interface UploadState {
  id: string;
  /** Bytes received so far. */
  size: number;
}

/**
 * Blobs of an OCI name and the uploads that create them. Order of writes is the commit
 * protocol: bytes become a durable blob in the BlobStore first, the link row in the metadata
 * store last, so a crash in between leaves an unreferenced blob for garbage collection and
 * never a link to missing bytes.
 */
export class BlobService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly repos: RepositoryService,
    private readonly pull: PullThrough,
    /** Storage quotas; checked before every blob link that can grow a repository. */
    private readonly quota?: QuotaGuard,
  ) {}

  /**
   * Size of the blob when the name holds it (for a virtual repository: the first member that
   * `readable` accepts and that does); BLOB_UNKNOWN otherwise.
   */
  async stat(name: ResolvedName, digest: Digest, readable: MemberCheck): Promise<number> {
    return (await this.found(name, digest, readable)).size;
  }

  async open(
    name: ResolvedName,
    digest: Digest,
    range: ByteRange | undefined,
    options: { signal: AbortSignal; readable: MemberCheck },
  ): Promise<Readable> {
    const { signal, readable } = options;
    const { target } = await this.found(name, digest, readable);
    if (target.repository.kind === 'remote') {
      if (!range) {
        const stream = await this.pull.openBlob(target, digest, signal);
        if (stream) return stream;
      }
      await this.pull.stored(target, digest);
    }
    return this.blobs.open(digest, range, signal);
  }

  private async found(
    name: ResolvedName,
    digest: Digest,
    readable: MemberCheck,
  ): Promise<{ target: ResolvedName; size: number }> {
    const found = await this.holder(name, digest, readable);
    if (!found) throw new OciError('BLOB_UNKNOWN', `blob ${digest} is not in ${fullName(name)}`);
    return found;
  }

  /**
   * The first read target `readable` accepts that holds the blob (a remote one fetches it on a
   * miss). Through a virtual repository an unreachable remote member counts as not having the
   * blob: clients ask for blobs before pushing them, and an upstream outage must not stop a
   * push. Asked directly, a remote's error is the answer.
   */
  private async holder(
    name: ResolvedName,
    digest: Digest,
    readable: MemberCheck,
  ): Promise<{ target: ResolvedName; size: number } | undefined> {
    let failure: unknown;
    for (const target of this.repos.readTargets(name, readable)) {
      try {
        const size =
          target.repository.kind === 'remote'
            ? await this.pull.blobSize(target, digest)
            : await this.meta.blobs.get(target.repository.key, target.image, digest);
        if (size !== undefined) return { target, size };
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure && name.repository.kind === 'remote') throw failure;
    return undefined;
  }

  async delete(requested: ResolvedName, digest: Digest): Promise<void> {
    const name = this.repos.writeTarget(requested);
    if (!(await this.meta.blobs.unlink(name.repository.key, name.image, digest))) {
      throw new OciError('BLOB_UNKNOWN', `blob ${digest} is not in ${fullName(name)}`);
    }
  }

  /** Monolithic upload: the whole blob in one request. */
  async putWhole(
    requested: ResolvedName,
    digest: Digest,
    body: Readable,
    size: number | undefined,
    signal: AbortSignal,
  ) {
    const name = this.repos.writeTarget(requested);
    if (size !== undefined) await this.quota?.checkAdd(name.repository, digest, size);
    const stored = await this.blobs.put(digest, body, { ...(size === undefined ? {} : { size }), signal });
    await this.quota?.checkAdd(name.repository, digest, stored.size);
    await this.meta.blobs.link(name.repository.key, name.image, digest, stored.size);
    await this.confirmStored(name, digest);
    return stored;
  }

  /**
   * Links a blob that `from` holds into `name` without moving bytes. Through a virtual `from`
   * only members `readable` accepts count: the source is the member that actually holds the
   * blob, and the caller must be able to read it there. Returns false when `from` is not a name
   * of this instance or no such member holds the blob (the caller then starts a normal upload,
   * and learns nothing about what an unreadable member holds).
   */
  async mount(
    requested: ResolvedName,
    digest: Digest,
    from: ResolvedName | undefined,
    readable: MemberCheck,
  ): Promise<boolean> {
    if (!from) return false;
    const name = this.repos.writeTarget(requested);
    const size = (await this.holder(from, digest, readable).catch(() => undefined))?.size;
    if (size === undefined || (await this.blobs.stat(digest)) === undefined) return false;
    await this.quota?.checkAdd(name.repository, digest, size);
    try {
      await this.meta.blobs.link(name.repository.key, name.image, digest, size);
    } catch (error) {
      // Collected between the check and the link: the client falls back to an upload.
      if (error instanceof BlobCollectedError) return false;
      throw error;
    }
    return this.confirmStored(name, digest).then(
      () => true,
      (error: unknown) => {
        if (error instanceof BlobCollectedError) return false;
        throw error;
      },
    );
  }

  /**
   * For a manifest pushed through a virtual repository: links into the deployment repository
   * the missing blobs that another member `readable` accepts holds (metadata only, as a mount
   * would). Pushing clients ask for a blob through the address they push to (`HEAD
   * docker/…/blobs/…`), which answers from every readable member, and then skip the upload; so
   * a layer held only by a later stage would otherwise make the manifest unknown-blob forever.
   * Returns whether anything was linked. Missing child manifests are left alone: clients push them.
   */
  async adoptFromMembers(
    requested: ResolvedName,
    missing: readonly Digest[],
    readable: MemberCheck,
  ): Promise<boolean> {
    if (requested.repository.kind !== 'virtual') return false;
    const name = this.repos.writeTarget(requested);
    let linked = false;
    for (const digest of missing) {
      for (const member of this.repos.readTargets(requested, readable)) {
        // Remote members are left out: adopting must not fetch layers from upstream on a push.
        if (member.repository.kind !== 'local' || member.repository.key === name.repository.key) continue;
        const size = await this.meta.blobs.get(member.repository.key, member.image, digest);
        if (size === undefined || (await this.blobs.stat(digest)) === undefined) continue;
        await this.quota?.checkAdd(name.repository, digest, size);
        try {
          await this.meta.blobs.link(name.repository.key, name.image, digest, size);
        } catch (error) {
          if (error instanceof BlobCollectedError) continue;
          throw error;
        }
        if ((await this.blobs.stat(digest)) === undefined) {
          // Collected before the link committed (see confirmStored): not held after all.
          await this.meta.blobs.unlink(name.repository.key, name.image, digest);
          continue;
        }
        linked = true;
        break;
      }
    }
    return linked;
  }

  async startUpload(requested: ResolvedName): Promise<UploadState> {
    const name = this.repos.writeTarget(requested);
    await this.quota?.checkRoom(name.repository);
    const id = randomUUID();
    await this.blobs.uploads.start(id);
    await this.meta.uploads.create({
      id,
      repository: name.repository.key,
      image: name.image,
      startedAt: new Date().toISOString(),
    });
    return { id, size: 0 };
  }

  /** Current state of an upload that belongs to `name`; BLOB_UPLOAD_UNKNOWN otherwise. */
  async uploadState(requested: ResolvedName, id: string): Promise<UploadState> {
    const name = this.repos.writeTarget(requested);
    const record = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await this.meta.uploads.get(id) : undefined;
    const size = record ? await this.blobs.uploads.size(id) : undefined;
    if (
      !record ||
      record.repository !== name.repository.key ||
      record.image !== name.image ||
      size === undefined
    ) {
      throw new OciError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not in progress for ${fullName(name)}`);
    }
    return { id, size };
  }

  /** Appends a chunk; `offset` is where the client says it starts (default: the current end). */
  async append(
    name: ResolvedName,
    id: string,
    body: Readable,
    options: { offset?: number; length?: number; signal: AbortSignal },
  ): Promise<UploadState> {
    const state = await this.uploadState(name, id);
    const offset = options.offset ?? state.size;
    const result = await this.blobs.uploads.append(id, body, {
      offset,
      ...(options.length === undefined ? {} : { maxBytes: options.length }),
      signal: options.signal,
    });
    if (options.length !== undefined && result.size - offset !== options.length) {
      throw new OciError(
        'SIZE_INVALID',
        `chunk was ${result.size - offset} bytes but Content-Length said ${options.length}`,
      );
    }
    return { id, size: result.size };
  }

  async finishUpload(
    name: ResolvedName,
    id: string,
    digest: Digest,
    signal: AbortSignal,
  ): Promise<{ size: number }> {
    const state = await this.uploadState(name, id);
    // Refused before the bytes become a blob; the upload stays open (the client may retry once
    // space is freed, or cancel) and the janitor ends it when abandoned.
    await this.quota?.checkAdd(this.repos.writeTarget(name).repository, digest, state.size);
    const { size } = await this.blobs.uploads.finish(id, digest, signal);
    try {
      await this.meta.uploads.complete(id, digest, size);
    } catch (error) {
      // Garbage collection is deleting these very bytes (BlobCollectedError): the upload's data
      // is spent, so the session ends and the client uploads again.
      if (error instanceof BlobCollectedError) await this.meta.uploads.delete(id);
      throw error;
    }
    await this.confirmStored(this.repos.writeTarget(name), digest);
    return { size };
  }

  /**
   * After a link commits, the bytes must still be there. Garbage collection deletes a blob's file
   * only once no row names it (behind a tombstone that refuses new links), so a file missing now
   * was deleted before this link committed: between a put that found the file present (and kept
   * it) and this link, a run removed it and cleared its tombstone. The link is taken back and the
   * client uploads again (BLOB_UPLOAD_INVALID). Once the link has committed no run can start on
   * the digest, so a file present now stays.
   */
  private async confirmStored(name: ResolvedName, digest: Digest): Promise<void> {
    if ((await this.blobs.stat(digest)) !== undefined) return;
    await this.meta.blobs.unlink(name.repository.key, name.image, digest);
    throw new BlobCollectedError(digest);
  }

  async cancelUpload(name: ResolvedName, id: string): Promise<void> {
    await this.uploadState(name, id);
    await this.meta.uploads.delete(id);
    await this.blobs.uploads.cancel(id);
  }
}

export function fullName(name: ResolvedName): string {
  return `${name.repository.key}/${name.image}`;
}
