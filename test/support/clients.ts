// Running real registry clients as child processes, with timeouts and errors that carry the
// client's own output (that text is what a bug report needs).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | string | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    command: string,
    exitCode: number | string | null,
    stdout: string,
    stderr: string,
    cause: string,
  ) {
    super(`\`${command}\` failed (${cause}):\n${stderr.trim() || stdout.trim()}`);
    this.name = 'CommandError';
    this.command = command;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs `file args…`; resolves with its output, rejects with a CommandError on non-zero exit or timeout. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeout = options.timeoutMs ?? 120_000;
  const command = shellQuote([file, ...args]);
  return new Promise((done, fail) => {
    execFile(
      file,
      args,
      {
        timeout,
        killSignal: 'SIGKILL',
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, ...options.env },
        cwd: options.cwd,
      },
      (err, stdout, stderr) => {
        if (!err) return done({ stdout, stderr: stderr.toString() });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const cause = e.killed ? `killed after ${timeout} ms` : `exit ${String(e.code ?? e.message)}`;
        fail(new CommandError(command, e.code ?? null, stdout.toString(), stderr.toString(), cause));
      },
    );
  });
}

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// ---------------------------------------------------------------- skopeo (containers/image)

const SKOPEO = '/usr/bin/skopeo';
const SKOPEO_TIMEOUT = 5 * 60_000;

export interface CopyOptions {
  /** `--all`: the whole index and every child, not just this machine's platform. */
  all?: boolean;
  /** Default true: keep manifests and blobs byte-identical (no recompression, no rewrite). */
  preserveDigests?: boolean;
  extraArgs?: string[];
  /** Global `--debug`: stderr then narrates each request (e.g. "... mount OK"). */
  debug?: boolean;
}

/** `skopeo copy SRC DEST` with TLS verification off on both sides (plain-HTTP loopback registry). */
export async function skopeoCopy(src: string, dest: string, options: CopyOptions = {}): Promise<RunResult> {
  const args = [
    ...(options.debug ? ['--debug'] : []),
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
  ];
  if (options.all) args.push('--all');
  if (options.preserveDigests ?? true) args.push('--preserve-digests');
  args.push(...(options.extraArgs ?? []), src, dest);
  return run(SKOPEO, args, { timeoutMs: SKOPEO_TIMEOUT });
}

export interface RawManifest {
  bytes: Buffer;
  digest: string;
  json: { mediaType?: string; manifests?: { digest: string }[]; layers?: { digest: string }[] } & Record<
    string,
    unknown
  >;
}

/** `skopeo inspect --raw`: the manifest bytes exactly as the registry served them, and their digest. */
export async function skopeoInspectRaw(ref: string): Promise<RawManifest> {
  const { stdout } = await run(SKOPEO, ['inspect', '--tls-verify=false', '--raw', ref], {
    timeoutMs: 60_000,
  });
  return {
    bytes: stdout,
    digest: sha256Of(stdout),
    json: JSON.parse(stdout.toString()) as RawManifest['json'],
  };
}

export interface ImageConfigJson {
  architecture?: string;
  os?: string;
  config?: { Cmd?: string[]; Labels?: Record<string, string> };
  rootfs?: { diff_ids?: string[] };
}

/** `skopeo inspect --config --raw`: the image config blob as stored. */
export async function skopeoInspectConfig(ref: string): Promise<{ bytes: Buffer; json: ImageConfigJson }> {
  const { stdout } = await run(SKOPEO, ['inspect', '--tls-verify=false', '--config', '--raw', ref], {
    timeoutMs: 60_000,
  });
  return { bytes: stdout, json: JSON.parse(stdout.toString()) as ImageConfigJson };
}

/** `skopeo inspect` (the summary: Digest, Architecture, Labels, …); `extraArgs` e.g. `--override-arch`. */
export async function skopeoInspect(ref: string, extraArgs: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await run(SKOPEO, ['inspect', '--tls-verify=false', ...extraArgs, ref], {
    timeoutMs: 60_000,
  });
  return JSON.parse(stdout.toString()) as Record<string, unknown>;
}

/** `skopeo list-tags docker://HOST/NAME`: the tags in the order the registry listed them. */
export async function skopeoListTags(repoRef: string): Promise<string[]> {
  const { stdout } = await run(SKOPEO, ['list-tags', '--tls-verify=false', repoRef], { timeoutMs: 60_000 });
  return (JSON.parse(stdout.toString()) as { Tags: string[] }).Tags;
}

export async function skopeoDelete(ref: string): Promise<RunResult> {
  return run(SKOPEO, ['delete', '--tls-verify=false', ref], { timeoutMs: 60_000 });
}

/** Resolves with the CommandError a command must fail with; rejects if it succeeds. */
export async function expectFailure(promise: Promise<unknown>): Promise<CommandError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error('expected the command to fail, but it succeeded');
}
