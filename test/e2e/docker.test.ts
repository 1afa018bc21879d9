// A real Docker engine (dockerd 20.10 on a private containerd) against the registry under test:
// pull an OCI image and run it; re-push it under another name (Docker schema2; the layer is
// mounted from where it was pulled); push a committed layer (uploaded as one chunked PATCH);
// pull by digest.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skopeoCopy, skopeoInspectConfig, skopeoInspectRaw } from '../support/clients.ts';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { dockerdUnavailableReason, type RunningDockerd, startDockerd } from '../support/dockerd.ts';
import { debootstrapUnavailableReason, type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { fetchBlob, layerFiles } from '../support/registry-http.ts';
import {
  E2E_TARGET,
  type RegistryUnderTest,
  startRegistryUnderTest,
  withRegistryLog,
} from '../support/registry-under-test.ts';

const DOCKER_SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';

/** The engine needs its own containerd, dockerd itself and the debian fixture (it runs /bin/echo). */
function unavailableReason(): string | false {
  const reason =
    dockerdUnavailableReason() ?? containerdUnavailableReason() ?? debootstrapUnavailableReason();
  return reason ? `docker engine tests: ${reason}` : false;
}

/** First and last line of a daemon start failure: what failed, and the daemon's last word on why. */
function summarize(error: string): string {
  const lines = error.split('\n').filter((l) => l.trim() !== '');
  const text = lines.length > 1 ? `${lines[0]} … ${lines.at(-1)}` : (lines[0] ?? '');
  return text.slice(0, 400);
}

describe(`docker engine against ${E2E_TARGET}`, { skip: unavailableReason() }, () => {
  let registry: RegistryUnderTest | undefined;
  let containerd: RunningContainerd | undefined;
  let dockerd: RunningDockerd | undefined;
  let fx: PreparedFixtures | undefined;
  /** Set by the push test: the digest docker reported for the re-published image. */
  let pushedDigest = '';
  let engineError = '';
  const step = (body: () => Promise<void>) =>
    withRegistryLog(
      () => registry,
      async (t) => {
        if (engineError) return t.skip(`the engine could not start: ${summarize(engineError)}`);
        await body();
      },
    );
  const at = (name: string) => `${registry?.host}/${name}`;
  const docker = async (args: string[], timeoutMs = 300_000) => {
    if (!dockerd) throw new Error('dockerd did not start');
    return (await dockerd.docker(args, { timeoutMs })).stdout.toString();
  };

  before(
    async () => {
      fx = await prepareFixtures(['debian-minbase']);
      registry = await startRegistryUnderTest();
      // Staging and production are promotion-only by default; these tests push there directly.
      if (registry.target === 'gantry')
        await allowDirectWrites(registry.url, 'docker-staging-local', 'docker-prod-local');
      await skopeoCopy(fx.ociRef('debian-minbase'), `docker://${at('docker-dev-local/e2e/debian:1')}`);
      try {
        // dockerd talks to containerd through its own namespace ("moby"), not ctr's.
        containerd = await startContainerd();
        dockerd = await startDockerd({ containerdSocket: containerd.socket });
      } catch (err) {
        // An engine that cannot start here (no cgroups, no overlay, …) skips the tests, with the reason.
        engineError = err instanceof Error ? err.message : String(err);
        process.stderr.write(`# docker engine did not start:\n${engineError}\n`);
      }
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    await dockerd?.stop();
    await containerd?.stop();
    await registry?.stop();
    await fx?.cleanup();
  });

  it(
    'pulls the OCI debian image and runs it',
    { timeout: 300_000 },
    step(async () => {
      await docker(['pull', at('docker-dev-local/e2e/debian:1')]);
      const repoDigests = await docker([
        'image',
        'inspect',
        '--format',
        '{{json .RepoDigests}}',
        at('docker-dev-local/e2e/debian:1'),
      ]);
      assert.ok(repoDigests.includes(fx?.record('debian-minbase').digest ?? '?'), repoDigests);
      const out = await docker([
        'run',
        '--rm',
        '--network',
        'none',
        at('docker-dev-local/e2e/debian:1'),
        '/bin/echo',
        'hello',
      ]);
      assert.equal(out, 'hello\n');
    }),
  );

  it(
    'tags and pushes to another repository; the registry serves it as Docker schema2',
    { timeout: 300_000 },
    step(async () => {
      const target = at('docker-staging-local/e2e/docker-pushed:1');
      await docker(['tag', at('docker-dev-local/e2e/debian:1'), target]);
      const out = await docker(['push', target]);
      const m = /digest: (sha256:[0-9a-f]{64})/.exec(out);
      assert.ok(m?.[1], `no digest in docker push output:\n${out}`);
      pushedDigest = m[1];
      const raw = await skopeoInspectRaw(`docker://${target}`);
      assert.equal(raw.json.mediaType, DOCKER_SCHEMA2);
      assert.equal(raw.digest, pushedDigest);
      const config = await skopeoInspectConfig(`docker://${target}`);
      assert.deepEqual(config.json.config?.Cmd, ['/bin/bash']);
    }),
  );

  it(
    'commits a container and pushes the new layer (uploaded, not mounted)',
    { timeout: 300_000 },
    step(async () => {
      const image = at('docker-dev-local/e2e/docker-commit:1');
      await docker([
        'run',
        '--name',
        'e2e-commit',
        '--network',
        'none',
        at('docker-dev-local/e2e/debian:1'),
        '/bin/sh',
        '-c',
        'echo committed > /committed.txt',
      ]);
      await docker(['commit', 'e2e-commit', image]);
      await docker(['rm', 'e2e-commit']);
      await docker(['push', image]);
      const raw = await skopeoInspectRaw(`docker://${image}`);
      assert.equal(raw.json.mediaType, DOCKER_SCHEMA2);
      const top = raw.json.layers?.at(-1)?.digest ?? '';
      const files = await layerFiles(
        await fetchBlob(registry?.url ?? '', 'docker-dev-local/e2e/docker-commit', top),
      );
      assert.equal(files.get('committed.txt')?.toString(), 'committed\n');
    }),
  );

  it(
    'pulls by digest after the local copies are removed',
    { timeout: 300_000 },
    step(async () => {
      assert.ok(pushedDigest, 'the push test did not record a digest');
      const original = fx?.record('debian-minbase').digest ?? '?';
      await docker([
        'rmi',
        at('docker-dev-local/e2e/debian:1'),
        at('docker-staging-local/e2e/docker-pushed:1'),
      ]);
      await docker(['pull', at(`docker-staging-local/e2e/docker-pushed@${pushedDigest}`)]);
      await docker(['pull', at(`docker-dev-local/e2e/debian@${original}`)]);
      const out = await docker([
        'run',
        '--rm',
        '--network',
        'none',
        at(`docker-staging-local/e2e/docker-pushed@${pushedDigest}`),
        '/bin/cat',
        '/etc/debian_version',
      ]);
      assert.equal(out.trim(), fx?.record('debian-minbase').debianVersion);
    }),
  );

  it(
    'pushes through the virtual repository docker into development and pulls back by bare name',
    { timeout: 300_000, skip: E2E_TARGET === 'reference' ? 'virtual repositories are Gantry-only' : false },
    step(async () => {
      const source = at(`docker-staging-local/e2e/docker-pushed@${pushedDigest}`);
      await docker(['tag', source, at('docker/e2e/through-virtual:1')]);
      const out = await docker(['push', at('docker/e2e/through-virtual:1')]);
      assert.match(out, /digest: sha256:/);
      const landed = await skopeoInspectRaw(`docker://${at('docker-dev-local/e2e/through-virtual:1')}`);
      assert.equal(landed.digest, pushedDigest, 'the deployment repository holds the pushed image');
      await docker(['rmi', at('docker/e2e/through-virtual:1')]);
      await docker(['pull', at('e2e/through-virtual:1')]);
      const digests = await docker([
        'image',
        'inspect',
        '--format',
        '{{json .RepoDigests}}',
        at('e2e/through-virtual:1'),
      ]);
      const pulledAs = (JSON.parse(digests) as string[]).find((d) => d.includes('/e2e/through-virtual@'));
      assert.equal(pulledAs, at(`e2e/through-virtual@${pushedDigest}`));
    }),
  );
});
