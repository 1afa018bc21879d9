// buildah builds on a fixture layout and pushes; podman pulls into a fresh store. Both run
// daemonless with the vfs driver and private --root/--runroot dirs, so the host's
// /var/lib/containers is not touched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FixtureName } from '../fixtures/build.ts';
import { unmountUnder } from '../fixtures/debian.ts';
import { buildahBuildArgs } from '../support/client-env.ts';
import { run, skopeoInspectConfig, skopeoInspectRaw } from '../support/clients.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { debootstrapUnavailableReason, type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { fetchBlob, layerFiles } from '../support/registry-http.ts';
import {
  E2E_TARGET,
  type RegistryUnderTest,
  startRegistryUnderTest,
  withRegistryLog,
} from '../support/registry-under-test.ts';

const BUILDAH = '/usr/bin/buildah';
const PODMAN = '/usr/bin/podman';
function unavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'buildah/podman with private storage roots need root here';
  const missing = [BUILDAH, PODMAN].filter((b) => !existsSync(b));
  return missing.length > 0 ? `missing: ${missing.join(', ')} (apt-get install buildah podman)` : undefined;
}
const unavailable = unavailableReason();
const debianSkip = debootstrapUnavailableReason();
const LABEL = 'org.example.e2e';

/** Global flags that give each tool a store of its own under `dir`. */
function storeFlags(dir: string): string[] {
  return ['--storage-driver', 'vfs', '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot')];
}

describe(`buildah + podman against ${E2E_TARGET}`, { skip: unavailable ?? false }, () => {
  let registry: RegistryUnderTest | undefined;
  let fx: PreparedFixtures | undefined;
  let work = '';
  const step = (body: () => Promise<void>) => withRegistryLog(() => registry, body);
  const at = (name: string) => `${registry?.host}/${name}`;
  const buildah = (args: string[]) =>
    run(BUILDAH, [...storeFlags(join(work, 'buildah')), ...args], { timeoutMs: 600_000 });
  const podman = (store: string, args: string[]) =>
    run(PODMAN, [...storeFlags(join(work, store)), ...args], { timeoutMs: 300_000 });

  /** Builds `containerfile` in a fresh context dir, pushes it, returns the digest buildah reports. */
  async function buildAndPush(
    tag: string,
    containerfile: string,
    files: Record<string, string>,
  ): Promise<string> {
    const context = join(work, `ctx-${tag.replace(/\W/g, '-')}`);
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Containerfile'), containerfile);
    for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
    const local = `localhost/e2e/${tag}`;
    await buildah(buildahBuildArgs(context, local));
    const digestFile = join(context, 'digest');
    await buildah([
      'push',
      '--tls-verify=false',
      '--digestfile',
      digestFile,
      local,
      `docker://${at(`docker-dev-local/e2e/${tag}`)}`,
    ]);
    return (await readFile(digestFile, 'utf8')).trim();
  }

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'gantry-e2e-buildah-'));
      const names: FixtureName[] = debianSkip ? ['tiny'] : ['tiny', 'debian-minbase'];
      fx = await prepareFixtures(names);
      registry = await startRegistryUnderTest();
      // Staging and production are promotion-only by default; these tests push there directly.
      if (registry.target === 'gantry')
        await allowDirectWrites(registry.url, 'docker-staging-local', 'docker-prod-local');
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    await registry?.stop();
    await fx?.cleanup();
    if (work) {
      await unmountUnder(work);
      await rm(work, { recursive: true, force: true });
    }
  });

  it(
    'builds FROM the tiny layout with COPY + LABEL, pushes, and podman pulls it back with the label',
    { timeout: 300_000 },
    step(async () => {
      if (!fx) throw new Error('fixtures missing');
      const containerfile = [
        `FROM ${fx.ociRef('tiny')}`,
        'COPY greeting.txt /greeting.txt',
        `LABEL ${LABEL}="buildah-copy"`,
        '',
      ].join('\n');
      const digest = await buildAndPush('built:1', containerfile, { 'greeting.txt': 'hello from buildah\n' });
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      const raw = await skopeoInspectRaw(`docker://${at('docker-dev-local/e2e/built:1')}`);
      assert.equal(raw.digest, digest);
      // buildah recompresses the base layer on push, so compare uncompressed digests; COPY added one.
      const config = await skopeoInspectConfig(`docker://${at('docker-dev-local/e2e/built:1')}`);
      assert.equal(config.json.rootfs?.diff_ids?.[0], fx.record('tiny').diffIds?.[0]);
      assert.equal(raw.json.layers?.length, 2);

      await podman('podman', [
        'pull',
        '--tls-verify=false',
        `docker://${at('docker-dev-local/e2e/built:1')}`,
      ]);
      const { stdout } = await podman('podman', [
        'image',
        'inspect',
        '--format',
        '{{json .Labels}} {{.Digest}}',
        at('docker-dev-local/e2e/built:1'),
      ]);
      const [labels = '', podmanDigest] = stdout.toString().trim().split(' ');
      assert.equal((JSON.parse(labels) as Record<string, string>)[LABEL], 'buildah-copy');
      assert.equal(podmanDigest, digest);
    }),
  );

  it(
    'podman pushes the pulled image to another repository',
    { timeout: 300_000 },
    step(async () => {
      // Needs the image the previous test pulled into the podman store.
      await podman('podman', [
        'push',
        '--tls-verify=false',
        at('docker-dev-local/e2e/built:1'),
        `docker://${at('docker-staging-local/e2e/podman-pushed:1')}`,
      ]);
      const config = await skopeoInspectConfig(`docker://${at('docker-staging-local/e2e/podman-pushed:1')}`);
      assert.equal(config.json.config?.Labels?.[LABEL], 'buildah-copy');
    }),
  );

  it(
    'builds FROM debian-minbase with a RUN step; the new layer holds the file RUN wrote',
    { timeout: 600_000, skip: debianSkip ?? false },
    step(async () => {
      if (!fx) throw new Error('fixtures missing');
      const containerfile = [
        `FROM ${fx.ociRef('debian-minbase')}`,
        'RUN echo built > /built.txt',
        `LABEL ${LABEL}="buildah-run"`,
        '',
      ].join('\n');
      const digest = await buildAndPush('built-run:1', containerfile, {});
      const raw = await skopeoInspectRaw(`docker://${at('docker-dev-local/e2e/built-run:1')}`);
      assert.equal(raw.digest, digest);
      const top = raw.json.layers?.at(-1)?.digest ?? '';
      const files = await layerFiles(
        await fetchBlob(registry?.url ?? '', 'docker-dev-local/e2e/built-run', top),
      );
      assert.equal(files.get('built.txt')?.toString(), 'built\n');

      await podman('podman-deb', [
        'pull',
        '--tls-verify=false',
        `docker://${at('docker-dev-local/e2e/built-run:1')}`,
      ]);
      const { stdout } = await podman('podman-deb', [
        'image',
        'inspect',
        '--format',
        '{{json .Labels}}',
        at('docker-dev-local/e2e/built-run:1'),
      ]);
      assert.equal((JSON.parse(stdout.toString()) as Record<string, string>)[LABEL], 'buildah-run');
    }),
  );
});
