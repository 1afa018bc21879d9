import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import type { Violation } from '../kysely/context.ts';

/**
 * Kysely's SqliteDialect, but transactions start with BEGIN IMMEDIATE.
 *
 * Within one process kysely already serialises everything through the single connection, so
 * concurrent calls queue instead of colliding. The trap is another process on the same file
 * (`gantry fsck`, a second server): a DEFERRED transaction that reads, then writes, fails at
 * once with SQLITE_BUSY when the other process wrote in between, and busy_timeout does not
 * help (SQLite cannot wait for a stale read snapshot). IMMEDIATE takes the write lock first,
 * where busy_timeout does wait. Read-only methods do not open transactions, so they never
 * take it.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * Kysely closes the file at once, even between two statements of a transaction (which then
   * rolls back, failing a write the caller has not seen fail yet). Taking the connection first
   * lets the write in flight finish; calls queued behind it then fail: the store is closed.
   */
  override async destroy(): Promise<void> {
    await this.acquireConnection();
    try {
      await super.destroy();
    } finally {
      await this.releaseConnection();
    }
  }
}

export type Synchronous = 'FULL' | 'NORMAL';

/**
 * Opens the file with the settings the store relies on:
 * - WAL: readers do not block the writer;
 * - synchronous FULL by default: WAL is fsynced at every commit, so an acknowledged push
 *   survives a power loss. NORMAL survives kill -9 but may lose the last commits on power
 *   loss: for throw-away instances (tests, benchmarks) only;
 * - busy_timeout: wait up to 5 s for another process's write lock instead of failing;
 * - foreign_keys: SQLite leaves them off unless asked, per connection.
 */
export function openSqlite(file: string, synchronous: Synchronous = 'FULL'): BetterSqlite3.Database {
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${synchronous}`);
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    cacheStatements(database);
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver calls `prepare` for every query, and preparing costs as much as
 * running one of our indexed look-ups. The store's queries are a small fixed set of SQL
 * strings (values are bound parameters), so prepared statements are kept and reused, least
 * recently used out first. Safe because kysely never iterates a statement while running it
 * again: it runs everything through one connection, one query at a time.
 */
function cacheStatements(database: BetterSqlite3.Database): void {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, BetterSqlite3.Statement>();
  database.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (statement) {
      cache.delete(sql);
    } else {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, statement);
    return statement;
  }) as typeof database.prepare;
}

/** better-sqlite3's extended result codes for the constraints the store maps to domain errors. */
export function sqliteViolation(error: unknown): Violation | undefined {
  if (!(error instanceof BetterSqlite3.SqliteError)) return undefined;
  switch (error.code) {
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
    case 'SQLITE_CONSTRAINT_UNIQUE':
      return 'unique';
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return 'foreign-key';
    default:
      return undefined;
  }
}
