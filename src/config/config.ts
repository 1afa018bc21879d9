import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { cronProblem } from '../lifecycle/gc/schedule.ts';
import { entryProblem, isAddressRange } from '../net/address-policy.ts';

/**
 * Configuration, lowest precedence first: defaults, the YAML file (`--config` or GANTRY_CONFIG),
 * environment variables (GANTRY_*), command-line flags. Validated once at start-up; every bad
 * value is reported with where it came from.
 */
export const ConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.coerce.number().int().min(0).max(65535).default(5000),
    data: z.string().min(1).default('./data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Repository that OCI names go to when their first segment is no repository key; '' for none. */
    defaultRepository: z.string().default('docker'),
    /** Upload sessions untouched for this long are discarded. */
    uploadTtlHours: z.coerce.number().positive().default(24),
    /** Garbage collection keeps blobs linked or written within this many hours before a run. */
    gcGraceHours: z.coerce.number().min(0).default(6),
    /** When garbage collection runs by itself: a cron expression (5 or 6 fields); '' for never. */
    gcSchedule: z
      .string()
      .default('')
      .refine((v) => v === '' || cronProblem(v) === undefined, {
        message: 'must be a cron expression such as "0 3 * * *"',
      }),
    /** Garbage collection deletions per second (links and blobs); 0 for no limit. */
    gcDeletesPerSecond: z.coerce.number().min(0).default(0),
    /** Bytes of manifests kept in memory for hot reads. */
    manifestCacheBytes: z.coerce
      .number()
      .int()
      .min(0)
      .default(64 * 1024 * 1024),
    /** Host method: requests whose Host is one of these names address that repository. */
    repositoryHosts: mapping('host name', z.string().regex(/^[a-z0-9.-]+$/i, 'must be a host name')),
    /** Port method: extra ports Gantry listens on, each addressing one repository. */
    repositoryPorts: mapping('port', z.string().regex(/^\d{1,5}$/, 'must be a port number')),
    /** Password of `admin` when the instance is created; random (printed once) when empty. */
    adminPassword: z.string().optional(),
    /** `service` of the Docker token challenge and audience of registry tokens; the same on every node. */
    authService: z.string().min(1).default('gantry'),
    /** Base URL clients reach Gantry at (the token realm); taken from each request's Host when empty. */
    publicUrl: z.string().url().optional(),
    /** Believe X-Forwarded-For/-Proto/-Host from the proxy in front (client addresses, token realm). */
    trustProxy: z
      .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean())
      .default(false),
    /** Lifetime of registry tokens. */
    tokenTtlSeconds: z.coerce.number().int().min(30).max(86_400).default(300),
    /** Lifetime of refresh tokens (what `docker login` keeps). */
    refreshTokenTtlHours: z.coerce.number().int().min(1).default(720),
    /** Failed logins per user name within loginWindowSeconds before further attempts wait. */
    loginMaxFailures: z.coerce.number().int().min(1).default(5),
    /** Failed logins per client address within loginWindowSeconds before further attempts wait. */
    loginMaxFailuresPerAddress: z.coerce.number().int().min(1).default(20),
    loginWindowSeconds: z.coerce.number().int().min(1).default(300),
    /**
     * The promotion pipeline the web UI shows: local repository keys in order. Keys that are not
     * local repositories are left out; when none is left, every local repository in key order.
     */
    pipeline: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((k) => k.trim())
                .filter((k) => k !== '')
            : v,
        z.array(z.string().min(1)),
      )
      .default(['docker-dev-local', 'docker-staging-local', 'docker-prod-local']),
    /**
     * How long an upstream found unreachable (connection refused, timed out) is not asked again:
     * requests meanwhile answer at once instead of each waiting for a connect timeout. 0: always ask.
     */
    upstreamUnreachableSeconds: z.coerce.number().min(0).max(3600).default(30),
    /** A request body that sends nothing for this long is cut (the upload stays resumable). */
    bodyIdleTimeoutSeconds: z.coerce.number().positive().max(86_400).default(60),
    /** On SIGTERM/SIGINT, in-flight requests get this long to finish before their connections close. */
    shutdownDrainSeconds: z.coerce.number().min(0).max(3600).default(30),
    /** Directory of the built web UI (`npm run build:web`), served at /ui. */
    uiDir: z.string().min(1).optional(),
    /**
     * Upstream addresses remote repositories may reach although the built-in policy refuses
     * them (loopback, link-local, private …): CIDR ranges, addresses, host names, `*.domain`.
     */
    upstreamAllow: addressList({ names: true }),
    /** Upstream addresses refused on top of the built-in ones, even when upstreamAllow covers them. */
    upstreamDeny: addressList({ names: false }),
    /** Key that encrypts secrets at rest (signing keys, upstream passwords): base64 of 32 bytes. */
    secretKey: z
      .string()
      .refine(
        (v) => Buffer.from(v, 'base64').length === 32,
        'must be 32 bytes in base64 (openssl rand -base64 32)',
      )
      .optional(),
    /** File holding that key (generated on first start when absent); default `<data>/secret.key`. */
    secretKeyFile: z.string().min(1).optional(),
    /**
     * Bearer token that may read GET /metrics on the main port (administrators always may);
     * at least 16 characters.
     */
    metricsToken: z.string().min(16, 'must be at least 16 characters (openssl rand -hex 32)').optional(),
    /** A listener of its own (on `host`) serving GET /metrics without credentials; off when absent. */
    metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
    /**
     * Check every /api/v1 response against its documented schema; a mismatch is logged and
     * answered 500. For tests and staging: it costs a schema check per response.
     */
    validateResponses: z
      .preprocess(
        (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
        z.boolean(),
      )
      .default(false),
    /** A webhook delivery still failing this long after its event is dead-lettered. */
    webhookMaxAgeSeconds: z.coerce
      .number()
      .positive()
      .max(30 * 86_400)
      .default(86_400),
    /** Time a receiver gets to answer one attempt. */
    webhookTimeoutSeconds: z.coerce.number().positive().max(300).default(10),
    /** Wait before the first retry; doubled per attempt (with jitter), capped at 1 hour. */
    webhookRetrySeconds: z.coerce.number().positive().max(3600).default(5),
    /** Attempts in flight at once per subscription (a slow receiver holds only its own). */
    webhookConcurrency: z.coerce.number().int().min(1).max(64).default(4),
    /** The dispatcher lease: after a holder dies, another process takes over within this. */
    webhookLeaseSeconds: z.coerce.number().int().min(2).max(600).default(30),
    /** Finished deliveries and fully delivered events are pruned once this old (replay window). */
    webhookRetentionDays: z.coerce.number().int().min(1).max(3650).default(30),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
type RawConfig = Partial<Record<keyof Config, unknown>>;

const ENV_NAMES: Record<keyof Config, string> = {
  host: 'GANTRY_HOST',
  port: 'GANTRY_PORT',
  data: 'GANTRY_DATA',
  logLevel: 'GANTRY_LOG_LEVEL',
  defaultRepository: 'GANTRY_DEFAULT_REPOSITORY',
  uploadTtlHours: 'GANTRY_UPLOAD_TTL_HOURS',
  gcGraceHours: 'GANTRY_GC_GRACE_HOURS',
  gcSchedule: 'GANTRY_GC_SCHEDULE',
  gcDeletesPerSecond: 'GANTRY_GC_DELETES_PER_SECOND',
  manifestCacheBytes: 'GANTRY_MANIFEST_CACHE_BYTES',
  repositoryHosts: 'GANTRY_REPOSITORY_HOSTS',
  repositoryPorts: 'GANTRY_REPOSITORY_PORTS',
  adminPassword: 'GANTRY_ADMIN_PASSWORD',
  authService: 'GANTRY_AUTH_SERVICE',
  publicUrl: 'GANTRY_PUBLIC_URL',
  trustProxy: 'GANTRY_TRUST_PROXY',
  tokenTtlSeconds: 'GANTRY_TOKEN_TTL_SECONDS',
  refreshTokenTtlHours: 'GANTRY_REFRESH_TOKEN_TTL_HOURS',
  loginMaxFailures: 'GANTRY_LOGIN_MAX_FAILURES',
  loginMaxFailuresPerAddress: 'GANTRY_LOGIN_MAX_FAILURES_PER_ADDRESS',
  loginWindowSeconds: 'GANTRY_LOGIN_WINDOW_SECONDS',
  pipeline: 'GANTRY_PIPELINE',
  uiDir: 'GANTRY_UI_DIR',
  upstreamUnreachableSeconds: 'GANTRY_UPSTREAM_UNREACHABLE_SECONDS',
  bodyIdleTimeoutSeconds: 'GANTRY_BODY_IDLE_TIMEOUT_SECONDS',
  shutdownDrainSeconds: 'GANTRY_SHUTDOWN_DRAIN_SECONDS',
  upstreamAllow: 'GANTRY_UPSTREAM_ALLOW',
  upstreamDeny: 'GANTRY_UPSTREAM_DENY',
  secretKey: 'GANTRY_SECRET_KEY',
  secretKeyFile: 'GANTRY_SECRET_KEY_FILE',
  metricsToken: 'GANTRY_METRICS_TOKEN',
  metricsPort: 'GANTRY_METRICS_PORT',
  validateResponses: 'GANTRY_VALIDATE_RESPONSES',
  webhookMaxAgeSeconds: 'GANTRY_WEBHOOK_MAX_AGE_SECONDS',
  webhookTimeoutSeconds: 'GANTRY_WEBHOOK_TIMEOUT_SECONDS',
  webhookRetrySeconds: 'GANTRY_WEBHOOK_RETRY_SECONDS',
  webhookConcurrency: 'GANTRY_WEBHOOK_CONCURRENCY',
  webhookLeaseSeconds: 'GANTRY_WEBHOOK_LEASE_SECONDS',
  webhookRetentionDays: 'GANTRY_WEBHOOK_RETENTION_DAYS',
};

/** Values never repeated in error messages. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['adminPassword', 'secretKey', 'metricsToken']);

/** A list of address entries, from YAML as a sequence or from the environment as `a,b,c`. */
function addressList(options: { names: boolean }) {
  return z
    .preprocess(
      (v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((e) => e.trim())
              .filter((e) => e !== '')
          : v,
      z.array(
        z.string().superRefine((entry, ctx) => {
          const problem =
            entryProblem(entry) ??
            (!options.names && !isAddressRange(entry)
              ? `${JSON.stringify(entry)} is a host name; this list takes addresses and CIDR ranges only`
              : undefined);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
    )
    .default([]);
}

/**
 * A `key -> repository` map, from YAML as a mapping or from the environment as
 * `a=repo1,b=repo2`.
 */
function mapping(what: string, key: z.ZodString) {
  return z.preprocess(
    (raw) => (typeof raw === 'string' ? parsePairs(raw) : raw),
    z.record(key, z.string().min(1, `names the repository a ${what} maps to`)).default({}),
  );
}

function parsePairs(raw: string): Record<string, string> | string {
  const pairs = raw.split(',').filter((p) => p.trim() !== '');
  const entries = pairs.map((p) => p.split('=').map((x) => x.trim()));
  if (entries.some((e) => e.length !== 2)) return `"${raw}" is not a list of name=repository pairs`;
  return Object.fromEntries(entries as [string, string][]);
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export async function loadConfig(options: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: RawConfig;
}): Promise<Config> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.GANTRY_CONFIG;
  const fromFile = file ? await readConfigFile(file) : {};
  const fromEnv: RawConfig = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as [keyof Config, string][]) {
    if (env[name] !== undefined) fromEnv[key] = env[name];
  }
  const merged = { ...fromFile, ...fromEnv, ...dropUndefined(options.flags ?? {}) };
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const source = describeSource(key, fromFile, fromEnv, options.flags ?? {}, file);
      return `  ${key || '(config)'}: ${issue.message}${source}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return {
    ...result.data,
    data: resolve(result.data.data),
    uiDir: resolve(result.data.uiDir ?? defaultUiDir()),
  };
}

/** Where the built web UI is unless `uiDir` says otherwise: `<project>/web/dist`. */
export function defaultUiDir(): string {
  return join(projectRoot(), 'web', 'dist');
}

/** The directory holding Gantry's package.json (the sources and the bundle sit at different depths). */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return resolve(import.meta.dirname, '..', '..');
    dir = up;
  }
  return dir;
}

async function readConfigFile(file: string): Promise<RawConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`config file ${file} must hold a mapping`);
  return doc as RawConfig;
}

function describeSource(
  key: string,
  file: RawConfig,
  env: RawConfig,
  flags: RawConfig,
  path?: string,
): string {
  const k = key as keyof Config;
  if (flags[k] !== undefined) return ` (from --${kebab(key)})`;
  if (env[k] !== undefined && SECRET_KEYS.has(k)) return ` (from ${ENV_NAMES[k]})`;
  if (env[k] !== undefined) return ` (from ${ENV_NAMES[k]}=${JSON.stringify(env[k])})`;
  if (file[k] !== undefined) return ` (from ${path})`;
  return '';
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function dropUndefined(raw: RawConfig): RawConfig {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}
