import type { LifecycleMeta } from '../meta/lifecycle-store.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { quotaOf } from './lifecycle-settings.ts';

/**
 * Storage quotas of local repositories (settings.quota): the unique blob bytes a repository
 * links may not pass `bytes`. Checked where that figure grows, before the blob link is written
 * (upload completion, monolithic upload, mount, adoption through a virtual repository), and
 * once more at the manifest PUT, the commit point of a push.
 *
 * Races: two uploads checked at the same moment can each fit and together pass the limit
 * (each check reads the committed usage row, then links). The manifest PUT check closes that:
 * a repository over its limit accepts no new manifest until something is removed, so the
 * overshoot is at most the blobs of the pushes in flight and never becomes a pullable image.
 */
export class QuotaGuard {
  constructor(private readonly meta: LifecycleMeta) {}

  /** DENIED when linking `digest` (`size` bytes) into the repository would pass its quota. */
  async checkAdd(repo: RepositoryRecord, digest: Digest, size: number): Promise<void> {
    const quota = quotaOf(repo);
    if (quota === undefined) return;
    const used = await this.meta.usedBytes(repo.key);
    if (used + size <= quota.bytes) return;
    // A digest the repository links already adds nothing (blobs count once per repository).
    if (await this.meta.linkedIn(repo.key, digest)) return;
    throw exceeded(repo.key, used, quota.bytes, { adding: size, digest });
  }

  /** DENIED for a new upload into a repository already full, before the client sends bytes. */
  async checkRoom(repo: RepositoryRecord): Promise<void> {
    const quota = quotaOf(repo);
    if (quota === undefined) return;
    const used = await this.meta.usedBytes(repo.key);
    if (used >= quota.bytes) throw exceeded(repo.key, used, quota.bytes, {});
  }

  /** DENIED for a manifest PUT into a repository already over its quota. */
  async checkCommit(repo: RepositoryRecord): Promise<void> {
    const quota = quotaOf(repo);
    if (quota === undefined) return;
    const used = await this.meta.usedBytes(repo.key);
    if (used > quota.bytes) throw exceeded(repo.key, used, quota.bytes, {});
  }
}

function exceeded(repository: string, used: number, limit: number, extra: Record<string, unknown>): OciError {
  return new OciError(
    'DENIED',
    `quota exceeded: ${used}/${limit} bytes in ${repository}; delete images or ask an administrator to raise settings.quota.bytes`,
    { reason: 'quota', repository, used, limit, ...extra },
  );
}
