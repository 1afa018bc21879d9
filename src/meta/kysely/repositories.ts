import type { DomainEvent } from '../event-records.ts';
import type { RepositoryMeta, RepositoryStats } from '../metadata-store.ts';
import type { RepositoryRecord } from '../records.ts';
import type { Database } from '../schema.ts';
import { type QueryContext, translate } from './context.ts';
import { appendEvents } from './outbox.ts';
import { fromRepository, toRepository } from './rows.ts';
import { startUsage } from './usage.ts';

/**
 * Tables whose rows belong to a repository, children before parents (foreign-key order). The
 * promotion history names repositories without belonging to them, and stays.
 */
const REPOSITORY_CHILDREN = [
  'tag_events',
  'tags',
  'properties',
  'manifest_refs',
  'manifests',
  'blob_links',
  'uploads',
  'approvals',
  'repository_usage',
  'manifest_pulls',
] as const satisfies readonly (keyof Database)[];

export class KyselyRepositoryMeta implements RepositoryMeta {
  constructor(private readonly ctx: QueryContext) {}

  async create(record: RepositoryRecord): Promise<void> {
    const target = { repository: record.key, conflict: `repository ${record.key}` };
    await translate(this.ctx, target, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await trx.insertInto('repositories').values(fromRepository(record)).execute();
        await startUsage(trx, record.key);
        await appendEvents(trx, record.createdAt, [repositoryEvent('created', record)]);
      }),
    );
  }

  async get(key: string): Promise<RepositoryRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('repositories')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toRepository(row);
  }

  async list(): Promise<RepositoryRecord[]> {
    const rows = await this.ctx.db.selectFrom('repositories').selectAll().orderBy('key').execute();
    return rows.map(toRepository);
  }

  async update(
    key: string,
    changes: { description?: string; settings?: Record<string, unknown> },
  ): Promise<boolean> {
    const set: { description?: string; settings?: string } = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.settings !== undefined) set.settings = JSON.stringify(changes.settings);
    if (Object.keys(set).length === 0) return (await this.get(key)) !== undefined;
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const result = await trx.updateTable('repositories').set(set).where('key', '=', key).executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      const row = await trx.selectFrom('repositories').selectAll().where('key', '=', key).executeTakeFirst();
      if (row !== undefined) await appendEvents(trx, at, [repositoryEvent('changed', toRepository(row))]);
      return true;
    });
  }

  /** One row per repository from repository_usage, which the writes keep up to date. */
  async stats(): Promise<Map<string, RepositoryStats>> {
    const rows = await this.ctx.db
      .selectFrom('repositories as r')
      .leftJoin('repository_usage as u', 'u.repository', 'r.key')
      .select(['r.key', 'u.image_count', 'u.size_bytes', 'u.last_push_at'])
      .execute();
    return new Map(rows.map((row) => [row.key, toStats(row)]));
  }

  /**
   * One query: every repository left-joined with its manifests grouped by repository (image
   * count, newest manifest) and its blob links grouped by repository over distinct digests (a
   * blob linked to several images of one repository is stored once, so it counts once).
   */
  async recountStats(): Promise<Map<string, RepositoryStats>> {
    const db = this.ctx.db;
    const manifests = db
      .selectFrom('manifests')
      .select((eb) => [
        'repository',
        eb.fn.count<number | string>('image').distinct().as('image_count'),
        eb.fn.max('created_at').as('last_push_at'),
      ])
      .groupBy('repository')
      .as('m');
    const distinctBlobs = db
      .selectFrom('blob_links')
      .select((eb) => ['repository', 'digest', eb.fn.max('size').as('size')])
      .groupBy(['repository', 'digest'])
      .as('d');
    const blobs = db
      .selectFrom(distinctBlobs)
      .select((eb) => ['d.repository', eb.fn.sum<number | string>('d.size').as('size_bytes')])
      .groupBy('d.repository')
      .as('b');
    const rows = await db
      .selectFrom('repositories as r')
      .leftJoin(manifests, 'm.repository', 'r.key')
      .leftJoin(blobs, 'b.repository', 'r.key')
      .select(['r.key', 'm.image_count', 'm.last_push_at', 'b.size_bytes'])
      .execute();
    return new Map(rows.map((row) => [row.key, toStats(row)]));
  }

  async contentCounts(): Promise<Map<string, { manifests: number; blobs: number }>> {
    const db = this.ctx.db;
    const manifests = await db
      .selectFrom('manifests')
      .select((eb) => ['repository', eb.fn.countAll<number | string>().as('n')])
      .groupBy('repository')
      .execute();
    const blobs = await db
      .selectFrom('blob_links')
      .select((eb) => ['repository', eb.fn.count<number | string>('digest').distinct().as('n')])
      .groupBy('repository')
      .execute();
    const out = new Map<string, { manifests: number; blobs: number }>();
    for (const row of manifests) out.set(row.repository, { manifests: Number(row.n), blobs: 0 });
    for (const row of blobs) {
      const counts = out.get(row.repository) ?? { manifests: 0, blobs: 0 };
      counts.blobs = Number(row.n);
      out.set(row.repository, counts);
    }
    return out;
  }

  /** Deletes the children explicitly (no ON DELETE CASCADE), so every dialect behaves alike. */
  async delete(key: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      for (const table of REPOSITORY_CHILDREN) {
        await trx.deleteFrom(table).where('repository', '=', key).execute();
      }
      const result = await trx.deleteFrom('repositories').where('key', '=', key).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await appendEvents(trx, this.ctx.now().toISOString(), [repositoryEvent('deleted', { key })]);
      return true;
    });
  }
}

/** Absent counts (a repository without a usage row, or without manifests or links) are zero. */
function toStats(row: {
  image_count: number | string | null;
  size_bytes: number | string | null;
  last_push_at: string | null;
}): RepositoryStats {
  return {
    imageCount: Number(row.image_count ?? 0),
    sizeBytes: Number(row.size_bytes ?? 0),
    lastPushAt: row.last_push_at ?? null,
  };
}

/**
 * repository.created / changed / deleted. Settings stay out of the payload: a remote's hold
 * credentials (encrypted, but still not for webhook receivers).
 */
function repositoryEvent(
  change: 'created' | 'changed' | 'deleted',
  record: Pick<RepositoryRecord, 'key'> & Partial<RepositoryRecord>,
): DomainEvent {
  const data: Record<string, unknown> = { key: record.key };
  if (record.kind !== undefined) data.kind = record.kind;
  if (record.description !== undefined) data.description = record.description;
  return { type: `io.gantry.repository.${change}`, repository: record.key, subject: record.key, data };
}
