import type { CompiledQuery, Kysely } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { TagEntry, TagMeta } from '../metadata-store.ts';
import type { Location } from '../promotion-records.ts';
import type { Page, TagCause, TagEvent } from '../records.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';
import { appendEvents, imageSubject } from './outbox.ts';
import { fromTagEvent, toTagEvent } from './rows.ts';

export interface TagMove {
  repository: string;
  image: string;
  tag: string;
  digest: Digest;
  actor: string;
  cause: TagCause;
  at: string;
}

/**
 * Points the tag at `digest` and records the move, inside the caller's transaction. Writes
 * nothing when the tag already points there. Returns where the tag pointed before.
 */
export async function moveTag(trx: Kysely<Database>, move: TagMove): Promise<Digest | undefined> {
  const before = await selectTag(trx, move.repository, move.image, move.tag);
  if (before === move.digest) return before;
  const { repository, image, tag, digest, actor, cause, at } = move;
  await trx
    .insertInto('tags')
    .values({ repository, image, tag, digest, updated_at: at })
    .onConflict((oc) => oc.columns(['repository', 'image', 'tag']).doUpdateSet({ digest, updated_at: at }))
    .execute();
  await appendTagEvents(trx, [
    { repository, image, tag, oldDigest: before, newDigest: digest, actor, cause, at },
  ]);
  return before;
}

/**
 * Appends history rows in the given order (ids grow with it), and for each the matching outbox
 * event (tag.moved, or tag.deleted when the tag no longer points anywhere): every tag change goes
 * through here, so none commits without its event.
 */
export async function appendTagEvents(trx: Kysely<Database>, events: readonly TagEvent[]): Promise<void> {
  for (const part of chunks(events)) {
    await trx.insertInto('tag_events').values(part.map(fromTagEvent)).execute();
  }
  for (const e of events) {
    const data = {
      repository: e.repository,
      image: e.image,
      tag: e.tag,
      digest: e.newDigest ?? null,
      previousDigest: e.oldDigest ?? null,
      cause: e.cause,
      actor: e.actor,
    };
    const type = e.newDigest === undefined ? 'io.gantry.tag.deleted' : 'io.gantry.tag.moved';
    const subject = imageSubject(e.repository, e.image);
    const where = { repository: e.repository, image: e.image, subject, actor: e.actor };
    await appendEvents(trx, e.at, [{ type, ...where, data }]);
  }
}

function tagQuery(db: Kysely<Database>, repository: string, image: string, tag: string) {
  return db
    .selectFrom('tags')
    .select('digest')
    .where('repository', '=', repository)
    .where('image', '=', image)
    .where('tag', '=', tag);
}

/** One lookup in the tags primary-key index. */
async function selectTag(
  db: Kysely<Database>,
  repository: string,
  image: string,
  tag: string,
): Promise<Digest | undefined> {
  const row = await tagQuery(db, repository, image, tag).executeTakeFirst();
  return row?.digest as Digest | undefined;
}

export class KyselyTagMeta implements TagMeta {
  /**
   * resolve() is the hot path of `GET /v2/<name>/manifests/<tag>`. Building and compiling a
   * kysely query costs about as much as SQLite's index lookup, so it is compiled once here and
   * run with new parameters (in the order of the `where` calls in tagQuery).
   */
  readonly #resolve: CompiledQuery<{ digest: string }>;

  constructor(private readonly ctx: QueryContext) {
    this.#resolve = tagQuery(ctx.db, '', '', '').compile();
  }

  async resolve(repository: string, image: string, tag: string): Promise<Digest | undefined> {
    const query: CompiledQuery<{ digest: string }> = {
      ...this.#resolve,
      parameters: [repository, image, tag],
    };
    const { rows } = await this.ctx.db.executeQuery(query);
    return rows[0]?.digest as Digest | undefined;
  }

  /** Byte order of tag names (tags.tag is COLLATE "C" on PostgreSQL, BINARY on SQLite). */
  async list(repository: string, image: string, page: Page): Promise<string[]> {
    let query = this.ctx.db
      .selectFrom('tags')
      .select('tag')
      .where('repository', '=', repository)
      .where('image', '=', image)
      .orderBy('tag');
    if (page.last !== undefined) query = query.where('tag', '>', page.last);
    if (page.n !== undefined) query = query.limit(page.n);
    return (await query.execute()).map((r) => r.tag);
  }

  async entries(repository: string, image: string): Promise<TagEntry[]> {
    const rows = await this.ctx.db
      .selectFrom('tags')
      .select(['tag', 'digest', 'updated_at'])
      .where('repository', '=', repository)
      .where('image', '=', image)
      .orderBy('tag')
      .execute();
    return rows.map((r) => ({ tag: r.tag, digest: r.digest as Digest, updatedAt: r.updated_at }));
  }

  async delete(
    repository: string,
    image: string,
    tag: string,
    actor: string,
    cause: TagCause = 'delete',
  ): Promise<boolean> {
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const before = await selectTag(trx, repository, image, tag);
      if (before === undefined) return false;
      await trx
        .deleteFrom('tags')
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('tag', '=', tag)
        .execute();
      await appendTagEvents(trx, [{ repository, image, tag, oldDigest: before, actor, cause, at }]);
      return true;
    });
  }

  async withTag(
    tag: string,
    options: { repositories: readonly string[]; limit: number },
  ): Promise<Location[]> {
    if (options.repositories.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('tags')
      .select(['repository', 'image', 'digest'])
      .where('tag', '=', tag)
      .where('repository', 'in', options.repositories)
      .orderBy('repository')
      .orderBy('image')
      .limit(options.limit)
      .execute();
    return rows.map((r) => ({ repository: r.repository, image: r.image, digest: r.digest as Digest }));
  }

  async history(repository: string, image: string, tag: string, limit?: number): Promise<TagEvent[]> {
    let query = this.ctx.db
      .selectFrom('tag_events')
      .select(['repository', 'image', 'tag', 'old_digest', 'new_digest', 'actor', 'cause', 'at'])
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('tag', '=', tag)
      .orderBy('id', 'desc');
    if (limit !== undefined) query = query.limit(limit);
    return (await query.execute()).map(toTagEvent);
  }
}
