import type { Digest } from '../../oci/digest.ts';
import type {
  InventoryManifest,
  LifecycleMeta,
  PullRecord,
  RetentionInventory,
  UsageFigures,
} from '../lifecycle-store.ts';
import { chunks, type QueryContext } from './context.ts';

export class KyselyLifecycleMeta implements LifecycleMeta {
  constructor(private readonly ctx: QueryContext) {}

  async recordPulls(pulls: readonly PullRecord[]): Promise<void> {
    if (pulls.length === 0) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const part of chunks(pulls, 300)) {
        await trx
          .insertInto('manifest_pulls')
          .values(part.map((p) => ({ repository: p.repository, digest: p.digest, last_pulled_at: p.at })))
          .onConflict((oc) =>
            oc.columns(['repository', 'digest']).doUpdateSet((eb) => ({
              // ISO 8601 in UTC compares as text; CASE rather than max(), spelled alike everywhere.
              last_pulled_at: eb
                .case()
                .when('manifest_pulls.last_pulled_at', '<', eb.ref('excluded.last_pulled_at'))
                .then(eb.ref('excluded.last_pulled_at'))
                .else(eb.ref('manifest_pulls.last_pulled_at'))
                .end(),
            })),
          )
          .execute();
      }
    });
  }

  async inventory(
    repository: string,
    options: { laterStages: readonly string[]; propertyKeys: readonly string[] },
  ): Promise<RetentionInventory> {
    const db = this.ctx.db;
    const rows = await db
      .selectFrom('manifests')
      .select(['image', 'digest', 'media_type', 'created_at', 'subject'])
      .where('repository', '=', repository)
      .execute();
    const byKey = new Map<string, InventoryManifest>();
    const key = (image: string, digest: string) => `${image}\n${digest}`;
    for (const r of rows) {
      byKey.set(key(r.image, r.digest), {
        image: r.image,
        digest: r.digest as Digest,
        mediaType: r.media_type,
        createdAt: r.created_at,
        ...(r.subject ? { subject: r.subject as Digest } : {}),
        children: [],
        properties: {},
      });
    }
    const refs = await db
      .selectFrom('manifest_refs')
      .select(['image', 'digest', 'ref_digest'])
      .where('repository', '=', repository)
      .where('kind', '=', 'manifest')
      .execute();
    for (const r of refs) byKey.get(key(r.image, r.digest))?.children.push(r.ref_digest as Digest);
    if (options.propertyKeys.length > 0) {
      const props = await db
        .selectFrom('properties')
        .select(['image', 'digest', 'key', 'value'])
        .where('repository', '=', repository)
        .where('key', 'in', options.propertyKeys)
        .execute();
      for (const p of props) {
        const m = byKey.get(key(p.image, p.digest));
        if (m) m.properties[p.key] = [...(m.properties[p.key] ?? []), p.value];
      }
    }
    const pulls = await db
      .selectFrom('manifest_pulls')
      .select(['digest', 'last_pulled_at'])
      .where('repository', '=', repository)
      .execute();
    const pulled = new Map(pulls.map((p) => [p.digest, p.last_pulled_at]));
    for (const m of byKey.values()) {
      const at = pulled.get(m.digest);
      if (at !== undefined) m.lastPulledAt = at;
    }
    const tags = await db
      .selectFrom('tags')
      .select(['image', 'tag', 'digest', 'updated_at'])
      .where('repository', '=', repository)
      .execute();
    return {
      manifests: [...byKey.values()],
      tags: tags.map((t) => ({
        image: t.image,
        tag: t.tag,
        digest: t.digest as Digest,
        updatedAt: t.updated_at,
      })),
      elsewhere: await this.elsewhere(repository, options.laterStages),
    };
  }

  /** Digests of `repository` held by a later stage, or promoted from it, with where. */
  private async elsewhere(
    repository: string,
    laterStages: readonly string[],
  ): Promise<Map<Digest, string[]>> {
    const db = this.ctx.db;
    const out = new Map<Digest, string[]>();
    const add = (digest: string, where: string) => {
      const list = out.get(digest as Digest) ?? [];
      if (!list.includes(where)) list.push(where);
      out.set(digest as Digest, list);
    };
    const here = db.selectFrom('manifests').select('digest').where('repository', '=', repository);
    const stages = laterStages.filter((s) => s !== repository);
    if (stages.length > 0) {
      const held = await db
        .selectFrom('manifests')
        .select(['repository', 'digest'])
        .distinct()
        .where('repository', 'in', stages)
        .where('digest', 'in', here)
        .execute();
      for (const h of held) add(h.digest, h.repository);
    }
    const promoted = await db
      .selectFrom('promotions')
      .select(['target_repository', 'digest'])
      .distinct()
      .where('source_repository', '=', repository)
      .where('outcome', '=', 'promoted')
      .execute();
    for (const p of promoted) add(p.digest, p.target_repository);
    return out;
  }

  async usedBytes(repository: string): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('repository_usage')
      .select('size_bytes')
      .where('repository', '=', repository)
      .executeTakeFirst();
    return Number(row?.size_bytes ?? 0);
  }

  async linkedIn(repository: string, digest: Digest): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('blob_links')
      .select('digest')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async usage(repositories?: readonly string[]): Promise<UsageFigures> {
    const db = this.ctx.db;
    let keysQuery = db.selectFrom('repository_usage').select(['repository', 'size_bytes']);
    if (repositories !== undefined) {
      if (repositories.length === 0)
        return { repositories: new Map(), total: { logicalBytes: 0, uniqueBytes: 0 } };
      keysQuery = keysQuery.where('repository', 'in', repositories);
    }
    const unique = await keysQuery.orderBy('repository').execute();
    const keys = unique.map((u) => u.repository);
    // Logical: every manifest counts every blob it references, as if nothing were shared.
    const logical = new Map<string, number>();
    for (const part of chunks(keys)) {
      const rows = await db
        .selectFrom('manifest_refs as r')
        .innerJoin('blob_links as b', (join) =>
          join
            .onRef('b.repository', '=', 'r.repository')
            .onRef('b.image', '=', 'r.image')
            .onRef('b.digest', '=', 'r.ref_digest'),
        )
        .select((eb) => ['r.repository', eb.fn.sum<number | string>('b.size').as('bytes')])
        .where('r.kind', '=', 'blob')
        .where('r.repository', 'in', part)
        .groupBy('r.repository')
        .execute();
      for (const r of rows) logical.set(r.repository, Number(r.bytes ?? 0));
    }
    const perRepository = new Map<string, { logicalBytes: number; uniqueBytes: number }>();
    let logicalTotal = 0;
    for (const u of unique) {
      const l = logical.get(u.repository) ?? 0;
      logicalTotal += l;
      perRepository.set(u.repository, { logicalBytes: l, uniqueBytes: Number(u.size_bytes) });
    }
    // Unique over all of them: a blob shared by two repositories is stored, and counted, once.
    let distinct = db
      .selectFrom('blob_links')
      .select((eb) => ['digest', eb.fn.max('size').as('size')])
      .groupBy('digest');
    if (repositories !== undefined) distinct = distinct.where('repository', 'in', keys);
    const total = await db
      .selectFrom(distinct.as('d'))
      .select((eb) => eb.fn.sum<number | string>('d.size').as('bytes'))
      .executeTakeFirst();
    return {
      repositories: perRepository,
      total: { logicalBytes: logicalTotal, uniqueBytes: Number(total?.bytes ?? 0) },
    };
  }
}
