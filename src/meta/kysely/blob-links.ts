import type { Kysely } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { BlobLinkMeta } from '../metadata-store.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext, translate } from './context.ts';
import { refuseCollected } from './gc.ts';
import { countLinksAdded, countLinksRemoved } from './usage.ts';

export interface BlobLink {
  repository: string;
  image: string;
  digest: string;
  size: number;
  createdAt: string;
}

/**
 * Links blobs to names inside the caller's transaction; a link that exists keeps its row (and
 * its size and time). The repositories' usage counts the links actually inserted. Throws
 * BlobCollectedError, and links nothing, when garbage collection is deleting one of the blobs.
 */
export async function linkBlobs(trx: Kysely<Database>, links: readonly BlobLink[]): Promise<void> {
  await refuseCollected(
    trx,
    links.map((l) => l.digest),
  );
  for (const part of chunks(links)) {
    const inserted = await trx
      .insertInto('blob_links')
      .values(
        part.map(({ repository, image, digest, size, createdAt }) => ({
          ...{ repository, image, digest, size },
          created_at: createdAt,
        })),
      )
      .onConflict((oc) => oc.columns(['repository', 'image', 'digest']).doNothing())
      .returning(['repository', 'image', 'digest', 'size'])
      .execute();
    await countLinksAdded(trx, inserted);
  }
}

export class KyselyBlobLinkMeta implements BlobLinkMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** A second link of the same digest keeps the first row (and its size and time). */
  async link(repository: string, image: string, digest: Digest, size: number): Promise<void> {
    const row = { repository, image, digest, size, createdAt: this.ctx.now().toISOString() };
    await translate(this.ctx, { repository, conflict: `blob link ${digest}` }, () =>
      this.ctx.db.transaction().execute((trx) => linkBlobs(trx, [row])),
    );
  }

  async get(repository: string, image: string, digest: Digest): Promise<number | undefined> {
    const row = await this.ctx.db
      .selectFrom('blob_links')
      .select('size')
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row && Number(row.size);
  }

  async linksAny(repository: string, image: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('blob_links')
      .select('digest')
      .where('repository', '=', repository)
      .where('image', '=', image)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async unlink(repository: string, image: string, digest: Digest): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom('blob_links')
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('digest', '=', digest)
        .returning(['repository', 'image', 'digest', 'size'])
        .execute();
      await countLinksRemoved(trx, removed);
      return removed.length > 0;
    });
  }

  /** One statement over three digest indexes: links, manifest references, manifest rows. */
  async isReferenced(digest: Digest): Promise<boolean> {
    const { db } = this.ctx;
    const row = await db
      .selectNoFrom((eb) =>
        eb
          .or([
            eb.exists(db.selectFrom('blob_links').select('digest').where('digest', '=', digest)),
            eb.exists(db.selectFrom('manifest_refs').select('ref_digest').where('ref_digest', '=', digest)),
            eb.exists(db.selectFrom('manifests').select('digest').where('digest', '=', digest)),
          ])
          .as('referenced'),
      )
      .executeTakeFirstOrThrow();
    // SQLite answers 0/1, PostgreSQL true/false.
    return row.referenced === true || row.referenced === 1;
  }
}
