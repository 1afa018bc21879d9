import { performance } from 'node:perf_hooks';

import { call, keepAliveAgent, type Target } from './client.ts';

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Responses that were not 2xx, plus socket errors. */
  failures: number;
  p50ms: number;
  p99ms: number;
}

export interface LoadSpec {
  method: 'GET' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

/**
 * `connections` keep-alive loops in this process until the time is up. wrk would leave more CPU to
 * the server, but wrk 4.1 hangs on HEAD replies that carry a Content-Length (its parser waits for
 * a body), so GET and HEAD would need different tools; this one needs nothing installed.
 */
export async function generateLoad(target: Target, spec: LoadSpec): Promise<LoadResult> {
  const loadTarget: Target = { ...target, agent: keepAliveAgent(spec.connections) };
  const deadline = performance.now() + spec.seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now();
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const reply = await call(loadTarget, spec.path, { method: spec.method, headers: spec.headers });
        if (reply.status < 200 || reply.status > 299) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const seconds = (performance.now() - start) / 1000;
  loadTarget.agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, seconds, failures, p50ms: at(0.5), p99ms: at(0.99) };
}
