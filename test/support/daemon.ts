// A long-running child process for tests (containerd, dockerd): output kept for diagnostics,
// readiness polled with a probe, stopped with SIGTERM and, after a grace period, SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';

const OUTPUT_LIMIT = 1 << 20;

export interface Daemon {
  child: ChildProcess;
  /** The last ~1 MB of stdout+stderr. */
  output(): string;
  /** SIGTERM; SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnDaemon(file: string, args: string[], env?: Record<string, string>): Daemon {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.on('error', (err) => collect(Buffer.from(`spawn error: ${err.message}\n`)));
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.once('error', () => done());
  });
  return {
    child,
    output: () => output,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it resolves true; fails early when the daemon exits and, at the deadline,
 * with the daemon's output attached.
 */
export async function waitForDaemon(
  name: string,
  daemon: Daemon,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { exitCode, signalCode } = daemon.child;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(`${name} exited (${exitCode ?? signalCode}) before it was ready:\n${daemon.output()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready within ${timeoutMs / 1000} s:\n${daemon.output()}`);
}
