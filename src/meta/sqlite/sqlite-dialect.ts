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
import type { WalFlusher } from './wal-flusher.ts';

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
  readonly #flusher: WalFlusher | undefined;

  /** With a flusher, every query resolves only once what it committed is durable. */
  constructor(config: SqliteDialectConfig, flusher?: WalFlusher) {
    super(config);
    this.#config = config;
    this.#flusher = flusher;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#flusher);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly flusher: WalFlusher | undefined,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * Kysely awaits this after every statement and after every transaction's commit, before it
   * resolves the caller's promise. The connection is handed on first, so other queries run
   * while this caller waits for its changes to reach the disk.
   */
  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    await this.flusher?.ensureDurable();
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
      // Not this.releaseConnection(): the file is closed, there is nothing left to flush.
      await super.releaseConnection();
    }
  }
}

/**
 * - GROUP (default): `synchronous = NORMAL` plus a WalFlusher: durable before acknowledged,
 *   with concurrent commits sharing fsyncs;
 * - FULL: SQLite fsyncs the WAL at every commit itself (one fsync per commit, serialised);
 * - NORMAL: survives kill -9 but may lose the last commits on power loss; throw-away
 *   instances (tests, benchmarks of the store) only.
 */
export type Synchronous = 'GROUP' | 'FULL' | 'NORMAL';

/**
 * Opens the file with the settings the store relies on:
 * - WAL: readers do not block the writer;
 * - synchronous: see Synchronous; only FULL makes SQLite fsync by itself;
 * - busy_timeout: wait up to 5 s for another process's write lock instead of failing;
 * - foreign_keys: SQLite leaves them off unless asked, per connection.
 */
export function openSqlite(file: string, synchronous: Synchronous = 'GROUP'): BetterSqlite3.Database {
  const database = new BetterSqlite3(file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
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
