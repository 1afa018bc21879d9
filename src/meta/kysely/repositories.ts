import type { RepositoryMeta } from '../metadata-store.ts';
import type { RepositoryRecord } from '../records.ts';
import type { Database } from '../schema.ts';
import { type QueryContext, translate } from './context.ts';
import { fromRepository, toRepository } from './rows.ts';

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
] as const satisfies readonly (keyof Database)[];

export class KyselyRepositoryMeta implements RepositoryMeta {
  constructor(private readonly ctx: QueryContext) {}

  async create(record: RepositoryRecord): Promise<void> {
    const target = { repository: record.key, conflict: `repository ${record.key}` };
    await translate(this.ctx, target, () =>
      this.ctx.db.insertInto('repositories').values(fromRepository(record)).execute(),
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
    const result = await this.ctx.db
      .updateTable('repositories')
      .set(set)
      .where('key', '=', key)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes the children explicitly (no ON DELETE CASCADE), so every dialect behaves alike. */
  async delete(key: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      for (const table of REPOSITORY_CHILDREN) {
        await trx.deleteFrom(table).where('repository', '=', key).execute();
      }
      const result = await trx.deleteFrom('repositories').where('key', '=', key).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}
