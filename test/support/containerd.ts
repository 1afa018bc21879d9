// A private containerd for tests: root, state, socket and the `opt` plugin's directory all under a
// temp dir; the CRI plugin disabled (it would open a TCP port and want a CNI setup).
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder } from '../fixtures/debian.ts';
import { type RunOptions, type RunResult, run } from './clients.ts';
import { spawnDaemon, waitForDaemon } from './daemon.ts';

export interface RunningContainerd {
  dir: string;
  socket: string;
  /** `ctr -a SOCKET -n NAMESPACE args…` */
  ctr(args: string[], options?: RunOptions): Promise<RunResult>;
  output(): string;
  /** Stops containerd, unmounts whatever is left below `dir`, removes it. */
  stop(): Promise<void>;
}

/** Why containerd cannot run here, or undefined. */
export function containerdUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'containerd needs root';
  for (const bin of ['/usr/bin/containerd', '/usr/bin/ctr']) {
    if (!existsSync(bin)) return `${bin} is missing (apt-get install containerd)`;
  }
  return undefined;
}

function configToml(dir: string, socket: string): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'version = 2',
    `root = ${q(join(dir, 'root'))}`,
    `state = ${q(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${q(socket)}`,
    '[ttrpc]',
    `  address = ${q(`${socket}.ttrpc`)}`,
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

export async function startContainerd(options: { namespace?: string } = {}): Promise<RunningContainerd> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-ctrd-'));
  const socket = join(dir, 'containerd.sock');
  const namespace = options.namespace ?? 'gantry-e2e';
  await writeFile(join(dir, 'config.toml'), configToml(dir, socket));
  const daemon = spawnDaemon('/usr/bin/containerd', ['--config', join(dir, 'config.toml')]);
  const ctr = (args: string[], runOptions?: RunOptions) =>
    run('/usr/bin/ctr', ['-a', socket, '-n', namespace, ...args], runOptions);
  const stop = async () => {
    await daemon.stop();
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForDaemon(
      'containerd',
      daemon,
      async () => (await ctr(['version'], { timeoutMs: 5_000 })) !== null,
      30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, socket, ctr, output: daemon.output, stop };
}
