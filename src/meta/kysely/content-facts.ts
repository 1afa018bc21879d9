import type { Digest } from '../../oci/digest.ts';
import type { ContentFact, Location } from '../promotion-records.ts';
import type { ContentFactMeta } from '../promotion-store.ts';
import { chunks, type QueryContext } from './context.ts';
import { locations } from './manifests.ts';

export class KyselyContentFactMeta implements ContentFactMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** Facts recorded before stay as they are (the content of a digest never changes). */
  async record(digest: Digest, facts: readonly ContentFact[]): Promise<void> {
    if (facts.length === 0) return;
    const rows = facts.map(({ source, key, value }) => ({ digest, source, key, value }));
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const part of chunks(rows)) {
        await trx
          .insertInto('content_facts')
          .values(part)
          .onConflict((oc) => oc.columns(['digest', 'source', 'key', 'value']).doNothing())
          .execute();
      }
    });
  }

  /** By source, then key and value in byte order. */
  async get(digest: Digest): Promise<ContentFact[]> {
    const rows = await this.ctx.db
      .selectFrom('content_facts')
      .select(['source', 'key', 'value'])
      .where('digest', '=', digest)
      .orderBy('source')
      .orderBy('key')
      .orderBy('value')
      .execute();
    return rows.map((r) => ({ source: r.source as ContentFact['source'], key: r.key, value: r.value }));
  }

  /**
   * Manifests whose digest is in the digests of each condition (read from the
   * content_facts_fact index), in byte order of repository, image and digest.
   */
  async find(
    conditions: readonly { source: ContentFact['source']; key: string; value?: string }[],
    options: { repositories?: readonly string[]; limit: number },
  ): Promise<Location[]> {
    if (options.repositories !== undefined && options.repositories.length === 0) return [];
    let query = locations(this.ctx.db).limit(options.limit);
    const all = conditions.length === 0 ? [undefined] : conditions;
    for (const condition of all) {
      query = query.where('m.digest', 'in', (eb) => {
        let facts = eb.selectFrom('content_facts as f').select('f.digest');
        if (condition === undefined) return facts;
        facts = facts.where('f.source', '=', condition.source).where('f.key', '=', condition.key);
        return condition.value === undefined ? facts : facts.where('f.value', '=', condition.value);
      });
    }
    if (options.repositories !== undefined) {
      query = query.where('m.repository', 'in', [...options.repositories]);
    }
    const rows = await query.execute();
    return rows.map((r) => ({ repository: r.repository, image: r.image, digest: r.digest as Digest }));
  }
}
