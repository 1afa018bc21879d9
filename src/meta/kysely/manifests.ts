import type { Kysely } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { DomainEvent } from '../event-records.ts';
import {
  type ImageSummary,
  type ManifestMeta,
  MissingReferencesError,
  type PutManifest,
  UnknownRepositoryError,
} from '../metadata-store.ts';
import type { Location } from '../promotion-records.ts';
import { UnknownManifestError } from '../promotion-store.ts';
import type { ManifestRecord, ManifestReference, Page, TagCause, TagEvent } from '../records.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext, translate } from './context.ts';
import { refuseCollected } from './gc.ts';
import { appendEvents, imageSubject } from './outbox.ts';
import { byteOrder } from './principals.ts';
import { fromManifest, toManifest } from './rows.ts';
import { appendTagEvents, moveTag } from './tags.ts';
import { countManifestPut, countManifestsDeleted } from './usage.ts';

export class KyselyManifestMeta implements ManifestMeta {
  constructor(private readonly ctx: QueryContext) {}

  // The manifest row (with its tag) is the commit point of a push: it is written last by the
  // caller, after blobs and manifest bytes are durable, and all of it in this one transaction.
  async put({ record, references, tag }: PutManifest): Promise<{ previousDigest?: Digest }> {
    const refs = distinctReferences(references);
    const at = this.ctx.now().toISOString();
    const target = { repository: record.repository, conflict: `manifest ${record.digest}` };
    return translate(this.ctx, target, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await requireRepository(trx, record.repository);
        const missing = await missingReferences(trx, record, refs);
        if (missing.length > 0) throw new MissingReferencesError(missing);
        await insertManifest(trx, record, refs);
        await appendEvents(trx, at, [pushedEvent(record, tag?.name, tag?.actor)]);
        if (tag === undefined) return {};
        const { repository, image, digest } = record;
        const move = { repository, image, digest, tag: tag.name, actor: tag.actor, cause: tag.cause, at };
        const previousDigest = await moveTag(trx, move);
        return previousDigest === undefined ? {} : { previousDigest };
      }),
    );
  }

  async get(repository: string, image: string, digest: Digest): Promise<ManifestRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('manifests')
      .selectAll()
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row && toManifest(row);
  }

  async exists(repository: string, image: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('manifests')
      .select('digest')
      .where('repository', '=', repository)
      .where('image', '=', image)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes the manifest with its tags (as events), references and properties. */
  async delete(
    repository: string,
    image: string,
    digest: Digest,
    actor: string,
    cause: TagCause = 'delete',
  ): Promise<{ removedTags: string[] } | undefined> {
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const result = await deleteManifests(trx, { repository, image }, [digest], {
        actor,
        cause,
        at,
      });
      // Nothing was written when the manifest is absent: no tag can point at a missing row.
      return result.deleted > 0 ? { removedTags: result.removedTags } : undefined;
    });
  }

  async referrers(repository: string, image: string, subject: Digest): Promise<ManifestRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('manifests')
      .selectAll()
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('subject', '=', subject)
      .orderBy('digest')
      .execute();
    return rows.map(toManifest);
  }

  /**
   * One ordered range scan of the `manifests_name` index: DISTINCT over adjacent entries,
   * stopped after `n` names. Within a repository the range is `repo/` < name < `repo0` ('0' is
   * the byte after '/'). That range is exactly the repository's names because repository keys
   * never contain '/' (isRepositoryKey); an added `repository = ?` would make SQLite walk the
   * repository's manifests through another index and sort them instead.
   */
  async catalog(page: Page, repository?: string): Promise<string[]> {
    let query = this.ctx.db.selectFrom('manifests').select('name').distinct().orderBy('name');
    if (page.last !== undefined) query = query.where('name', '>', page.last);
    if (repository !== undefined) {
      query = query.where('name', '>', `${repository}/`).where('name', '<', `${repository}0`);
    }
    if (page.n !== undefined) query = query.limit(page.n);
    return (await query.execute()).map((r) => r.name);
  }

  /**
   * Manifests grouped by image over the primary key (repository, image, digest), which yields
   * each repository's images in order; the tag count is a correlated count over the tags
   * primary key. With several repositories SQLite merges their ranges with one sort.
   */
  /** A range over the manifests_digest index: every digest starting with the prefix. */
  async withDigestPrefix(
    prefix: string,
    options: { repositories: readonly string[]; limit: number },
  ): Promise<Location[]> {
    if (options.repositories.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('manifests')
      .select(['repository', 'image', 'digest'])
      .where('digest', '>=', prefix)
      .where('digest', '<', `${prefix}\u{10FFFF}`)
      .where('repository', 'in', options.repositories)
      .orderBy('repository')
      .orderBy('image')
      .orderBy('digest')
      .limit(options.limit)
      .execute();
    return rows.map((r) => ({ repository: r.repository, image: r.image, digest: r.digest as Digest }));
  }

  async images(repositories: readonly string[], page: Page): Promise<ImageSummary[]> {
    if (repositories.length === 0 || page.n === 0) return [];
    const db = this.ctx.db;
    let query = db
      .selectFrom('manifests as m')
      .select((eb) => [
        'm.image',
        eb.fn.max('m.created_at').as('last_push_at'),
        eb
          .selectFrom('tags as t')
          .select((t) => t.fn.count<number | string>('t.tag').distinct().as('n'))
          .where('t.repository', 'in', repositories)
          .whereRef('t.image', '=', 'm.image')
          .as('tag_count'),
      ])
      .where('m.repository', 'in', repositories)
      .groupBy('m.image')
      .orderBy('m.image');
    if (page.last !== undefined) query = query.where('m.image', '>', page.last);
    if (page.n !== undefined) query = query.limit(page.n);
    const rows = await query.execute();
    return rows.map((r) => ({
      image: r.image,
      tagCount: Number(r.tag_count ?? 0),
      lastPushAt: r.last_push_at,
    }));
  }
}

/** One reference per digest, first kind wins: a layer listed twice is stored once. */
function distinctReferences(references: readonly ManifestReference[]): ManifestReference[] {
  const seen = new Map<string, ManifestReference>();
  for (const ref of references) if (!seen.has(ref.digest)) seen.set(ref.digest, ref);
  return [...seen.values()];
}

export async function requireRepository(trx: Kysely<Database>, repository: string): Promise<void> {
  const row = await trx
    .selectFrom('repositories')
    .select('key')
    .where('key', '=', repository)
    .executeTakeFirst();
  if (row === undefined) throw new UnknownRepositoryError(repository);
}

/** Blobs must be linked to, and child manifests stored in, the same name as the manifest. */
async function missingReferences(
  trx: Kysely<Database>,
  record: ManifestRecord,
  refs: readonly ManifestReference[],
): Promise<ManifestReference[]> {
  const held = new Set<string>();
  for (const kind of ['blob', 'manifest'] as const) {
    const table = kind === 'blob' ? 'blob_links' : 'manifests';
    const digests = refs.filter((r) => r.kind === kind).map((r) => r.digest);
    for (const part of chunks(digests)) {
      const rows = await trx
        .selectFrom(table)
        .select('digest')
        .where('repository', '=', record.repository)
        .where('image', '=', record.image)
        .where('digest', 'in', part)
        .execute();
      for (const row of rows) held.add(`${kind} ${row.digest}`);
    }
  }
  return refs.filter((r) => !held.has(`${r.kind} ${r.digest}`));
}

/**
 * Putting an existing digest again keeps the first row and references (same digest, same
 * content), and counts as no push in the repository's usage.
 */
export async function insertManifest(
  trx: Kysely<Database>,
  record: ManifestRecord,
  refs: readonly ManifestReference[],
): Promise<void> {
  // The manifest's own bytes are a blob too; a reference to a collected blob cannot pass the
  // link check (no link exists for it), so only the manifest's digest needs the tombstone check.
  await refuseCollected(trx, [record.digest]);
  const inserted = await trx
    .insertInto('manifests')
    .values(fromManifest(record))
    .onConflict((oc) => oc.columns(['repository', 'image', 'digest']).doNothing())
    .returning('digest')
    .executeTakeFirst();
  if (inserted !== undefined) await countManifestPut(trx, record);
  const { repository, image, digest } = record;
  const rows = refs.map((r) => ({ repository, image, digest, ref_digest: r.digest, kind: r.kind }));
  for (const part of chunks(rows)) {
    await trx
      .insertInto('manifest_refs')
      .values(part)
      .onConflict((oc) => oc.columns(['repository', 'image', 'digest', 'ref_digest']).doNothing())
      .execute();
  }
}

/** Throws UnknownManifestError unless the name holds the digest; run it in the write's transaction. */
export async function requireManifest(
  trx: Kysely<Database>,
  where: { repository: string; image: string; digest: Digest },
): Promise<void> {
  const row = await trx
    .selectFrom('manifests')
    .select('digest')
    .where('repository', '=', where.repository)
    .where('image', '=', where.image)
    .where('digest', '=', where.digest)
    .executeTakeFirst();
  if (row === undefined) throw new UnknownManifestError(where);
}

/**
 * Deletes manifests of one name inside the caller's transaction, children before parents: the
 * tags pointing at them (recorded as events, in tag order, with `by`), their properties,
 * references and rows, and an image left without manifests from the repository's usage. Blob
 * links stay (garbage collection decides). Returns the removed tags and how many manifest rows
 * were deleted.
 */
export async function deleteManifests(
  trx: Kysely<Database>,
  where: { repository: string; image: string },
  digests: readonly Digest[],
  by: { actor: string; cause: TagCause; at: string },
): Promise<{ removedTags: string[]; deleted: number }> {
  const { repository, image } = where;
  const tags: { tag: string; digest: string }[] = [];
  for (const part of chunks(digests)) {
    const rows = await trx
      .selectFrom('tags')
      .select(['tag', 'digest'])
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('digest', 'in', part)
      .execute();
    tags.push(...rows);
  }
  tags.sort((a, b) => byteOrder(a.tag, b.tag));
  const present: string[] = [];
  for (const part of chunks(digests)) {
    const rows = await trx
      .selectFrom('manifests')
      .select('digest')
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('digest', 'in', part)
      .execute();
    present.push(...rows.map((r) => r.digest));
  }
  const events = tags.map(
    ({ tag, digest }): TagEvent => ({ repository, image, tag, oldDigest: digest as Digest, ...by }),
  );
  await appendTagEvents(trx, events);
  let deleted = 0;
  for (const part of chunks(digests)) {
    const rows = (table: 'tags' | 'properties' | 'manifest_refs' | 'manifests') =>
      trx
        .deleteFrom(table)
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('digest', 'in', part);
    await rows('tags').execute();
    await rows('properties').execute();
    await rows('manifest_refs').execute();
    const result = await rows('manifests').executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  if (deleted > 0) await countManifestsDeleted(trx, where);
  const subject = imageSubject(repository, image);
  await appendEvents(
    trx,
    by.at,
    present.map((digest) => ({
      type: 'io.gantry.manifest.deleted' as const,
      repository,
      image,
      subject,
      actor: by.actor,
      data: { repository, image, digest, cause: by.cause, actor: by.actor },
    })),
  );
  return { removedTags: tags.map((t) => t.tag), deleted };
}

/**
 * (repository, image, digest) of manifests, in byte order of the three: by the repository's
 * key and the manifest's `name` (both COLLATE "C" on PostgreSQL, unlike manifests.repository
 * and .image; within one repository, name order is image order).
 */
export function locations(db: Kysely<Database>) {
  return db
    .selectFrom('manifests as m')
    .innerJoin('repositories as r', 'r.key', 'm.repository')
    .select(['r.key as repository', 'm.image', 'm.digest'])
    .orderBy('r.key')
    .orderBy('m.name')
    .orderBy('m.digest');
}

/** image.pushed: written with the manifest row, so it exists exactly when the push committed. */
function pushedEvent(
  record: ManifestRecord,
  tag: string | undefined,
  actor: string | undefined,
): DomainEvent {
  const { repository, image, digest } = record;
  return {
    type: 'io.gantry.image.pushed',
    repository,
    image,
    subject: imageSubject(repository, image),
    ...(actor === undefined ? {} : { actor }),
    data: { repository, image, digest, mediaType: record.mediaType, size: record.size, tag: tag ?? null },
  };
}
