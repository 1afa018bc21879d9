/**
 * What a caller cannot read, it cannot learn about: not from the catalog, tags lists, referrers,
 * blob reads or cross-repository mounts, and refusals look the same whether a name exists or not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  descriptorOf,
  imageManifest,
  makeConfig,
  nextLink,
  type PushedImage,
  RegistryClient,
  request,
} from '../support/http.ts';
import { ADMIN_AUTH, admin, api, PASSWORD } from './support.ts';

describe('nothing leaks to callers who may not read it', () => {
  let gantry: RunningGantry;
  let secret: PushedImage;
  const pat = basicAuth('pat', PASSWORD);

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    const adminClient = new RegistryClient(gantry.url, { Authorization: ADMIN_AUTH });
    secret = await adminClient.pushImage('docker-staging-local/secret/app', '1.0');
    for (const name of ['public/a', 'public/b', 'public/c', 'internal/x']) {
      await adminClient.pushImage(`docker-dev-local/${name}`, '1.0');
    }
    // A signature-like artifact on the secret image.
    const config = makeConfig('application/vnd.oci.empty.v1+json');
    await adminClient.pushBlob('docker-staging-local/secret/app', config);
    const sig = imageManifest({
      config,
      layers: [],
      artifactType: 'application/example.sig',
      subject: descriptorOf(secret.manifest),
    });
    await adminClient.pushManifest('docker-staging-local/secret/app', sig.digest, sig);
    await admin(gantry.url, 'POST', '/users', { name: 'pat', password: PASSWORD }, 201);
    await admin(
      gantry.url,
      'POST',
      '/permissions',
      {
        name: 'public-images',
        repositories: ['docker-dev-local'],
        images: ['public/*'],
        users: { pat: ['deploy'] },
      },
      201,
    );
  });
  after(async () => gantry?.stop());

  const get = (path: string, auth = pat) =>
    request(gantry.url, 'GET', path, { headers: { Authorization: auth } });

  it('the catalog lists only readable names, and pages over them', async () => {
    const all = await get('/v2/_catalog');
    assert.deepEqual(all.json<{ repositories: string[] }>().repositories, [
      'docker-dev-local/public/a',
      'docker-dev-local/public/b',
      'docker-dev-local/public/c',
    ]);
    const seen: string[] = [];
    let path: string | undefined = '/v2/_catalog?n=2';
    while (path) {
      const page = await get(path);
      seen.push(...page.json<{ repositories: string[] }>().repositories);
      path = nextLink(page);
    }
    assert.deepEqual(seen, [
      'docker-dev-local/public/a',
      'docker-dev-local/public/b',
      'docker-dev-local/public/c',
    ]);
    // Without credentials the catalog would be short: a 401 challenge makes clients send theirs.
    const anonymous = await request(gantry.url, 'GET', '/v2/_catalog');
    assert.equal(anonymous.status, 401, anonymous.text());
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /scope="registry:catalog:\*"/);
    const everything = await get('/v2/_catalog', ADMIN_AUTH);
    assert.equal(everything.json<{ repositories: string[] }>().repositories.length, 5);
  });

  it('tags lists and referrers refuse alike for names that exist and names that do not', async () => {
    const existing = await get('/v2/docker-staging-local/secret/app/tags/list');
    const missing = await get('/v2/docker-staging-local/no-such/app/tags/list');
    assert.equal(existing.status, 403);
    assert.equal(missing.status, 403);
    // Every answer carries its own request id; the rest must not tell the two apart.
    const body = (r: typeof existing) => {
      const { requestId: _, ...rest } = r.json<{ requestId?: string }>();
      return JSON.stringify(rest);
    };
    assert.equal(body(existing).replaceAll('secret/app', 'X'), body(missing).replaceAll('no-such/app', 'X'));
    const referrers = await get(`/v2/docker-staging-local/secret/app/referrers/${secret.manifest.digest}`);
    assert.equal(referrers.status, 403);
    const internal = await get('/v2/docker-dev-local/internal/x/tags/list');
    assert.equal(internal.status, 403, 'image patterns limit reads inside a repository');
    assert.equal((await get('/v2/docker-dev-local/public/a/tags/list')).status, 200);
  });

  it('a mount from an unreadable repository becomes a plain upload (202), from a readable one a mount (201)', async () => {
    const layer = secret.layers[0];
    assert.ok(layer);
    const denied = await request(
      gantry.url,
      'POST',
      `/v2/docker-dev-local/public/new/blobs/uploads/?mount=${layer.digest}&from=docker-staging-local/secret/app`,
      { headers: { Authorization: pat } },
    );
    assert.equal(denied.status, 202, denied.text());
    assert.match(denied.headers.get('location') ?? '', /\/blobs\/uploads\//);
    const head = await request(gantry.url, 'HEAD', `/v2/docker-dev-local/public/new/blobs/${layer.digest}`, {
      headers: { Authorization: pat },
    });
    assert.equal(head.status, 404, 'nothing was mounted');
    const adminClient = new RegistryClient(gantry.url, { Authorization: ADMIN_AUTH });
    const readable = await adminClient.pushImage('docker-dev-local/public/source', '1.0');
    const mounted = await request(
      gantry.url,
      'POST',
      `/v2/docker-dev-local/public/new/blobs/uploads/?mount=${readable.config.digest}&from=docker-dev-local/public/source`,
      { headers: { Authorization: pat } },
    );
    assert.equal(mounted.status, 201, mounted.text());
  });

  it('a blob is served only through a name that holds it and that the caller may read', async () => {
    const layer = secret.layers[0];
    assert.ok(layer);
    const through = await get(`/v2/docker-dev-local/public/a/blobs/${layer.digest}`);
    assert.equal(through.status, 404, 'another repository holding it does not help');
    assert.equal((await get(`/v2/docker-staging-local/secret/app/blobs/${layer.digest}`)).status, 403);
  });

  it('the repositories API lists only repositories the caller reads something in', async () => {
    const res = await api(gantry.url, 'GET', '/repositories', undefined, pat);
    assert.deepEqual(
      (res.json.repositories as { key: string }[]).map((r) => r.key),
      ['docker-dev-local'],
    );
    const hidden = await api(gantry.url, 'GET', '/repositories/docker-prod-local', undefined, pat);
    assert.equal(hidden.status, 404);
  });
});
