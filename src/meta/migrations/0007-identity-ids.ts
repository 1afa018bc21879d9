import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';

// Users get an immutable id, and what used to point at a user by name points at that id too:
// a user deleted and created again under the same name is a different user, and nothing issued
// to the first one (API tokens, build records, sessions and tokens, which carry the id as a
// claim) passes for the second.
//
// - users.id: a random UUID, assigned once at creation and never reused; existing users get one
//   here. Added nullable (SQLite cannot add a NOT NULL column without a default) and backfilled;
//   the store always writes it, and a unique index keeps two users from sharing one.
// - api_tokens.owner_id: the id of the owner when the token was issued, backfilled from users.
// - builds.published_by_id / published_token_id / published_token_name: who published a build
//   (the user's id, and the API token it came through). Unknown (null) for builds recorded before.

export const identityIds: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').addColumn('id', 'text').execute();
    await db.schema.alterTable('api_tokens').addColumn('owner_id', 'text').execute();
    await db.schema.alterTable('builds').addColumn('published_by_id', 'text').execute();
    await db.schema.alterTable('builds').addColumn('published_token_id', 'text').execute();
    await db.schema.alterTable('builds').addColumn('published_token_name', 'text').execute();
    await backfill(db as unknown as Kysely<TablesAt0007>);
    await db.schema.createIndex('users_id').on('users').column('id').unique().execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('users_id').execute();
    await db.schema.alterTable('builds').dropColumn('published_token_name').execute();
    await db.schema.alterTable('builds').dropColumn('published_token_id').execute();
    await db.schema.alterTable('builds').dropColumn('published_by_id').execute();
    await db.schema.alterTable('api_tokens').dropColumn('owner_id').execute();
    await db.schema.alterTable('users').dropColumn('id').execute();
  },
};

/** The tables as this migration knows them (never today's types from src/meta/schema.ts). */
type TablesAt0007 = {
  users: { name: string; id: string | null };
  api_tokens: { owner: string; owner_id: string | null };
};

async function backfill(db: Kysely<TablesAt0007>): Promise<void> {
  const users = await db.selectFrom('users').select('name').execute();
  for (const { name } of users) {
    const id = randomUUID();
    await db.updateTable('users').set({ id }).where('name', '=', name).execute();
    await db.updateTable('api_tokens').set({ owner_id: id }).where('owner', '=', name).execute();
  }
}
