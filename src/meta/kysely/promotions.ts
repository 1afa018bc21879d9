import type { Kysely, Selectable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { PromotionQuery, PromotionRecord } from '../promotion-records.ts';
import type { PromoteInput, PromotionMeta } from '../promotion-store.ts';
import type { ManifestReference, TagCause } from '../records.ts';
import type { Database, ManifestsTable } from '../schema.ts';
import { linkBlobs } from './blob-links.ts';
import { chunks, type QueryContext, translate } from './context.ts';
import {
  deleteManifests,
  insertManifest,
  locations,
  requireManifest,
  requireRepository,
} from './manifests.ts';
import { appendEvents, imageSubject } from './outbox.ts';
import { deleteProperties, insertProperties, toProperties } from './properties.ts';
import { fromPromotion, toManifest, toPromotion } from './rows.ts';
import { moveTag } from './tags.ts';

/** An OCI name: an image inside a repository. */
interface Name {
  repository: string;
  image: string;
}

export class KyselyPromotionMeta implements PromotionMeta {
  constructor(private readonly ctx: QueryContext) {}

  /**
   * The whole promotion is one transaction; UnknownManifestError (source) and
   * UnknownRepositoryError (target) leave nothing behind. Promoting within one name copies
   * nothing and, even in `move` mode, removes nothing: it only moves tags.
   */
  async promote(
    input: PromoteInput,
  ): Promise<{ copied: Digest[]; tags: { tag: string; previousDigest?: Digest }[] }> {
    const { source, target, digest, actor } = input;
    const at = this.ctx.now().toISOString();
    const sameName = source.repository === target.repository && source.image === target.image;
    const on = { repository: target.repository, conflict: `promotion of ${digest}` };
    return translate(this.ctx, on, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await requireManifest(trx, { ...source, digest });
        await requireRepository(trx, target.repository);
        const closure = await closureOf(trx, source, digest);
        const copied = await copyManifests(trx, source, target, closure, at);
        const tags: { tag: string; previousDigest?: Digest }[] = [];
        for (const tag of new Set(input.tags)) {
          const move = { ...target, tag, digest, actor, cause: 'promotion' as const, at };
          const previousDigest = await moveTag(trx, move);
          tags.push(previousDigest === undefined ? { tag } : { tag, previousDigest });
        }
        if (input.copyProperties && !sameName) await copyProperties(trx, source, target, closure);
        if (input.mode === 'move' && !sameName) {
          const by = { actor, cause: 'promotion' as const, at };
          const removed = await removableFromSource(trx, source, closure);
          await carryTags(
            trx,
            { source, target },
            removed.filter((d) => d !== digest),
            by,
          );
          await deleteManifests(trx, source, removed, by);
        }
        await insertPromotion(trx, { ...input.record, outcome: 'promoted' });
        return { copied, tags };
      }),
    );
  }

  async recordRefusal(record: Omit<PromotionRecord, 'id'>): Promise<void> {
    await this.ctx.db.transaction().execute((trx) => insertPromotion(trx, { ...record, outcome: 'refused' }));
  }

  /**
   * Newest first by id. `repository` and `image` each match the source or the target; given
   * together they match the source name or the target name (`dev` + `app`: promotions from or
   * to dev/app, not from dev/lib to prod/app).
   */
  async list(query: PromotionQuery): Promise<PromotionRecord[]> {
    let select = this.ctx.db.selectFrom('promotions').selectAll().orderBy('id', 'desc').limit(query.limit);
    if (query.digest !== undefined) select = select.where('digest', '=', query.digest);
    if (query.outcome !== undefined) select = select.where('outcome', '=', query.outcome);
    if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
    const { repository, image } = query;
    if (repository !== undefined && image !== undefined) {
      select = select.where((eb) =>
        eb.or([
          eb.and([eb('source_repository', '=', repository), eb('source_image', '=', image)]),
          eb.and([eb('target_repository', '=', repository), eb('target_image', '=', image)]),
        ]),
      );
    } else if (repository !== undefined) {
      select = select.where((eb) =>
        eb.or([eb('source_repository', '=', repository), eb('target_repository', '=', repository)]),
      );
    } else if (image !== undefined) {
      select = select.where((eb) => eb.or([eb('source_image', '=', image), eb('target_image', '=', image)]));
    }
    return (await select.execute()).map(toPromotion);
  }

  async locate(digest: Digest): Promise<{ repository: string; image: string }[]> {
    const rows = await locations(this.ctx.db).where('m.digest', '=', digest).execute();
    return rows.map(({ repository, image }) => ({ repository, image }));
  }
}

/** The promotion row and its event (promotion.done or promotion.refused, with every gate). */
async function insertPromotion(db: Kysely<Database>, record: Omit<PromotionRecord, 'id'>): Promise<void> {
  const row = await db
    .insertInto('promotions')
    .values(fromPromotion(record))
    .returning('id')
    .executeTakeFirst();
  const { targetRepository: repository, targetImage: image } = record;
  const data = {
    id: row === undefined ? null : Number(row.id),
    digest: record.digest,
    source: { repository: record.sourceRepository, image: record.sourceImage },
    target: { repository, image },
    tags: record.tags,
    mode: record.mode,
    comment: record.comment,
    gates: record.gates,
    failedGates: record.gates.filter((g) => !g.passed),
    actor: record.actor,
  };
  const type = record.outcome === 'promoted' ? 'io.gantry.promotion.done' : 'io.gantry.promotion.refused';
  const subject = imageSubject(repository, image);
  await appendEvents(db, record.at, [{ type, repository, image, subject, actor: record.actor, data }]);
}

/**
 * The digest and, level by level, the manifests the name holds that it reaches: manifests
 * referenced by a manifest in the set (an index's children) and manifests whose subject is in
 * the set (referrers: signatures, SBOMs, and their own referrers). Root first; each level's
 * children, then its referrers, by digest. A child the name no longer holds is left out.
 */
async function closureOf(trx: Kysely<Database>, name: Name, root: Digest): Promise<Digest[]> {
  const seen = new Set<string>([root]);
  const order: Digest[] = [root];
  let level: Digest[] = [root];
  while (level.length > 0) {
    const found: string[] = [];
    for (const part of chunks(level)) {
      const children = await trx
        .selectFrom('manifest_refs as r')
        .innerJoin('manifests as m', (join) =>
          join
            .onRef('m.repository', '=', 'r.repository')
            .onRef('m.image', '=', 'r.image')
            .onRef('m.digest', '=', 'r.ref_digest'),
        )
        .select('r.ref_digest as digest')
        .where('r.repository', '=', name.repository)
        .where('r.image', '=', name.image)
        .where('r.digest', 'in', part)
        .where('r.kind', '=', 'manifest')
        .orderBy('r.ref_digest')
        .execute();
      const referrers = await trx
        .selectFrom('manifests')
        .select('digest')
        .where('repository', '=', name.repository)
        .where('image', '=', name.image)
        .where('subject', 'in', part)
        .orderBy('digest')
        .execute();
      found.push(...children.map((r) => r.digest), ...referrers.map((r) => r.digest));
    }
    level = [];
    for (const digest of found) {
      if (seen.has(digest)) continue;
      seen.add(digest);
      level.push(digest as Digest);
      order.push(digest as Digest);
    }
  }
  return order;
}

/**
 * Copies the manifests of `digests` that the target does not hold yet, with their references
 * and the blob links those need (sized as in the source; a blob the source no longer links is
 * not linked either). Returns the copied digests in the given order.
 */
async function copyManifests(
  trx: Kysely<Database>,
  source: Name,
  target: Name,
  digests: readonly Digest[],
  at: string,
): Promise<Digest[]> {
  const rows = new Map<string, Selectable<ManifestsTable>>();
  const present = new Set<string>();
  for (const part of chunks(digests)) {
    for (const row of await inName(trx, 'manifests', source, part).selectAll().execute()) {
      rows.set(row.digest, row);
    }
    for (const row of await inName(trx, 'manifests', target, part).select('digest').execute()) {
      present.add(row.digest);
    }
  }
  const copied = digests.filter((d) => rows.has(d) && !present.has(d));
  const references = new Map<string, ManifestReference[]>(copied.map((d) => [d, []]));
  for (const part of chunks(copied)) {
    const refs = await inName(trx, 'manifest_refs', source, part)
      .select(['digest', 'ref_digest', 'kind'])
      .execute();
    for (const ref of refs) {
      references.get(ref.digest)?.push({ digest: ref.ref_digest as Digest, kind: ref.kind as 'blob' });
    }
  }
  const blobs = [
    ...new Set([...references.values()].flat().flatMap((r) => (r.kind === 'blob' ? [r.digest] : []))),
  ];
  for (const part of chunks(blobs)) {
    const links = await inName(trx, 'blob_links', source, part).select(['digest', 'size']).execute();
    await linkBlobs(
      trx,
      links.map((l) => ({ ...target, digest: l.digest, size: Number(l.size), createdAt: at })),
    );
  }
  for (const digest of copied) {
    const row = rows.get(digest);
    if (row === undefined) continue;
    const record = { ...toManifest(row), ...target, createdAt: at };
    await insertManifest(trx, record, references.get(digest) ?? []);
  }
  return copied;
}

/**
 * Gives the target the properties the source has on each digest: for every key the source
 * has, the target gets exactly the source's values; keys only the target has stay.
 */
async function copyProperties(
  trx: Kysely<Database>,
  source: Name,
  target: Name,
  digests: readonly Digest[],
): Promise<void> {
  const byDigest = new Map<string, { key: string; value: string }[]>();
  for (const part of chunks(digests)) {
    const rows = await inName(trx, 'properties', source, part).select(['digest', 'key', 'value']).execute();
    for (const { digest, key, value } of rows) {
      const list = byDigest.get(digest);
      if (list === undefined) byDigest.set(digest, [{ key, value }]);
      else list.push({ key, value });
    }
  }
  for (const [digest, rows] of byDigest) {
    const properties = toProperties(rows);
    await deleteProperties(trx, { ...target, digest }, Object.keys(properties));
    await insertProperties(trx, { ...target, digest }, properties);
  }
}

/**
 * The promoted manifests a move removes from the source (deleting them takes every tag pointing
 * at them, as events, and their properties; blob links stay for garbage collection). A manifest
 * another manifest of the source still references (a child shared with an index that was not
 * promoted) stays, with what it references in turn.
 */
async function removableFromSource(
  trx: Kysely<Database>,
  source: Name,
  closure: readonly Digest[],
): Promise<Digest[]> {
  const removed = new Set<string>(closure);
  for (;;) {
    const kept: string[] = [];
    for (const part of chunks([...removed])) {
      const parents = await trx
        .selectFrom('manifest_refs')
        .select(['digest', 'ref_digest'])
        .where('repository', '=', source.repository)
        .where('image', '=', source.image)
        .where('ref_digest', 'in', part)
        .where('kind', '=', 'manifest')
        .execute();
      for (const { digest, ref_digest } of parents) if (!removed.has(digest)) kept.push(ref_digest);
    }
    if (kept.length === 0) break;
    for (const digest of kept) removed.delete(digest);
  }
  return closure.filter((d) => removed.has(d));
}

/**
 * A move takes along the tags of the manifests it removes besides the promoted one (a signature
 * or SBOM pushed with a tag, a child tagged on its own): without this they would vanish from the
 * source and never reach the target. The promoted digest's tags are the request's to choose.
 * A tag the target already has for other content stays as it is: moving it is a tag move the
 * caller did not ask for (and may lack `delete` for); the referrer still arrives, by digest and
 * through the referrers API.
 */
async function carryTags(
  trx: Kysely<Database>,
  names: { source: Name; target: Name },
  digests: readonly Digest[],
  by: { actor: string; cause: TagCause; at: string },
): Promise<void> {
  for (const part of chunks(digests)) {
    const rows = await trx
      .selectFrom('tags')
      .select(['tag', 'digest'])
      .where('repository', '=', names.source.repository)
      .where('image', '=', names.source.image)
      .where('digest', 'in', part)
      .orderBy('tag')
      .execute();
    for (const { tag, digest } of rows) {
      const current = await trx
        .selectFrom('tags')
        .select('digest')
        .where('repository', '=', names.target.repository)
        .where('image', '=', names.target.image)
        .where('tag', '=', tag)
        .executeTakeFirst();
      if (current !== undefined && current.digest !== digest) continue;
      await moveTag(trx, { ...names.target, tag, digest: digest as Digest, ...by });
    }
  }
}

/** Rows of `table` in the name with one of the digests. */
function inName(
  trx: Kysely<Database>,
  table: 'manifests' | 'manifest_refs' | 'blob_links' | 'properties',
  name: Name,
  digests: readonly string[],
) {
  return trx
    .selectFrom(table)
    .where('repository', '=', name.repository)
    .where('image', '=', name.image)
    .where('digest', 'in', digests);
}
