import type { Digest } from '../../oci/digest.ts';
import type { ApprovalRecord } from '../promotion-records.ts';
import type { ApprovalMeta } from '../promotion-store.ts';
import { type QueryContext, translate } from './context.ts';
import { fromApproval, toApproval } from './rows.ts';

export class KyselyApprovalMeta implements ApprovalMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** UnknownRepositoryError when the repository does not exist. */
  async add(record: ApprovalRecord): Promise<void> {
    const target = { repository: record.repository, conflict: `approval of ${record.digest}` };
    await translate(this.ctx, target, () =>
      this.ctx.db
        .insertInto('approvals')
        .values(fromApproval(record))
        .onConflict((oc) =>
          oc
            .columns(['repository', 'digest', 'approver'])
            .doUpdateSet({ comment: record.comment, at: record.at }),
        )
        .execute(),
    );
  }

  async remove(digest: Digest, repository: string, approver: string): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('approvals')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .where('approver', '=', approver)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
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
