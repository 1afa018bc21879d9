// A private Docker engine for tests (Debian's docker.io dockerd, the preinstalled docker CLI), on a
// containerd the caller started, with data, exec root, socket and CLI config under a temp dir, and
// no iptables or bridge changes to the host. 127.0.0.0/8 registries are insecure (plain HTTP) by
// default, so no daemon.json entry is needed for a loopback registry.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder } from '../fixtures/debian.ts';
import { type RunOptions, type RunResult, run } from './clients.ts';
import { spawnDaemon, waitForDaemon } from './daemon.ts';

export interface RunningDockerd {
  dir: string;
  /** `unix://…/docker.sock` */
  host: string;
  /** The docker CLI against this engine. */
  docker(args: string[], options?: RunOptions): Promise<RunResult>;
  output(): string;
  stop(): Promise<void>;
}

const DOCKERD = '/usr/sbin/dockerd';

/** Why dockerd cannot run here, or undefined. */
export function dockerdUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!existsSync(DOCKERD))
    return `${DOCKERD} is missing (apt-get install --no-install-recommends docker.io)`;
  return undefined;
}

function dockerBinary(): string {
  for (const candidate of ['/usr/local/bin/docker', '/usr/bin/docker'])
    if (existsSync(candidate)) return candidate;
  return 'docker';
}

export async function startDockerd(options: { containerdSocket: string }): Promise<RunningDockerd> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-dockerd-'));
  const host = `unix://${join(dir, 'docker.sock')}`;
  await mkdir(join(dir, 'cli'));
  // An empty daemon config so /etc/docker/daemon.json, if any, does not leak in.
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  const daemon = spawnDaemon(DOCKERD, [
    '--config-file',
    join(dir, 'daemon.json'),
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '-H',
    host,
    '--containerd',
    options.containerdSocket,
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
  ]);
  const cliEnv = { DOCKER_HOST: host, DOCKER_CONFIG: join(dir, 'cli') };
  const docker = (args: string[], runOptions: RunOptions = {}) =>
    run(dockerBinary(), args, { ...runOptions, env: { ...cliEnv, ...runOptions.env } });
  const stop = async () => {
    await daemon.stop(20_000);
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const probe = async () =>
      (await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 })) !== null;
    await waitForDaemon('dockerd', daemon, probe, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, host, docker, output: daemon.output, stop };
}
