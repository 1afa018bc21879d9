// The yardstick: CNCF distribution 2.8 (Debian's `docker-registry`) on a free loopback port,
// with filesystem storage and deletes enabled, in a temp dir that `stop()` removes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './gantry.ts';

export interface ReferenceRegistryOptions {
  /** Contents of an htpasswd file (bcrypt lines, as `htpasswd -Bbn user pass` prints): enables basic auth. */
  htpasswd?: string;
  /** Upstream URL: makes it a pull-through cache (`proxy.remoteurl`). */
  proxyRemoteUrl?: string;
  /** `info` (default) logs every request; benchmarks use `error` so logging does not skew them. */
  logLevel?: 'info' | 'error';
}

export interface RunningReferenceRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, what clients put in image references. */
  host: string;
  port: number;
  /** Of the registry process: what CPU and memory probes read. */
  pid: number;
  /** Temp dir holding config.yml, htpasswd and the storage root (`storage/`). */
  dataDir: string;
  /** The last ~1 MB the registry printed. */
  output(): string;
  /** SIGTERM, wait, remove dataDir. */
  stop(): Promise<void>;
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const OUTPUT_LIMIT = 1 << 20;

/** YAML is a superset of JSON, so the config is written as JSON (no quoting rules to get wrong). */
function configFor(dataDir: string, port: number, options: ReferenceRegistryOptions): unknown {
  return {
    version: 0.1,
    log: { level: options.logLevel ?? 'info', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dataDir, 'storage') }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: 'gantry-e2e-reference-registry' },
    ...(options.htpasswd
      ? { auth: { htpasswd: { realm: 'gantry-e2e', path: join(dataDir, 'htpasswd') } } }
      : {}),
    ...(options.proxyRemoteUrl ? { proxy: { remoteurl: options.proxyRemoteUrl } } : {}),
  };
}

async function waitUntilServing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited with ${child.exitCode}:\n${output()}`);
    const status = await fetch(`${url}/v2/`)
      .then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      })
      .catch(() => 0);
    if (status === 200 || status === 401) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not answer on ${url} within 20 s:\n${output()}`);
}

export async function startReferenceRegistry(
  options: ReferenceRegistryOptions = {},
): Promise<RunningReferenceRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gantry-refreg-'));
  const port = await freePort();
  if (options.htpasswd) await writeFile(join(dataDir, 'htpasswd'), options.htpasswd);
  const configPath = join(dataDir, 'config.yml');
  await writeFile(configPath, `${JSON.stringify(configFor(dataDir, port, options), null, 2)}\n`);
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child, () => output);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (child.pid === undefined) throw new Error('docker-registry has no pid');
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
