import { call, expectStatus, header, type Target } from '../lib/client.ts';
import { generateLoad } from '../lib/load.ts';
import { startCpuProbe } from '../lib/proc.ts';
import { MANIFEST_ACCEPT, makeSmallImage, pushSmallImage } from '../lib/registry.ts';
import { type BenchOptions, imageName, type Sample, type Scenario } from '../lib/scenario.ts';

// Scenario 6: manifest GET and HEAD by tag under load (64 keep-alive connections). The load
// generator runs on the same two cores as the server, for both servers alike.

const CONNECTIONS = 64;
const seconds = (options: BenchOptions) => (options.quick ? 2 : 4);

async function checkOnce(target: Target, path: string, digest: string): Promise<void> {
  for (const method of ['GET', 'HEAD']) {
    const reply = await call(target, path, { method, headers: { accept: MANIFEST_ACCEPT } });
    expectStatus(reply, 200, `${method} manifest by tag`);
    const served = header(reply, 'docker-content-digest');
    if (served !== digest)
      throw new Error(`${method} manifest: Docker-Content-Digest ${served}, want ${digest}`);
  }
}

async function hammer(target: Target, method: 'GET' | 'HEAD', path: string, secs: number): Promise<Sample> {
  const probe = await startCpuProbe(target.pid);
  const load = await generateLoad(target, {
    method,
    path,
    headers: { Accept: MANIFEST_ACCEPT },
    connections: CONNECTIONS,
    seconds: secs,
  });
  const cpuMs = await probe.stop();
  if (load.failures > 0) throw new Error(`${method} manifest: ${load.failures} of ${load.requests} failed`);
  return {
    value: load.requests / load.seconds,
    ops: load.requests,
    cpuMs,
    note: `p50 ${load.p50ms.toFixed(2)} ms, p99 ${load.p99ms.toFixed(2)} ms`,
  };
}

export const manifestRead: Scenario = {
  name: 'manifest',
  reps: (options) => (options.quick ? 1 : 3),
  rows: (options) =>
    (['GET', 'HEAD'] as const).map((method) => ({
      key: `manifest-${method.toLowerCase()}`,
      label: `Manifest ${method} by tag, ${CONNECTIONS} connections, ${seconds(options)} s`,
      unit: 'req/s',
      higherIsBetter: true,
      op: 'request',
    })),
  async prepare(target, options) {
    const name = imageName('bench-manifest');
    const image = await makeSmallImage('manifest');
    await pushSmallImage(target, name, image, 'bench');
    const path = `/v2/${name}/manifests/bench`;
    await checkOnce(target, path, image.manifestDigest);
    return {
      async measure() {
        const get = await hammer(target, 'GET', path, seconds(options));
        const head = await hammer(target, 'HEAD', path, seconds(options));
        return { 'manifest-get': get, 'manifest-head': head };
      },
    };
  },
};
