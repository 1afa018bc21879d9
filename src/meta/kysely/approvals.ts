import type { Digest } from '../../oci/digest.ts';
import type { ApprovalRecord } from '../promotion-records.ts';
import type { ApprovalMeta } from '../promotion-store.ts';
import { type QueryContext, translate } from './context.ts';
import { appendEvents } from './outbox.ts';
import { fromApproval, toApproval } from './rows.ts';

export class KyselyApprovalMeta implements ApprovalMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** UnknownRepositoryError when the repository does not exist. */
  async add(record: ApprovalRecord): Promise<void> {
    const target = { repository: record.repository, conflict: `approval of ${record.digest}` };
    const { repository, digest, approver, comment } = record;
    await translate(this.ctx, target, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('approvals')
          .values(fromApproval(record))
          .onConflict((oc) =>
            oc
              .columns(['repository', 'digest', 'approver'])
              .doUpdateSet({ comment: record.comment, at: record.at }),
          )
          .execute();
        const data = { repository, digest, approver, comment };
        const event = { type: 'io.gantry.approval.given' as const, repository, actor: approver, data };
        await appendEvents(trx, record.at, [{ ...event, subject: `${repository}@${digest}` }]);
      }),
    );
  }

  async remove(digest: Digest, repository: string, approver: string): Promise<boolean> {
    const at = this.ctx.now().toISOString();
    return this.ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('approvals')
        .where('repository', '=', repository)
        .where('digest', '=', digest)
        .where('approver', '=', approver)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      const data = { repository, digest, approver };
      const event = { type: 'io.gantry.approval.withdrawn' as const, repository, actor: approver, data };
      await appendEvents(trx, at, [{ ...event, subject: `${repository}@${digest}` }]);
      return true;
    });
  }

  /** Oldest first; approvals given at the same time by approver. */
  async list(digest: Digest, repository: string): Promise<ApprovalRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('approvals')
      .selectAll()
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .orderBy('at')
      .orderBy('approver')
      .execute();
    return rows.map(toApproval);
  }
}
