import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from '../auth/support.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type PushedImage, RegistryClient } from '../support/http.ts';

describe('search by digest prefix and by tag', () => {
  let gantry: RunningGantry;
  let dev: PushedImage;
  let prod: PushedImage;

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    await createRoles(gantry.url);
    const client = new RegistryClient(gantry.url, { Authorization: ADMIN_AUTH });
    dev = await client.pushImage('docker-dev-local/team/app', 'main-1a2b3c4-20261125120000');
    prod = await client.pushImage('docker-prod-local/team/app', '2.0.0');
  });
  after(async () => gantry?.stop());

  const search = (query: string, auth = ADMIN_AUTH) =>
    api(gantry.url, 'GET', `/search?${query}`, undefined, auth);
  const hits = (json: Record<string, unknown>) =>
    (json.results as { repository: string; image: string; digest: string; tags: string[] }[]).map(
      (r) => `${r.repository}/${r.image}@${r.digest}:${r.tags.join(',')}`,
    );

  it('finds a manifest from the start of its digest, with or without sha256:', async () => {
    const hex = dev.manifest.digest.slice('sha256:'.length, 'sha256:'.length + 8);
    const expected = [`docker-dev-local/team/app@${dev.manifest.digest}:main-1a2b3c4-20261125120000`];
    assert.deepEqual(hits((await search(`digest=${hex}`)).json), expected);
    assert.deepEqual(hits((await search(`digest=sha256:${hex}`)).json), expected);
    const bad = await search('digest=12');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.detail), /at least 4 hex digits/);
  });

  it('finds manifests by tag, only where the caller may read', async () => {
    assert.deepEqual(hits((await search('tag=2.0.0')).json), [
      `docker-prod-local/team/app@${prod.manifest.digest}:2,2.0,2.0.0,latest`, // floating tags came along in production
    ]);
    const customer = await search('tag=2.0.0', basicAuth('customer', PASSWORD));
    assert.equal(customer.status, 200);
    assert.deepEqual(
      hits(customer.json),
      [`docker-prod-local/team/app@${prod.manifest.digest}:2,2.0,2.0.0,latest`],
      'customers read production (docker-prod and its member), and find it where it is stored',
    );
    const both = await search(`tag=2.0.0&digest=${dev.manifest.digest.slice(0, 15)}`);
    assert.deepEqual(hits(both.json), [], 'every condition must hold');
    await admin(gantry.url, 'GET', '/search?tag=nothing-like-this', undefined, 200);
  });
  it('promotion history is visible to whoever reads the target where it is stored, not through a virtual repository alone', async () => {
    await admin(gantry.url, 'POST', '/repositories', { key: 'released', kind: 'local' }, 201);
    await admin(
      gantry.url,
      'POST',
      '/repositories',
      { key: 'released-view', kind: 'virtual', settings: { members: ['released'] } },
      201,
    );
    await admin(
      gantry.url,
      'POST',
      '/permissions',
      { name: 'released-readers', repositories: ['released-view'], users: { customer: ['read'] } },
      201,
    );
    const seeOnly = async () => {
      const res = await api(
        gantry.url,
        'GET',
        `/promotions?digest=${dev.manifest.digest}`,
        undefined,
        basicAuth('customer', PASSWORD),
      );
      return (res.json.promotions as { targetRepository: string }[]).map((p) => p.targetRepository);
    };
    await admin(
      gantry.url,
      'POST',
      '/promotions',
      { source: `docker-dev-local/team/app@${dev.manifest.digest}`, target: 'released', tags: ['1.0.0'] },
      201,
    );
    // A virtual repository is an address, never a grant: read on released-view alone shows nothing.
    assert.deepEqual(await seeOnly(), []);
    await admin(
      gantry.url,
      'PUT',
      '/permissions/released-readers',
      { repositories: ['released-view', 'released'], users: { customer: ['read'] } },
      200,
    );
    // Both ends must be readable: the customer now reads the target but not the source yet.
    assert.deepEqual(await seeOnly(), []);
    await admin(
      gantry.url,
      'POST',
      '/permissions',
      {
        name: 'dev-app-readers',
        repositories: ['docker-dev-local'],
        images: ['team/app'],
        users: { customer: ['read'] },
      },
      201,
    );
    assert.deepEqual(await seeOnly(), ['released']);
    const anonymous = await api(
      gantry.url,
      'GET',
      `/promotions?digest=${dev.manifest.digest}`,
      undefined,
      '',
    );
    assert.deepEqual(anonymous.json.promotions, [], 'anonymous callers read neither end');
  });
});
