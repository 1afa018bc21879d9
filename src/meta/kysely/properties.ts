import type { Kysely } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { DomainEvent } from '../event-records.ts';
import type { Location, Properties } from '../promotion-records.ts';
import type { PropertyMeta } from '../promotion-store.ts';
import type { Database } from '../schema.ts';
import { chunks, type QueryContext } from './context.ts';
import { requireManifest } from './manifests.ts';
import { appendEvents, imageSubject } from './outbox.ts';

export class KyselyPropertyMeta implements PropertyMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** Keys and values in byte order (properties.key and .value are COLLATE "C" on PostgreSQL). */
  async get(repository: string, image: string, digest: Digest): Promise<Properties> {
    const rows = await this.ctx.db
      .selectFrom('properties')
      .select(['key', 'value'])
      .where('repository', '=', repository)
      .where('image', '=', image)
      .where('digest', '=', digest)
      .orderBy('key')
      .orderBy('value')
      .execute();
    return toProperties(rows);
  }

  async set(repository: string, image: string, digest: Digest, values: Properties): Promise<void> {
    const where = { repository, image, digest };
    await this.ctx.db.transaction().execute(async (trx) => {
      await requireManifest(trx, where);
      for (const [key, list] of Object.entries(values)) {
        await deleteProperties(trx, where, [key]);
        await insertProperties(trx, where, { [key]: list });
      }
      await appendEvents(trx, this.ctx.now().toISOString(), [
        propertyEvent(where, { set: values, removed: [] }),
      ]);
    });
  }

  async remove(repository: string, image: string, digest: Digest, keys?: readonly string[]): Promise<number> {
    const where = { repository, image, digest };
    if (keys !== undefined && keys.length === 0) return 0;
    return this.ctx.db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom('properties')
        .select('key')
        .distinct()
        .where('repository', '=', repository)
        .where('image', '=', image)
        .where('digest', '=', digest);
      if (keys !== undefined) query = query.where('key', 'in', [...new Set(keys)]);
      const removed = (await query.execute()).map((r) => r.key);
      await deleteProperties(trx, where, removed);
      if (removed.length > 0) {
        await appendEvents(trx, this.ctx.now().toISOString(), [propertyEvent(where, { set: {}, removed })]);
      }
      return removed.length;
    });
  }

  /**
   * The first condition drives the search through the properties_key index; every further one
   * is an EXISTS on the primary key of the same manifest. DISTINCT: a key matched without a
   * value can have several.
   */
  async find(
    conditions: readonly { key: string; value?: string }[],
    options: { repositories?: readonly string[]; limit: number },
  ): Promise<Location[]> {
    if (options.repositories !== undefined && options.repositories.length === 0) return [];
    const [first, ...rest] = conditions;
    let query = this.ctx.db
      .selectFrom('properties as p')
      .select(['p.repository', 'p.image', 'p.digest'])
      .distinct()
      .orderBy('p.repository')
      .orderBy('p.image')
      .orderBy('p.digest')
      .limit(options.limit);
    if (first !== undefined) {
      query = query.where('p.key', '=', first.key);
      if (first.value !== undefined) query = query.where('p.value', '=', first.value);
    }
    for (const condition of rest) {
      query = query.where(({ exists, selectFrom }) => {
        let other = selectFrom('properties as q')
          .select('q.key')
          .whereRef('q.repository', '=', 'p.repository')
          .whereRef('q.image', '=', 'p.image')
          .whereRef('q.digest', '=', 'p.digest')
          .where('q.key', '=', condition.key);
        if (condition.value !== undefined) other = other.where('q.value', '=', condition.value);
        return exists(other);
      });
    }
    if (options.repositories !== undefined) {
      query = query.where('p.repository', 'in', [...options.repositories]);
    }
    const rows = await query.execute();
    return rows.map((r) => ({ repository: r.repository, image: r.image, digest: r.digest as Digest }));
  }
}

type ManifestKey = { repository: string; image: string; digest: string };

/** Inserts the values of each key, each once; an empty list inserts nothing. */
export async function insertProperties(
  trx: Kysely<Database>,
  where: ManifestKey,
  properties: Properties,
): Promise<void> {
  const rows = Object.entries(properties).flatMap(([key, values]) =>
    [...new Set(values)].map((value) => ({ ...where, key, value })),
  );
  for (const part of chunks(rows)) {
    await trx
      .insertInto('properties')
      .values(part)
      .onConflict((oc) => oc.columns(['repository', 'image', 'digest', 'key', 'value']).doNothing())
      .execute();
  }
}

/** Deletes the given keys of the manifest (every key when omitted). */
export async function deleteProperties(
  trx: Kysely<Database>,
  where: ManifestKey,
  keys?: readonly string[],
): Promise<void> {
  const query = trx
    .deleteFrom('properties')
    .where('repository', '=', where.repository)
    .where('image', '=', where.image)
    .where('digest', '=', where.digest);
  if (keys === undefined) {
    await query.execute();
    return;
  }
  for (const part of chunks(keys)) await query.where('key', 'in', part).execute();
}

/**
 * Rows of one manifest as Properties, values in row order. Built with Object.fromEntries so a
 * key such as `__proto__` is an ordinary entry.
 */
export function toProperties(rows: readonly { key: string; value: string }[]): Properties {
  const byKey = new Map<string, string[]>();
  for (const { key, value } of rows) {
    const values = byKey.get(key);
    if (values === undefined) byKey.set(key, [value]);
    else values.push(value);
  }
  return Object.fromEntries(byKey);
}

/** property.changed: the keys set (with their new values) and the keys removed. */
function propertyEvent(
  where: { repository: string; image: string; digest: Digest },
  change: { set: Properties; removed: readonly string[] },
): DomainEvent {
  const { repository, image, digest } = where;
  return {
    type: 'io.gantry.property.changed',
    repository,
    image,
    subject: imageSubject(repository, image),
    data: { repository, image, digest, set: change.set, removed: change.removed },
  };
}
