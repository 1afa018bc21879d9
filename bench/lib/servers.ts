import type { ChildProcess } from 'node:child_process';

import { startGantry } from '../../test/support/gantry.ts';
import { startReferenceRegistry } from '../../test/support/reference-registry.ts';

/** A registry process the bench started; `pid` is what the CPU and RSS probes read. */
export interface Server {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts CNCF distribution 2.8 (`docker-registry` from Debian) on a free loopback port; with
 * `proxyRemoteUrl` it is a pull-through cache of that registry (`proxy.remoteurl`).
 */
export async function startReference(options: { proxyRemoteUrl?: string } = {}): Promise<Server> {
  const reference = await startReferenceRegistry({ ...options, logLevel: 'error' });
  return { url: reference.url, pid: reference.pid, dataDir: reference.dataDir, stop: () => reference.stop() };
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
