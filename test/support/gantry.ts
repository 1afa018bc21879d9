import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

/** The administrator every test server is created with (GANTRY_ADMIN_PASSWORD). */
export const ADMIN = { user: 'admin', password: 'gantry-test-admin' } as const;

/** `Basic …` for a user and password. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The permission target that opens a test server to anonymous callers (see startGantry). */
export const OPEN_ACCESS_TARGET = 'test-open-access';

async function openToAnonymous(url: string, password: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/permissions`, {
    method: 'POST',
    headers: { Authorization: basicAuth(ADMIN.user, password), 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: OPEN_ACCESS_TARGET, repositories: ['*'], anonymous: ['manage'] }),
  });
  const text = await res.text();
  // 409: restarted on data where the target exists already.
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`opening access failed: ${res.status} ${text}`);
}

export interface RunningGantry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, what clients put in image references. */
  host: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server printed so far (JSON log lines). */
  output(): string;
  /** SIGTERM and wait; removes the data dir unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL and wait: the crash-test way to stop. Keeps the data dir. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Starts `gantry serve` as a child process on a free loopback port and waits until `GET /v2/`
 * answers. Pass `dataDir` to restart on existing data (crash tests); otherwise a fresh temp dir.
 */
export async function startGantry(
  options: {
    dataDir?: string;
    port?: number;
    env?: Record<string, string>;
    /**
     * Grant anonymous callers every action on every repository (through a permission target,
     * made with the admin's credentials), so tests about other things need no credentials.
     * Default true; access-control tests pass false.
     */
    openAccess?: boolean;
  } = {},
) {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gantry-data-')));
  const port = options.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'bin', 'gantry.js'),
      'serve',
      '--data',
      dataDir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      env: {
        ...process.env,
        GANTRY_LOG_LEVEL: 'warn',
        GANTRY_ADMIN_PASSWORD: ADMIN.password,
        // Every /api/v1 response of every integration test is checked against its documented schema.
        GANTRY_VALIDATE_RESPONSES: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  await waitForRegistry(url, child, () => output);
  if (options.openAccess !== false)
    await openToAnonymous(url, options.env?.GANTRY_ADMIN_PASSWORD ?? ADMIN.password);
  const running: RunningGantry = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output: () => output,
    async stop(stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (!stopOptions.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  return running;
}

async function waitForRegistry(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gantry exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`gantry did not answer on ${url} within 30 s:\n${output()}`);
}
