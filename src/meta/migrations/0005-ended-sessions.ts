import type { Kysely, Migration } from 'kysely';

// Web UI sessions signed out before they expired. A live session is a signed cookie that the
// server does not store; signing out records its id here so every node refuses the cookie from
// then on. Rows are deleted once the session would have expired (the expires_at index).

export const endedSessions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('ended_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('ended_sessions_expires_at')
      .on('ended_sessions')
      .column('expires_at')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('ended_sessions').execute();
  },
};
