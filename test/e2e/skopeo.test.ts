// skopeo (containers/image) against the registry under test: push, pull, repo-to-repo copy,
// tags, multi-arch, artifacts, delete. Every copy uses --preserve-digests, so a digest that
// changes is the registry's doing.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FixtureName } from '../fixtures/build.ts';
import { findRef, sha256Digest } from '../fixtures/oci-layout.ts';
import {
  expectFailure,
  skopeoCopy,
  skopeoDelete,
  skopeoInspect,
  skopeoInspectConfig,
  skopeoInspectRaw,
  skopeoListTags,
} from '../support/clients.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { debootstrapUnavailableReason, type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { fetchReferrers } from '../support/registry-http.ts';
import {
  E2E_TARGET,
  gantryOnly,
  type RegistryUnderTest,
  startRegistryUnderTest,
  withRegistryLog,
} from '../support/registry-under-test.ts';

const debianSkip = debootstrapUnavailableReason();
const FIXTURES: FixtureName[] = [
  'tiny',
  'tiny-multiarch',
  'tiny-artifact',
  ...(debianSkip ? [] : ['debian-minbase' as const]),
];

describe(`skopeo against ${E2E_TARGET}`, () => {
  let registry: RegistryUnderTest | undefined;
  let fx: PreparedFixtures;
  let work: string;
  const docker = (name: string) => `docker://${registry?.host}/${name}`;
  const step = (body: () => Promise<void>) => withRegistryLog(() => registry, body);

  /** Pushes tiny to `name` once per test file; later tests reuse it. */
  const pushed = new Map<string, Promise<unknown>>();
  const pushTiny = (name: string) => {
    const existing = pushed.get(name);
    if (existing) return existing;
    const p = skopeoCopy(fx.ociRef('tiny'), docker(name));
    pushed.set(name, p);
    return p;
  };

  // A cold fixture cache means debootstrap (1-5 min, depending on the mirror).
  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'gantry-e2e-skopeo-'));
      fx = await prepareFixtures(FIXTURES);
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
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'pushes tiny from an OCI layout; the registry serves the exact manifest bytes',
    { timeout: 120_000 },
    step(async () => {
      await pushTiny('docker-dev-local/e2e/tiny:1');
      const raw = await skopeoInspectRaw(docker('docker-dev-local/e2e/tiny:1'));
      const record = fx.record('tiny');
      assert.equal(raw.digest, record.digest);
      const layoutBytes = await readFile(
        join(fx.layoutDir('tiny'), 'blobs', 'sha256', record.digest.slice(7)),
      );
      assert.ok(raw.bytes.equals(layoutBytes), 'manifest bytes differ from the pushed ones');
      const byDigest = await skopeoInspectRaw(docker(`docker-dev-local/e2e/tiny@${record.digest}`));
      assert.equal(byDigest.digest, record.digest);
    }),
  );

  it(
    'serves the image config (inspect --config) and the summary (inspect)',
    { timeout: 120_000 },
    step(async () => {
      await pushTiny('docker-dev-local/e2e/tiny:1');
      const record = fx.record('tiny');
      const config = await skopeoInspectConfig(docker('docker-dev-local/e2e/tiny:1'));
      assert.equal(sha256Digest(config.bytes), record.config);
      assert.equal(config.json.architecture, 'amd64');
      assert.equal(config.json.config?.Labels?.['org.opencontainers.image.title'], 'tiny');
      const summary = await skopeoInspect(docker('docker-dev-local/e2e/tiny:1'));
      assert.equal(summary['Digest'], record.digest);
      assert.deepEqual(summary['Layers'], record.layers);
    }),
  );

  it(
    'pulls back into a new OCI layout with identical digests',
    { timeout: 120_000 },
    step(async () => {
      await pushTiny('docker-dev-local/e2e/tiny:1');
      const record = fx.record('tiny');
      const dest = join(work, 'pulled-tiny');
      await skopeoCopy(docker('docker-dev-local/e2e/tiny:1'), `oci:${dest}:1`);
      assert.equal((await findRef(dest, '1'))?.digest, record.digest);
      for (const digest of [record.digest, ...record.blobs]) {
        const bytes = await readFile(join(dest, 'blobs', 'sha256', digest.slice(7)));
        assert.equal(sha256Digest(bytes), digest);
      }
    }),
  );

  it(
    'copies between repositories (cross-repository mount) without changing the digest',
    { timeout: 120_000 },
    step(async () => {
      await pushTiny('docker-dev-local/e2e/tiny:1');
      const record = fx.record('tiny');
      const copy = await skopeoCopy(
        docker('docker-dev-local/e2e/tiny:1'),
        docker('docker-staging-local/e2e/tiny:1'),
        {
          debug: true,
        },
      );
      // containers/image remembers where it pushed the layer and asks for a mount from there.
      assert.match(copy.stderr, /Trying to mount .*from=docker-dev-local%2Fe2e%2Ftiny/);
      assert.match(copy.stderr, /\.\.\. mount OK/);
      const raw = await skopeoInspectRaw(docker('docker-staging-local/e2e/tiny:1'));
      assert.equal(raw.digest, record.digest);
      const config = await skopeoInspectConfig(docker('docker-staging-local/e2e/tiny:1'));
      assert.equal(sha256Digest(config.bytes), record.config);
      // The source is untouched.
      assert.equal((await skopeoInspectRaw(docker('docker-dev-local/e2e/tiny:1'))).digest, record.digest);
    }),
  );

  it(
    'lists tags in lexical order (the reference: just the same set)',
    { timeout: 180_000 },
    step(async () => {
      const tags = ['v2', 'latest', '1.0', 'v10', 'alpha', '0.9.1'];
      for (const tag of tags) await skopeoCopy(fx.ociRef('tiny'), docker(`docker-dev-local/e2e/tags:${tag}`));
      const listed = await skopeoListTags(docker('docker-dev-local/e2e/tags'));
      // The reference registry lists in directory order; Gantry promises lexical order.
      if (E2E_TARGET === 'reference') assert.deepEqual([...listed].sort(), [...tags].sort());
      else assert.deepEqual(listed, [...tags].sort());
    }),
  );

  it(
    'copy --all keeps the index digest; both platform images are pullable by digest',
    { timeout: 180_000 },
    step(async () => {
      const record = fx.record('tiny-multiarch');
      await skopeoCopy(fx.ociRef('tiny-multiarch'), docker('docker-dev-local/e2e/multi:1'), { all: true });
      const index = await skopeoInspectRaw(docker('docker-dev-local/e2e/multi:1'));
      assert.equal(index.digest, record.digest);
      assert.equal(index.json.mediaType, 'application/vnd.oci.image.index.v1+json');
      for (const child of record.manifests ?? []) {
        const ref = docker(`docker-dev-local/e2e/multi@${child.digest}`);
        assert.equal((await skopeoInspectRaw(ref)).digest, child.digest);
        const dest = join(work, `multi-${child.platform.replaceAll('/', '-')}`);
        await skopeoCopy(ref, `oci:${dest}:pulled`);
        assert.equal((await findRef(dest, 'pulled'))?.digest, child.digest);
      }
      const arm = await skopeoInspect(docker('docker-dev-local/e2e/multi:1'), [
        '--override-arch',
        'arm64',
        '--override-variant',
        'v8',
      ]);
      assert.equal(arm['Architecture'], 'arm64');
      assert.deepEqual(arm['Layers'], record.manifests?.[1]?.layers);
    }),
  );

  it(
    'pushes an artifact (artifactType, empty config, subject) with its digest intact',
    { timeout: 120_000 },
    step(async () => {
      const record = fx.record('tiny-artifact');
      await skopeoCopy(fx.ociRef('tiny-artifact', 'subject'), docker('docker-dev-local/e2e/art:subject'));
      await skopeoCopy(fx.ociRef('tiny-artifact'), docker('docker-dev-local/e2e/art:sbom'));
      const raw = await skopeoInspectRaw(docker('docker-dev-local/e2e/art:sbom'));
      assert.equal(raw.digest, record.digest);
      assert.equal(raw.json['artifactType'], record.artifactType);
    }),
  );

  it(
    'lists the artifact in the referrers of its subject',
    { timeout: 60_000, skip: gantryOnly('the reference registry 2.8 has no referrers API') },
    step(async () => {
      const record = fx.record('tiny-artifact');
      await skopeoCopy(fx.ociRef('tiny-artifact', 'subject'), docker('docker-dev-local/e2e/ref:subject'));
      await skopeoCopy(fx.ociRef('tiny-artifact'), docker('docker-dev-local/e2e/ref:sbom'));
      const referrers = await fetchReferrers(
        registry?.url ?? '',
        'docker-dev-local/e2e/ref',
        record.subject ?? '',
      );
      assert.equal(referrers.mediaType, 'application/vnd.oci.image.index.v1+json');
      const entry = referrers.manifests.find((m) => m.digest === record.digest);
      assert.ok(entry, `artifact missing from ${JSON.stringify(referrers)}`);
      assert.equal(entry.artifactType, record.artifactType);
    }),
  );

  it(
    'deletes a manifest by digest; inspecting it then fails',
    { timeout: 120_000 },
    step(async () => {
      const record = fx.record('tiny');
      await skopeoCopy(fx.ociRef('tiny'), docker('docker-dev-local/e2e/del:1'));
      await skopeoDelete(docker(`docker-dev-local/e2e/del@${record.digest}`));
      const byDigest = await expectFailure(
        skopeoInspectRaw(docker(`docker-dev-local/e2e/del@${record.digest}`)),
      );
      assert.match(byDigest.stderr, /manifest unknown|not found/i);
      const byTag = await expectFailure(skopeoInspectRaw(docker('docker-dev-local/e2e/del:1')));
      assert.match(byTag.stderr, /manifest unknown|not found/i);
    }),
  );

  it(
    'routes a bare name to docker-dev-local',
    { timeout: 120_000, skip: gantryOnly('repository keys and the default repository') },
    step(async () => {
      const record = fx.record('tiny');
      await skopeoCopy(fx.ociRef('tiny'), docker('e2e/bare:1'));
      assert.equal((await skopeoInspectRaw(docker('docker-dev-local/e2e/bare:1'))).digest, record.digest);
      assert.deepEqual(await skopeoListTags(docker('docker-dev-local/e2e/bare')), ['1']);
    }),
  );

  it(
    'pushes debian-minbase (one ~50 MB layer) with its digest intact',
    { timeout: 300_000, skip: debianSkip ?? false },
    step(async () => {
      const record = fx.record('debian-minbase');
      await skopeoCopy(fx.ociRef('debian-minbase'), docker('docker-dev-local/e2e/debian:bookworm'));
      assert.equal(
        (await skopeoInspectRaw(docker('docker-dev-local/e2e/debian:bookworm'))).digest,
        record.digest,
      );
      const config = await skopeoInspectConfig(docker('docker-dev-local/e2e/debian:bookworm'));
      assert.deepEqual(config.json.config?.Cmd, ['/bin/bash']);
      const dest = join(work, 'pulled-debian');
      await skopeoCopy(docker('docker-dev-local/e2e/debian:bookworm'), `oci:${dest}:1`);
      const layer = await readFile(join(dest, 'blobs', 'sha256', (record.layers?.[0] ?? '').slice(7)));
      assert.equal(sha256Digest(layer), record.layers?.[0]);
    }),
  );
});
