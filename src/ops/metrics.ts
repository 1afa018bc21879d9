import type { LogEvent } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../config/logger.ts';

/**
 * The instance's Prometheus metrics: one registry per server (never prom-client's global one, so
 * two servers in one process, as in tests, do not share counters), rendered by `GET /metrics`.
 * Every metric the README lists is defined here, so names, help texts and labels stay in one
 * place; the parts of the server report through the small methods below.
 *
 * How a part of the server reports:
 * - Something that happens (a request, a promotion, a cache hit, a failed delivery): call the
 *   method named after it (`promotion('promoted')`, `remote(...)`, `delivery('failed')`). These
 *   are synchronous, cost a label lookup and an addition, and are safe on hot paths.
 * - A level that lives elsewhere (rows waiting in a table, a queue's length): register a reader
 *   once, at wiring time (`readGauge('outbox', reader)`, `jobQueue('gc', reader)`). Readers run
 *   only when /metrics is scraped, so they may run a query; one that throws is logged and
 *   leaves its metric empty for that scrape rather than failing the whole scrape.
 * - A background job: wrap each run in `timeJob(name, run)` (duration and result per run).
 *
 * Labels must have few values: route names from the route table, repository keys, fixed result
 * words. Never raw URLs, image names, digests or user names.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #log: Logger;
  readonly #httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly #httpReceived: Counter<'route'>;
  readonly #httpSent: Counter<'route'>;
  readonly #remote: Counter<'repository' | 'kind' | 'result'>;
  readonly #upstreamErrors: Counter<'repository' | 'kind'>;
  readonly #promotions: Counter<'result'>;
  readonly #deliveries: Counter<'result'>;
  readonly #jobDuration: Histogram<'job' | 'result'>;
  readonly #jobQueues = new Map<string, () => Promise<number>>();
  readonly #dbDuration: Histogram<'operation' | 'result'>;
  readonly #readers = new Map<GaugeReaderName, () => Promise<number>>();
  #repositories: (() => Promise<Map<string, RepositoryContent>>) | undefined;
  #repositoryRead: Promise<Map<string, RepositoryContent> | undefined> | undefined;

  constructor(options: { log: Logger; processMetrics?: boolean }) {
    this.#log = options.log;
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.#httpDuration = new Histogram({
      name: 'gantry_http_request_duration_seconds',
      help: 'HTTP requests by route, method and status: time from the request to the end of the response (_count is the number of requests)',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#httpReceived = new Counter({
      name: 'gantry_http_received_bytes_total',
      help: 'Bytes received on HTTP connections (request lines, headers and bodies) by route',
      labelNames: ['route'],
      registers,
    });
    this.#httpSent = new Counter({
      name: 'gantry_http_sent_bytes_total',
      help: 'Bytes sent on HTTP connections (status lines, headers and bodies) by route',
      labelNames: ['route'],
      registers,
    });
    this.#remote = new Counter({
      name: 'gantry_remote_cache_requests_total',
      help: 'Reads of remote (pull-through) repositories: result "hit" was answered from the cache, "miss" asked upstream',
      labelNames: ['repository', 'kind', 'result'],
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: 'gantry_remote_upstream_errors_total',
      help: 'Upstream requests of remote repositories that failed, by kind of failure',
      labelNames: ['repository', 'kind'],
      registers,
    });
    this.#promotions = new Counter({
      name: 'gantry_promotions_total',
      help: 'Promotion requests by result: promoted, refused (a gate or rule said no), denied (no permission), failed (any other error)',
      labelNames: ['result'],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'gantry_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result: delivered, failed (to be retried), dead-lettered',
      labelNames: ['result'],
      registers,
    });
    this.#jobDuration = new Histogram({
      name: 'gantry_job_duration_seconds',
      help: 'Runs of background jobs (upload cleanup, GC, indexing …) by job and result',
      labelNames: ['job', 'result'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.#dbDuration = new Histogram({
      name: 'gantry_db_query_duration_seconds',
      help: 'Metadata database statements by operation (select, insert, update, delete, other) and result (ok, error)',
      labelNames: ['operation', 'result'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'gantry_job_queue_length',
      help: 'Work waiting for a background job, by job',
      labelNames: ['job'],
      registers,
      async collect() {
        this.reset();
        for (const [job, read] of metrics.#jobQueues) {
          const value = await metrics.#read(`job queue ${job}`, read);
          if (value !== undefined) this.set({ job }, value);
        }
      },
    });
    this.#repositoryGauge(
      'gantry_repository_images',
      'Images (names holding at least one manifest) per repository',
      'images',
    );
    this.#repositoryGauge('gantry_repository_manifests', 'Manifests per repository', 'manifests');
    this.#repositoryGauge('gantry_repository_blobs', 'Distinct blobs linked per repository', 'blobs');
    this.#repositoryGauge(
      'gantry_repository_blob_bytes',
      'Bytes of the distinct blobs linked per repository (a blob shared by repositories counts in each)',
      'bytes',
    );
    for (const [name, help] of Object.entries(GAUGE_READERS) as [GaugeReaderName, string][]) {
      new Gauge({
        name: `gantry_${name}`,
        help,
        registers,
        async collect() {
          this.reset();
          const read = metrics.#readers.get(name);
          const value = read && (await metrics.#read(name, read));
          if (value !== undefined) this.set(value);
        },
      });
    }
  }

  #repositoryGauge(name: string, help: string, field: keyof RepositoryContent): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      labelNames: ['repository'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const content = await metrics.#readRepositoriesOnce();
        for (const [repository, c] of content ?? []) this.set({ repository }, c[field]);
      },
    });
  }

  #readRepositoriesOnce(): Promise<Map<string, RepositoryContent> | undefined> {
    const read = this.#repositories;
    if (!read) return Promise.resolve(undefined);
    if (!this.#repositoryRead) {
      const started = (async () => {
        try {
          return await read();
        } catch (err) {
          this.#log.warn(
            { err, metric: 'repositories' },
            'metric could not be read; left out of this scrape',
          );
          return undefined;
        }
      })();
      this.#repositoryRead = started;
      void started.finally(() => {
        if (this.#repositoryRead === started) this.#repositoryRead = undefined;
      });
    }
    return this.#repositoryRead;
  }

  /** One finished HTTP request (ops/http-metrics.ts). */
  request(r: {
    route: string;
    method: string;
    status: number;
    seconds: number;
    received: number;
    sent: number;
  }): void {
    this.#httpDuration.observe({ route: r.route, method: r.method, status: String(r.status) }, r.seconds);
    if (r.received > 0) this.#httpReceived.inc({ route: r.route }, r.received);
    if (r.sent > 0) this.#httpSent.inc({ route: r.route }, r.sent);
  }

  /** A read of a remote repository: answered from the cache (`hit`) or by asking upstream (`miss`). */
  remote(repository: string, kind: 'manifest' | 'blob' | 'tags', result: 'hit' | 'miss'): void {
    this.#remote.inc({ repository, kind, result });
  }

  /** An upstream request that failed; `kind` is UpstreamError's kind, or `other`. */
  upstreamError(repository: string, kind: string): void {
    this.#upstreamErrors.inc({ repository, kind });
  }

  promotion(result: 'promoted' | 'refused' | 'denied' | 'failed'): void {
    this.#promotions.inc({ result });
  }

  /** One webhook delivery attempt (for the outbox dispatcher). */
  delivery(result: 'delivered' | 'failed' | 'dead-lettered'): void {
    this.#deliveries.inc({ result });
  }

  /** One metadata statement (fed by kysely's query log, see dbQueryLogger). */
  dbQuery(operation: string, seconds: number, ok: boolean): void {
    this.#dbDuration.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  /** Reads one of the gauges of GAUGE_READERS at scrape time; the last registration wins. */
  readGauge(name: GaugeReaderName, read: () => Promise<number>): void {
    this.#readers.set(name, read);
  }

  /** Reads the number of items waiting for the job at scrape time. */
  jobQueue(job: string, read: () => Promise<number>): void {
    this.#jobQueues.set(job, read);
  }

  /** Runs one pass of a background job, recording its duration with result `ok` or `error`. */
  async timeJob<T>(job: string, run: () => Promise<T>): Promise<T> {
    const end = this.#jobDuration.startTimer({ job });
    try {
      const value = await run();
      end({ result: 'ok' });
      return value;
    } catch (error) {
      end({ result: 'error' });
      throw error;
    }
  }

  /**
   * Reads the per-repository gauges at scrape time. Their four gauges share one read per
   * scrape (prom-client collects them concurrently; the read in flight is reused).
   */
  readRepositories(read: () => Promise<Map<string, RepositoryContent>>): void {
    this.#repositories = read;
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  async #read(what: string, read: () => Promise<number>): Promise<number | undefined> {
    try {
      return await read();
    } catch (err) {
      this.#log.warn({ err, metric: what }, 'metric could not be read; left out of this scrape');
      return undefined;
    }
  }
}

/** What one repository holds, for the per-repository gauges. */
export interface RepositoryContent {
  images: number;
  manifests: number;
  blobs: number;
  bytes: number;
}

/** Gauges whose value a reader registered with `readGauge` supplies at scrape time. */
const GAUGE_READERS = {
  uploads_in_progress: 'Blob uploads started and neither finished, cancelled nor expired',
  outbox_backlog: 'Events in the outbox not yet delivered to every subscription',
} as const;

export type GaugeReaderName = keyof typeof GAUGE_READERS;

/** The operation label of a statement: its first keyword, from a fixed set. */
export function statementKind(sql: string): string {
  // Runs once per statement: a prefix compare, no regular expression. kysely's SQL has no
  // leading blanks; anything else (WITH, PRAGMA, raw SQL) is `other`.
  const word = sql.slice(0, 6).toLowerCase();
  return word === 'select' || word === 'insert' || word === 'update' || word === 'delete' ? word : 'other';
}

/**
 * kysely's query log as the database latency histogram: pass it as the store's `log` option.
 * kysely times each statement itself; transactions' BEGIN and COMMIT are not statements to it.
 */
export function dbQueryLogger(metrics: Metrics): (event: LogEvent) => void {
  return (event) =>
    metrics.dbQuery(
      statementKind(event.query.sql),
      event.queryDurationMillis / 1000,
      event.level === 'query',
    );
}
