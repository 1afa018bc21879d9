import type { SigningKeyRecord } from '../identity-records.ts';
import type { SigningKeyMeta } from '../identity-store.ts';
import { type QueryContext, translateWith } from './context.ts';
import { fromSigningKey, toSigningKey } from './rows.ts';

export class KyselySigningKeyMeta implements SigningKeyMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** MetaConflictError when the kid exists. */
  async add(record: SigningKeyRecord): Promise<void> {
    const on = { conflict: `signing key ${record.kid}`, foreignKey: async (error: unknown) => error };
    await translateWith(this.ctx, on, () =>
      this.ctx.db.insertInto('signing_keys').values(fromSigningKey(record)).execute(),
    );
  }

  /** Oldest first; keys created at the same instant in kid order. A handful of rows: no index. */
  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    return rows.map(toSigningKey);
  }

  async retireAllBut(except: string, at: string): Promise<void> {
    await this.ctx.db
      .updateTable('signing_keys')
      .set({ retired_at: at })
      .where('retired_at', 'is', null)
      .where('kid', '!=', except)
      .execute();
  }

  async delete(kid: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('signing_keys').where('kid', '=', kid).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async replacePrivateJwk(kid: string, privateJwk: string): Promise<void> {
    await this.ctx.db
      .updateTable('signing_keys')
      .set({ private_jwk: privateJwk })
      .where('kid', '=', kid)
      .execute();
  }
}
