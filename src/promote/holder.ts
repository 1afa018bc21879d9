import type { MetadataStore } from '../meta/metadata-store.ts';
import type { ManifestRecord, RepositoryRecord } from '../meta/records.ts';
import type { Digest } from '../oci/digest.ts';
import type { RepositoryService } from '../repos/repository-service.ts';

/**
 * The repository that stores a digest under an image name: the repository itself, or for a
 * virtual one its first member (in resolution order) that holds it, as a pull would find it.
 */
export async function holderOf(
  meta: MetadataStore,
  repos: RepositoryService,
  where: { repository: RepositoryRecord; image: string; digest: Digest },
): Promise<{ repository: RepositoryRecord; record: ManifestRecord } | undefined> {
  for (const { repository } of repos.readTargets({ repository: where.repository, image: where.image })) {
    const record = await meta.manifests.get(repository.key, where.image, where.digest);
    if (record) return { repository, record };
  }
  return undefined;
}
