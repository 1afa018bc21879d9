/**
 * The registry a test file talks to: a fresh Gantry per file, or, when `REGISTRY_TEST_URL` is
 * set, an already running registry (e.g. the reference registry, to compare behaviour). Tests
 * that must control the process (restarts, crashes, start-up environment) skip in that mode.
 */
import { after, before } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';

export const EXTERNAL_URL = process.env['REGISTRY_TEST_URL'];

/** `skip` option for tests that need their own Gantry process. */
export const needsOwnProcess = EXTERNAL_URL ? 'REGISTRY_TEST_URL points at an external registry' : false;

export interface Target {
  url: string;
  client: RegistryClient;
  /** Undefined when the target is external. */
  gantry?: RunningGantry;
  stop(): Promise<void>;
}

export async function startTarget(options: { env?: Record<string, string> } = {}): Promise<Target> {
  if (EXTERNAL_URL) {
    return { url: EXTERNAL_URL, client: new RegistryClient(EXTERNAL_URL), stop: async () => {} };
  }
  const gantry = await startGantry(options.env ? { env: options.env } : {});
  return { url: gantry.url, client: new RegistryClient(gantry.url), gantry, stop: () => gantry.stop() };
}

/**
 * Starts the registry under test before the file's tests and stops it after them. `ready` gets
 * the running target first, for the file's own setup (pushing the images its tests share).
 */
export function useTarget(ready: (target: Target) => Promise<void> | void): void {
  let target: Target | undefined;
  before(async () => {
    target = await startTarget();
    await ready(target);
  });
  after(() => target?.stop());
}
