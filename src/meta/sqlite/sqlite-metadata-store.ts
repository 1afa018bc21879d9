import { Kysely, type Logger } from 'kysely';
import { KyselyApiTokenMeta } from '../kysely/api-tokens.ts';
import { KyselyApprovalMeta } from '../kysely/approvals.ts';
import { KyselyAuditMeta } from '../kysely/audit.ts';
import { KyselyBlobLinkMeta } from '../kysely/blob-links.ts';
import { KyselyBuildMeta } from '../kysely/builds.ts';
import { KyselyContentFactMeta } from '../kysely/content-facts.ts';
import type { QueryContext } from '../kysely/context.ts';
import { KyselyEndedSessionMeta } from '../kysely/ended-sessions.ts';
import { KyselyGcMeta } from '../kysely/gc.ts';
import { KyselyGroupMeta } from '../kysely/groups.ts';
import { KyselyLifecycleMeta } from '../kysely/lifecycle.ts';
import { KyselyManifestMeta } from '../kysely/manifests.ts';
import { KyselyOutboxMeta } from '../kysely/outbox.ts';
import { KyselyPermissionTargetMeta } from '../kysely/permission-targets.ts';
import { KyselyPromotionMeta } from '../kysely/promotions.ts';
import { KyselyPropertyMeta } from '../kysely/properties.ts';
import { KyselyRepositoryMeta } from '../kysely/repositories.ts';
import { KyselySigningKeyMeta } from '../kysely/signing-keys.ts';
import { KyselyTagMoveMeta } from '../kysely/tag-moves.ts';
import { KyselyTagMeta } from '../kysely/tags.ts';
import { KyselyUploadMeta } from '../kysely/uploads.ts';
import { KyselyUserMeta } from '../kysely/users.ts';
import { KyselyWebhookMeta } from '../kysely/webhooks.ts';
import type { MetadataStore } from '../metadata-store.ts';
import { migrateToLatest } from '../migrations/index.ts';
import type { Database } from '../schema.ts';
import { ImmediateSqliteDialect, openSqlite, type Synchronous, sqliteViolation } from './sqlite-dialect.ts';
import { WalFlusher } from './wal-flusher.ts';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory must exist), or ':memory:'. */
  file: string;
  /** 'GROUP' (default) and 'FULL' survive power loss; 'NORMAL' only process crashes. See Synchronous. */
  synchronous?: Synchronous;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Clock for the timestamps the store writes itself; tests pin it. */
  now?: () => Date;
  /** Sees every query with its SQL and duration (diagnostics, query-plan checks, benchmarks). */
  log?: Logger;
}

/**
 * The default MetadataStore: one SQLite file. All queries live in the dialect-neutral modules
 * of src/meta/kysely; this class only opens the file and chooses the dialect.
 *
 * One connection per process: kysely queues every call (and every transaction) on it, so
 * concurrent callers never see SQLITE_BUSY from each other.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly repositories: KyselyRepositoryMeta;
  readonly blobs: KyselyBlobLinkMeta;
  readonly manifests: KyselyManifestMeta;
  readonly tags: KyselyTagMeta;
  readonly uploads: KyselyUploadMeta;
  readonly users: KyselyUserMeta;
  readonly groups: KyselyGroupMeta;
  readonly permissions: KyselyPermissionTargetMeta;
  readonly apiTokens: KyselyApiTokenMeta;
  readonly signingKeys: KyselySigningKeyMeta;
  readonly audit: KyselyAuditMeta;
  readonly endedSessions: KyselyEndedSessionMeta;
  readonly properties: KyselyPropertyMeta;
  readonly contentFacts: KyselyContentFactMeta;
  readonly builds: KyselyBuildMeta;
  readonly approvals: KyselyApprovalMeta;
  readonly promotions: KyselyPromotionMeta;
  readonly tagMoves: KyselyTagMoveMeta;
  readonly lifecycle: KyselyLifecycleMeta;
  readonly gc: KyselyGcMeta;
  readonly outbox: KyselyOutboxMeta;
  readonly webhooks: KyselyWebhookMeta;

  private constructor(
    private readonly db: Kysely<Database>,
    now: () => Date,
    /** The group-commit flusher of an on-disk store in GROUP mode. */
    readonly flusher: WalFlusher | undefined,
  ) {
    const ctx: QueryContext = { db, violation: sqliteViolation, now };
    this.repositories = new KyselyRepositoryMeta(ctx);
    this.blobs = new KyselyBlobLinkMeta(ctx);
    this.manifests = new KyselyManifestMeta(ctx);
    this.tags = new KyselyTagMeta(ctx);
    this.uploads = new KyselyUploadMeta(ctx);
    this.users = new KyselyUserMeta(ctx);
    this.groups = new KyselyGroupMeta(ctx);
    this.permissions = new KyselyPermissionTargetMeta(ctx);
    this.apiTokens = new KyselyApiTokenMeta(ctx);
    this.signingKeys = new KyselySigningKeyMeta(ctx);
    this.audit = new KyselyAuditMeta(ctx);
    this.endedSessions = new KyselyEndedSessionMeta(ctx);
    this.properties = new KyselyPropertyMeta(ctx);
    this.contentFacts = new KyselyContentFactMeta(ctx);
    this.builds = new KyselyBuildMeta(ctx);
    this.approvals = new KyselyApprovalMeta(ctx);
    this.promotions = new KyselyPromotionMeta(ctx);
    this.tagMoves = new KyselyTagMoveMeta(ctx);
    this.lifecycle = new KyselyLifecycleMeta(ctx);
    this.gc = new KyselyGcMeta(ctx);
    this.outbox = new KyselyOutboxMeta(ctx);
    this.webhooks = new KyselyWebhookMeta(ctx);
  }

  /** Opens (creating if needed) the database and, unless told otherwise, migrates it. */
  static async open(options: SqliteStoreOptions): Promise<SqliteMetadataStore> {
    const synchronous = options.synchronous ?? 'GROUP';
    const database = openSqlite(options.file, synchronous);
    const onDisk = options.file !== ':memory:' && options.file !== '';
    const flusher =
      synchronous === 'GROUP' && onDisk ? new WalFlusher(database, `${options.file}-wal`) : undefined;
    const dialect = new ImmediateSqliteDialect({ database }, flusher);
    const db = new Kysely<Database>(options.log ? { dialect, log: options.log } : { dialect });
    const store = new SqliteMetadataStore(db, options.now ?? (() => new Date()), flusher);
    if (options.migrate === false) return store;
    try {
      await store.migrate();
      return store;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  migrate(): Promise<void> {
    return migrateToLatest(this.db);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('repositories').select('key').limit(1).execute();
  }

  /** Lets the call holding the connection finish, then closes the file (checkpointing the WAL). */
  async close(): Promise<void> {
    await this.db.destroy();
    await this.flusher?.close();
  }
}
