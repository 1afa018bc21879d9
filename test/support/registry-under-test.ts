// Which registry the e2e tests talk to: Gantry (default) or, with GANTRY_E2E_TARGET=reference,
// the reference registry, so the tests themselves can be checked against a known-good server.
import type { TestContext } from 'node:test';
import { startGantry } from './gantry.ts';
import { startReferenceRegistry } from './reference-registry.ts';

export type E2eTarget = 'gantry' | 'reference';

function targetFromEnv(): E2eTarget {
  const raw = process.env['GANTRY_E2E_TARGET'] ?? 'gantry';
  if (raw !== 'gantry' && raw !== 'reference') {
    throw new Error(`GANTRY_E2E_TARGET must be "gantry" or "reference", not "${raw}"`);
  }
  return raw;
}

export const E2E_TARGET: E2eTarget = targetFromEnv();

export interface RegistryUnderTest {
  target: E2eTarget;
  url: string;
  host: string;
  port: number;
  /** What the server printed so far: attach to failures. */
  output(): string;
  stop(): Promise<void>;
}

export async function startRegistryUnderTest(): Promise<RegistryUnderTest> {
  if (E2E_TARGET === 'reference') {
    const r = await startReferenceRegistry();
    return { target: 'reference', url: r.url, host: r.host, port: r.port, output: r.output, stop: r.stop };
  }
  const g = await startGantry();
  return { target: 'gantry', url: g.url, host: g.host, port: g.port, output: g.output, stop: () => g.stop() };
}

/** A `skip` option for tests of Gantry-only behaviour. */
export function gantryOnly(what: string): string | false {
  return E2E_TARGET === 'gantry' ? false : `Gantry-only (${what}); target is ${E2E_TARGET}`;
}

/**
 * Wraps a test body so that a failure carries the last lines the registry printed (Gantry logs
 * warnings and errors; the reference registry logs every request).
 */
export function withRegistryLog(
  registry: () => RegistryUnderTest | undefined,
  body: (t: TestContext) => Promise<void>,
) {
  return async (t: TestContext): Promise<void> => {
    try {
      await body(t);
    } catch (err) {
      const tail = (registry()?.output() ?? '').trimEnd().split('\n').slice(-40).join('\n');
      if (err instanceof Error && tail)
        err.message += `\n--- ${E2E_TARGET} output (last 40 lines) ---\n${tail}`;
      throw err;
    }
  };
}
