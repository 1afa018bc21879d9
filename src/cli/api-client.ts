import type { Command } from 'commander';

/**
 * The exit codes, documented in the README ("Exit codes"). Scripts branch on them, so a code
 * never changes meaning: 1 is "the answer was no" (a failing check, gate or dry run, or a
 * request the server refused with a 4xx), 2 a mistake on the command line caught before or
 * without asking the server, 3 "no answer" (Gantry unreachable or failing with a 5xx).
 */
export const EXIT = { ok: 0, notPassed: 1, usage: 2, unavailable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The CLI talks to a running Gantry through the same /api/v1 the UI uses. */
export class ApiClient {
  constructor(
    private readonly server: string,
    /** The `Authorization` header to send, when the user gave credentials. */
    private readonly authorization?: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.authorization) headers.Authorization = this.authorization;
    try {
      res = await fetch(new URL(path, this.server), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new CliError(
        `cannot reach Gantry at ${this.server} (${cause}); start it with "gantry serve" or pass --server`,
        EXIT.unavailable,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const detail = (parsed as { detail?: string } | undefined)?.detail ?? text;
      const hint =
        res.status === 401 && !this.authorization ? ' (pass --user and --password, or --token)' : '';
      throw new CliError(
        `${res.status} ${res.statusText}: ${detail}${hint}`,
        res.status >= 500 ? EXIT.unavailable : EXIT.notPassed,
      );
    }
    return parsed as T;
  }
}

/**
 * An error whose message is all the user needs: printed without a stack trace, then the process
 * exits with `exitCode` (a usage error unless said otherwise).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
  ) {
    super(message);
  }
}

export function serverUrl(option: string | undefined): string {
  return option ?? process.env.GANTRY_URL ?? 'http://127.0.0.1:5000';
}

export interface GlobalOptions {
  server?: string;
  user?: string;
  password?: string;
  token?: string;
}

/**
 * The `Authorization` header for the global options (which win) or GANTRY_USER,
 * GANTRY_PASSWORD and GANTRY_TOKEN: Bearer with an API token, Basic with a user name and
 * password (or with a user name and that user's API token). Undefined: anonymous.
 */
export function authorization(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = (name: string) => env[name] || undefined;
  const user = options.user ?? fromEnv('GANTRY_USER');
  const token = options.token ?? (options.password === undefined ? fromEnv('GANTRY_TOKEN') : undefined);
  const password = options.password ?? (options.token === undefined ? fromEnv('GANTRY_PASSWORD') : undefined);
  if (token !== undefined) {
    if (password !== undefined) throw new CliError('give either a password or an API token, not both');
    return user === undefined ? `Bearer ${token}` : basic(user, token);
  }
  if (user === undefined && password === undefined) return undefined;
  if (user === undefined) throw new CliError('a password needs a user name: pass --user or set GANTRY_USER');
  if (password === undefined) {
    throw new CliError(`no password for ${user}: pass --password or set GANTRY_PASSWORD (or use --token)`);
  }
  return basic(user, password);
}

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

/** The program's own options: a subcommand's `--user` or `--password` means something else. */
export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/** A client for the server and credentials the command line (or environment) names. */
export function clientFor(cmd: Command): ApiClient {
  const options = globalOptions(cmd);
  return new ApiClient(serverUrl(options.server), authorization(options));
}
