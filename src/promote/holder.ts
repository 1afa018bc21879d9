import type { MetadataStore } from '../meta/metadata-store.ts';
import type { ManifestRecord, RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import type { MemberCheck, RepositoryService } from '../repos/repository-service.ts';

/**
 * The repository that stores a digest under an image name: the repository itself, or for a
 * virtual one its first member (in resolution order) that `readable` accepts and that holds it,
 * as a pull by that caller would find it.
 */
export async function holderOf(
  meta: MetadataStore,
  repos: RepositoryService,
  where: { repository: RepositoryRecord; image: string; digest: Digest },
  readable: MemberCheck,
): Promise<{ repository: RepositoryRecord; record: ManifestRecord } | undefined> {
  const name = { repository: where.repository, image: where.image };
  for (const { repository } of repos.readTargets(name, readable)) {
    const record = await meta.manifests.get(repository.key, where.image, where.digest);
    if (record) return { repository, record };
  }
  return undefined;
}
