// containerd's `ctr` against the registry under test: HEAD by tag then GET by digest on pull,
// POST + one PUT carrying the whole blob on push. Images pushed by skopeo first, so the expected
// digests are the fixtures'.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, sha256Of, skopeoCopy, skopeoInspectConfig, skopeoInspectRaw } from '../support/clients.ts';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import {
  E2E_TARGET,
  type RegistryUnderTest,
  startRegistryUnderTest,
  withRegistryLog,
} from '../support/registry-under-test.ts';

const unavailable = containerdUnavailableReason();

describe(`containerd (ctr) against ${E2E_TARGET}`, { skip: unavailable ?? false }, () => {
  let registry: RegistryUnderTest | undefined;
  let containerd: RunningContainerd | undefined;
  let fx: PreparedFixtures | undefined;
  const step = (body: () => Promise<void>) => withRegistryLog(() => registry, body);
  const at = (name: string) => `${registry?.host}/${name}`;
  const ctr = (args: string[]) => {
    if (!containerd) throw new Error('containerd did not start');
    return containerd.ctr(args, { timeoutMs: 180_000 });
  };

  before(
    async () => {
      fx = await prepareFixtures(['tiny', 'tiny-multiarch']);
      registry = await startRegistryUnderTest();
      // Staging and production are promotion-only by default; these tests push there directly.
      if (registry.target === 'gantry')
        await allowDirectWrites(registry.url, 'docker-staging-local', 'docker-prod-local');
      containerd = await startContainerd();
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await containerd?.stop();
    await registry?.stop();
    await fx?.cleanup();
  });

  // First, while the registry is empty: imported content carries no "pulled from" label, so
  // containerd cannot try a cross-repository mount and must upload (POST, then one PUT with the body).
  it(
    'imports the multi-arch layout as an OCI archive and uploads it with the index digest intact',
    { timeout: 300_000 },
    step(async () => {
      if (!fx || !containerd) throw new Error('setup failed');
      const record = fx.record('tiny-multiarch');
      const archive = join(containerd.dir, 'tiny-multiarch.tar');
      await run('tar', ['-C', fx.layoutDir('tiny-multiarch'), '-cf', archive, '.']);
      const base = at('docker-dev-local/e2e/imported');
      await ctr(['images', 'import', '--all-platforms', '--no-unpack', '--base-name', base, archive]);
      await ctr(['images', 'push', '--plain-http', `${base}:latest`]);
      const pushed = await skopeoInspectRaw(`docker://${base}:latest`);
      assert.equal(pushed.digest, record.digest);
      for (const child of record.manifests ?? []) {
        const config = await skopeoInspectConfig(`docker://${base}@${child.digest}`);
        assert.equal(sha256Of(config.bytes), child.config);
      }
    }),
  );

  it(
    'pulls tiny by tag and by digest, pushes it elsewhere with the same manifest digest',
    { timeout: 300_000 },
    step(async () => {
      if (!fx) throw new Error('fixtures missing');
      const record = fx.record('tiny');
      await skopeoCopy(fx.ociRef('tiny'), `docker://${at('docker-dev-local/e2e/tiny:1')}`);
      await ctr(['images', 'pull', '--plain-http', at('docker-dev-local/e2e/tiny:1')]);
      await ctr(['images', 'pull', '--plain-http', at(`docker-dev-local/e2e/tiny@${record.digest}`)]);
      const listed = (await ctr(['images', 'ls', '-q'])).stdout.toString();
      assert.match(listed, /docker-dev-local\/e2e\/tiny:1/);

      await ctr([
        'images',
        'tag',
        at('docker-dev-local/e2e/tiny:1'),
        at('docker-staging-local/e2e/ctr-pushed:1'),
      ]);
      await ctr(['images', 'push', '--plain-http', at('docker-staging-local/e2e/ctr-pushed:1')]);
      const pushed = await skopeoInspectRaw(`docker://${at('docker-staging-local/e2e/ctr-pushed:1')}`);
      assert.equal(pushed.digest, record.digest);
    }),
  );

  it(
    'pulls a multi-arch index for all platforms and pushes it back unchanged',
    { timeout: 300_000 },
    step(async () => {
      if (!fx) throw new Error('fixtures missing');
      const record = fx.record('tiny-multiarch');
      await skopeoCopy(fx.ociRef('tiny-multiarch'), `docker://${at('docker-dev-local/e2e/multi:1')}`, {
        all: true,
      });
      await ctr(['images', 'pull', '--plain-http', '--all-platforms', at('docker-dev-local/e2e/multi:1')]);
      await ctr(['images', 'tag', at('docker-dev-local/e2e/multi:1'), at('docker-prod-local/e2e/multi:1')]);
      await ctr(['images', 'push', '--plain-http', at('docker-prod-local/e2e/multi:1')]);
      const pushed = await skopeoInspectRaw(`docker://${at('docker-prod-local/e2e/multi:1')}`);
      assert.equal(pushed.digest, record.digest);
      for (const child of record.manifests ?? []) {
        const raw = await skopeoInspectRaw(`docker://${at(`docker-prod-local/e2e/multi@${child.digest}`)}`);
        assert.equal(raw.digest, child.digest);
      }
    }),
  );
});
