import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, startGantry } from '../../test/support/gantry.ts';

/** A registry process the bench started; `pid` is what the CPU and RSS probes read. */
export interface Server {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

// Kept here rather than imported from test/support so the bench needs no test-only helper with a
// pid; see the report to the lead about deduplicating with test/support/reference-registry.ts.
function referenceConfig(dataDir: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dataDir, 'registry')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/** Starts CNCF distribution 2.8 (`docker-registry` from Debian) on a free loopback port. */
export async function startReference(): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-reference-'));
  const port = await freePort();
  const configPath = join(dataDir, 'config.yml');
  await writeFile(configPath, referenceConfig(dataDir, port));
  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child, () => output);
  return {
    url,
    pid: requirePid(child),
    dataDir,
    stop: async () => {
      await stopChild(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startGantryServer(): Promise<Server> {
  const gantry = await startGantry();
  return {
    url: gantry.url,
    pid: requirePid(gantry.process),
    dataDir: gantry.dataDir,
    stop: () => gantry.stop(),
  };
}

function requirePid(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('server process has no pid');
  return child.pid;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`registry did not answer on ${url} within 20 s:\n${output()}`);
}
