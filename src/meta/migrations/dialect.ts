import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';

// The two places where the dialects differ in DDL, decided here and nowhere else (the migrations
// are otherwise written with kysely's schema builder only, so each runs on SQLite and PostgreSQL):
// - Row numbering: SQLite uses INTEGER PRIMARY KEY AUTOINCREMENT, PostgreSQL an identity
//   column (kysely's autoIncrement() would emit MySQL's AUTO_INCREMENT there).
// - Ordering: lists are in byte order. SQLite compares TEXT bytewise (BINARY collation) by
//   default; PostgreSQL sorts by the database locale unless the column is COLLATE "C".

export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Type of a column that lists are ordered by, or that is compared as a range of bytes. */
export function bytewiseText(db: Kysely<unknown>): 'text' | RawBuilder<unknown> {
  return isPostgres(db) ? sql`text collate "C"` : 'text';
}

/** Type and definition of a primary key numbering rows in insertion order. */
export function rowNumber(
  db: Kysely<unknown>,
): ['bigint' | 'integer', (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  return isPostgres(db)
    ? ['bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()]
    : ['integer', (c) => c.primaryKey().autoIncrement()];
}
