// Pushing through the virtual repository `docker` an image whose layers are held only further
// down the pipeline (production), not in development where the push lands. Clients ask whether
// a blob exists at the name they push to (docker: HEAD on the target name for layers it pulled
// from there; skopeo: HEAD on the destination when the blob-info cache knows the blob there),
// `docker` answers from every member the caller may read, the client skips the upload, and the
// manifest must then still be accepted: Gantry links those blobs into the deployment repository.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, PASSWORD } from '../auth/support.ts';
import { skopeoCopy, skopeoInspectRaw } from '../support/clients.ts';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { dockerdUnavailableReason, type RunningDockerd, startDockerd } from '../support/dockerd.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { ACCEPT_ALL_MANIFESTS, expectOciError, expectStatus, RegistryClient } from '../support/http.ts';

describe('pushing through docker a layer held only in production', () => {
  let gantry: RunningGantry;
  let fx: PreparedFixtures;
  let client: RegistryClient;
  const at = (name: string) => `${gantry.host}/${name}`;

  before(async () => {
    [gantry, fx] = await Promise.all([startGantry(), prepareFixtures(['tiny'])]);
    client = new RegistryClient(gantry.url);
    await admin(
      gantry.url,
      'POST',
      '/users',
      { name: 'rm', password: PASSWORD, groups: ['release-managers'] },
      201,
    );
  });

  /**
   * Takes `docker-dev-local/<image>:<tag>` to production the way content gets there: QA passes
   * it, it moves to staging, a build records it, a release manager approves it, it moves to
   * production. Development then lets go of its blob links (a move leaves them to garbage
   * collection), so the blobs are held by production alone.
   */
  async function toProduction(image: string, tag: string): Promise<void> {
    const url = gantry.url;
    const found = await client.request('HEAD', `/v2/docker-dev-local/${image}/manifests/${tag}`, {
      headers: { accept: ACCEPT_ALL_MANIFESTS },
    });
    const digest = found.headers.get('docker-content-digest') ?? '';
    const manifest = (await client.getManifest(`docker-dev-local/${image}`, digest)).json<{
      config: { digest: string };
      layers: { digest: string }[];
    }>();
    await admin(
      url,
      'PATCH',
      `/repositories/docker-dev-local/images/${image}/manifests/${digest}/properties`,
      { properties: { 'qa.status': ['passed'] } },
      200,
    );
    const move = (source: string, target: string) =>
      admin(url, 'POST', '/promotions', { source, target, mode: 'move' }, 201);
    await move(`docker-dev-local/${image}:${tag}`, 'docker-staging-local');
    const build = { startedAt: '2026-11-25T10:00:00Z', artifacts: [{ digest, name: `${image}:${tag}` }] };
    await admin(url, 'PUT', `/builds/${image.replaceAll('/', '-')}/1`, build, 201);
    const approval = { repository: 'docker-prod-local', digest };
    const approved = await api(url, 'POST', '/approvals', approval, basicAuth('rm', PASSWORD));
    assert.equal(approved.status, 201, JSON.stringify(approved.json));
    await move(`docker-staging-local/${image}:${tag}`, 'docker-prod-local');
    for (const blob of [manifest.config, ...manifest.layers]) {
      const res = await client.request('DELETE', `/v2/docker-dev-local/${image}/blobs/${blob.digest}`, {
        headers: { authorization: ADMIN_AUTH },
      });
      expectStatus(res, 202, `unlinking ${blob.digest} from development`);
    }
  }
  after(async () => {
    await gantry?.stop();
    await fx?.cleanup();
  });

  it('HEAD through docker says the blob exists, and the manifest PUT then links it into development', async () => {
    const prod = await client.pushImage('docker-dev-local/http/app', '1');
    await toProduction('http/app', '1');
    const layer = prod.layers[0]?.digest ?? '';
    expectStatus(await client.request('HEAD', `/v2/docker-dev-local/http/app/blobs/${layer}`), 404);
    const head = await client.request('HEAD', `/v2/docker/http/app/blobs/${layer}`);
    expectStatus(head, 200, 'a layer production holds, asked through docker');
    await client.pushManifest('docker/http/app', '2', prod.manifest);
    const linked = await client.request('HEAD', `/v2/docker-dev-local/http/app/blobs/${layer}`);
    expectStatus(linked, 200, 'development holds the layer now');
    // A blob that no member holds is still unknown: nothing is invented.
    const other = await client.pushImage('docker-dev-local/http/other', '1');
    await client.request('DELETE', `/v2/docker-dev-local/http/other/manifests/${other.manifest.digest}`);
    for (const blob of [other.config, ...other.layers]) {
      await client.request('DELETE', `/v2/docker-dev-local/http/other/blobs/${blob.digest}`);
    }
    expectOciError(
      await client.putManifest('docker/http/other', '1', other.manifest),
      404,
      'MANIFEST_BLOB_UNKNOWN',
    );
  });

  it('skopeo copies docker/…:1 (served by production) to docker/…:2, reusing the layers', async () => {
    const expected = fx.record('tiny').digest;
    await skopeoCopy(fx.ociRef('tiny'), `docker://${at('docker-dev-local/skopeo/app:1')}`);
    await toProduction('skopeo/app', '1');
    // Through docker first, so the blob-info cache knows the layers at docker/skopeo/app.
    await skopeoCopy(`docker://${at('docker/skopeo/app:1')}`, `oci:${fx.dir}/through:1`);
    await skopeoCopy(`docker://${at('docker/skopeo/app:1')}`, `docker://${at('docker/skopeo/app:2')}`);
    const landed = await skopeoInspectRaw(`docker://${at('docker-dev-local/skopeo/app:2')}`);
    assert.equal(landed.digest, expected, 'development holds the pushed image');
  });

  const engineMissing = dockerdUnavailableReason() ?? containerdUnavailableReason();
  describe('with a docker engine', {
    skip: engineMissing ? `docker engine: ${engineMissing}` : false,
  }, () => {
    let containerd: RunningContainerd | undefined;
    let dockerd: RunningDockerd | undefined;
    const docker = async (args: string[]) => {
      if (!dockerd) throw new Error('dockerd did not start');
      return (await dockerd.docker(args, { timeoutMs: 300_000 })).stdout.toString();
    };

    before(
      async () => {
        containerd = await startContainerd();
        dockerd = await startDockerd({ containerdSocket: containerd.socket });
      },
      { timeout: 5 * 60_000 },
    );
    after(async () => {
      await dockerd?.stop();
      await containerd?.stop();
    });

    it('docker pulls docker/…:1 (served by production) and pushes it as docker/…:2', {
      timeout: 300_000,
    }, async () => {
      // Production gets the image as docker publishes it (Docker schema2, its own gzip), so the
      // layer digests docker knows are the ones production holds, and development has none.
      await skopeoCopy(fx.ociRef('tiny'), `docker://${at('docker-dev-local/docker/src:1')}`);
      await docker(['pull', at('docker-dev-local/docker/src:1')]);
      await docker(['tag', at('docker-dev-local/docker/src:1'), at('docker-dev-local/docker/app:1')]);
      await docker(['push', at('docker-dev-local/docker/app:1')]);
      await docker(['rmi', at('docker-dev-local/docker/src:1'), at('docker-dev-local/docker/app:1')]);
      await toProduction('docker/app', '1');
      // Pulled through docker: the engine now knows the layers at docker/docker/app and asks
      // there (HEAD) before pushing them.
      await docker(['pull', at('docker/docker/app:1')]);
      await docker(['tag', at('docker/docker/app:1'), at('docker/docker/app:2')]);
      const out = await docker(['push', at('docker/docker/app:2')]);
      const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
      assert.ok(pushed, `no digest in docker push output:\n${out}`);
      const landed = await skopeoInspectRaw(`docker://${at('docker-dev-local/docker/app:2')}`);
      assert.equal(landed.digest, pushed, 'development holds the pushed image');
    });
  });
});
