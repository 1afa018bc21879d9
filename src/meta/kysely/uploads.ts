import type { Selectable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { UploadMeta } from '../metadata-store.ts';
import type { UploadRecord } from '../records.ts';
import type { UploadsTable } from '../schema.ts';
import { linkBlobs } from './blob-links.ts';
import { type QueryContext, translate } from './context.ts';

export class KyselyUploadMeta implements UploadMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** MetaConflictError when the id is taken; UnknownRepositoryError for an unknown repository. */
  async create(record: UploadRecord): Promise<void> {
    const row = {
      id: record.id,
      repository: record.repository,
      image: record.image,
      started_at: record.startedAt,
    };
    await translate(this.ctx, { repository: record.repository, conflict: `upload ${record.id}` }, () =>
      this.ctx.db.insertInto('uploads').values(row).execute(),
    );
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    const row = await this.ctx.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUpload(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async complete(id: string, digest: Digest, size: number): Promise<boolean> {
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const upload = await trx.deleteFrom('uploads').where('id', '=', id).returningAll().executeTakeFirst();
      if (!upload) return false;
      const { repository, image } = upload;
      await linkBlobs(trx, [{ repository, image, digest, size, createdAt: at }]);
      return true;
    });
  }

  /** Oldest first. ISO timestamps compare as strings, so this is a range scan of started_at. */
  async listStartedBefore(before: Date): Promise<UploadRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('uploads')
      .selectAll()
      .where('started_at', '<', before.toISOString())
      .orderBy('started_at')
      .orderBy('id')
      .execute();
    return rows.map(toUpload);
  }

  async count(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('uploads')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function toUpload(row: Selectable<UploadsTable>): UploadRecord {
  return { id: row.id, repository: row.repository, image: row.image, startedAt: row.started_at };
}
