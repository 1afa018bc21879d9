import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { skopeoCopy, skopeoInspectRaw } from '../support/clients.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';
import { expectOciError, RegistryClient } from '../support/http.ts';

const run = promisify(execFile);

describe('virtual repositories', () => {
  let gantry: RunningGantry;
  let fixtures: PreparedFixtures;
  let client: RegistryClient;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${gantry.url}/api/v1${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  const detail = async (res: Response) => String(((await res.json()) as { detail?: string }).detail);

  before(async () => {
    [gantry, fixtures] = await Promise.all([startGantry(), prepareFixtures(['tiny'])]);
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    client = new RegistryClient(gantry.url);
    const cli = join(PROJECT_ROOT, 'bin', 'gantry.js');
    await run(process.execPath, [
      cli,
      '--server',
      gantry.url,
      'repo',
      'create',
      'docker-all',
      '--kind',
      'virtual',
      '--members',
      'docker-dev-local,docker-staging-local,docker-prod-local',
      '--deploy-to',
      'docker-dev-local',
    ]);
    // `docker` and `docker-prod` come with the default pipeline; `docker-all` is made by the CLI.
  });
  after(async () => {
    await gantry?.stop();
    await fixtures?.cleanup();
  });

  it('takes pushes into the deployment repository and serves them back, digests unchanged (skopeo)', async () => {
    const expected = fixtures.record('tiny').digest;
    await skopeoCopy(fixtures.ociRef('tiny'), `docker://${gantry.host}/docker-all/team/app:1`);
    assert.equal(
      (await skopeoInspectRaw(`docker://${gantry.host}/docker-dev-local/team/app:1`)).digest,
      expected,
    );
    assert.equal((await skopeoInspectRaw(`docker://${gantry.host}/docker-all/team/app:1`)).digest, expected);
    assert.equal((await skopeoInspectRaw(`docker://${gantry.host}/docker/team/app:1`)).digest, expected);
    assert.equal(
      (await skopeoInspectRaw(`docker://${gantry.host}/team/app:1`)).digest,
      expected,
      'bare names go to docker',
    );
    const staging = await client.getManifest('docker-staging-local/team/app', '1');
    expectOciError(staging, 404, 'MANIFEST_UNKNOWN');
    await skopeoCopy(`docker://${gantry.host}/docker/team/app:1`, `oci:${fixtures.dir}/pulled:1`);
  });

  it('resolves a tag from the first member that has it, a digest from any, and lists the union of tags', async () => {
    const inStaging = await client.pushImage('docker-staging-local/team/shadow', '1', { layerSizes: [300] });
    const inDev = await client.pushImage('docker-dev-local/team/shadow', '1', { layerSizes: [200] });
    await client.pushManifest('docker-staging-local/team/shadow', 'staging-only', inStaging.manifest);
    await client.pushManifest('docker-dev-local/team/shadow', 'dev-only', inDev.manifest);
    const byTag = await client.getManifest('docker/team/shadow', '1');
    assert.equal(byTag.headers.get('docker-content-digest'), inDev.manifest.digest, 'dev shadows staging');
    const byDigest = await client.getManifest('docker/team/shadow', inStaging.manifest.digest);
    assert.equal(byDigest.status, 200);
    const layer = inStaging.layers[0]!;
    const blob = await client.request('GET', `/v2/docker/team/shadow/blobs/${layer.digest}`);
    assert.equal(blob.status, 200);
    assert.deepEqual(blob.body, Buffer.from(layer.bytes));
    const tags = (await client.tags('docker/team/shadow')).json() as { tags: string[] };
    assert.deepEqual(tags.tags, ['1', 'dev-only', 'staging-only']);
    const page = await client.tags('docker/team/shadow', '?n=2');
    assert.deepEqual((page.json() as { tags: string[] }).tags, ['1', 'dev-only']);
    assert.equal(
      page.headers.get('link'),
      '</v2/docker/team/shadow/tags/list?n=2&last=dev-only>; rel="next"',
    );
    expectOciError(await client.tags('docker/team/never-pushed'), 404, 'NAME_UNKNOWN');
  });

  it('refuses pushes to a virtual repository without a deployment repository, naming where to push', async () => {
    const res = await client.request('POST', '/v2/docker-prod/team/app/blobs/uploads/');
    expectOciError(res, 403, 'DENIED');
    const { errors } = res.json() as { errors: { message: string }[] };
    assert.match(
      errors[0]?.message ?? '',
      /virtual repository docker-prod does not accept pushes.*docker-prod-local/,
    );
  });

  it('validates settings with messages a person can act on', async () => {
    const bad: [unknown, RegExp][] = [
      [{ members: ['docker-dev-local', 'nope'] }, /unknown member: nope/],
      [
        { members: ['docker-dev-local'], deploymentRepository: 'docker-prod-local' },
        /must be a local repository listed in members/,
      ],
      [{ members: 'docker-dev-local' }, /settings.members must be a list/],
    ];
    for (const [settings, message] of bad) {
      const res = await api('POST', '/repositories', { key: 'docker-bad', kind: 'virtual', settings });
      assert.equal(res.status, 400);
      assert.match(await detail(res), message);
    }
    const fine = await api('PATCH', '/repositories/docker-prod', { settings: { members: ['docker'] } });
    assert.equal(
      fine.status,
      200,
      'docker-prod over docker is no cycle while docker does not list docker-prod',
    );
    const loop = await api('PATCH', '/repositories/docker', {
      settings: { members: ['docker-dev-local', 'docker-prod'], deploymentRepository: 'docker-dev-local' },
    });
    assert.equal(loop.status, 400);
    assert.match(await detail(loop), /members form a cycle: docker -> docker-prod -> docker/);
    const restore = await api('PATCH', '/repositories/docker-prod', {
      settings: { members: ['docker-prod-local'] },
    });
    assert.equal(restore.status, 200);
  });

  it('refuses to delete a member of a virtual repository and says which', async () => {
    const res = await api('DELETE', '/repositories/docker-prod-local');
    assert.equal(res.status, 409);
    assert.match(await detail(res), /member of the virtual repositories docker, docker-all, docker-prod;/);
  });
});
