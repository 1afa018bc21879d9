import type { Digest } from '../../oci/digest.ts';
import type { TagMoveMeta } from '../promotion-store.ts';
import type { TagCause } from '../records.ts';
import type { QueryContext } from './context.ts';
import { requireManifest } from './manifests.ts';
import { moveTag } from './tags.ts';

export class KyselyTagMoveMeta implements TagMoveMeta {
  constructor(private readonly ctx: QueryContext) {}

  async move(
    repository: string,
    image: string,
    tag: string,
    digest: Digest,
    actor: string,
    cause: TagCause,
  ): Promise<{ previousDigest?: Digest }> {
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      await requireManifest(trx, { repository, image, digest });
      const previousDigest = await moveTag(trx, { repository, image, tag, digest, actor, cause, at });
      return previousDigest === undefined ? {} : { previousDigest };
    });
  }
}
