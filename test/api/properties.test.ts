import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, createRoles, expectProblem, PASSWORD } from '../auth/support.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { digestOf, imageManifest, MEDIA, makeBlob, RegistryClient, type TestBlob } from '../support/http.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

const READER = basicAuth('reader', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const CUSTOMER = basicAuth('customer', PASSWORD);

/** A config whose `config.Labels` are exactly the given ones (plus a nonce, so each is new). */
function configWithLabels(labels: Record<string, string>): TestBlob {
  const bytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { nonce: randomBytes(8).toString('hex'), ...labels } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  return { bytes, digest: digestOf(bytes), mediaType: MEDIA.ociConfig };
}

/** Pushes an image as the administrator; returns its digest. */
async function push(
  url: string,
  name: string,
  tag: string,
  options: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Promise<string> {
  const client = new RegistryClient(url, { authorization: ADMIN_AUTH });
  const config = configWithLabels(options.labels ?? {});
  const layer = makeBlob(256);
  for (const blob of [config, layer]) await client.pushBlob(name, blob);
  const manifest = imageManifest({
    config,
    layers: [layer],
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  await client.pushManifest(name, tag, manifest);
  return manifest.digest;
}

describe('properties API and search', () => {
  let gantry: RunningGantry;
  let appDigest: string;
  let otherDigest: string;
  let prodDigest: string;
  const props = (repo: string, image: string, ref: string) =>
    `/repositories/${repo}/images/${image}/manifests/${ref}/properties`;
  const APP = () => props('docker-dev-local', 'team/app', appDigest);

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    await createRoles(gantry.url);
    appDigest = await push(gantry.url, 'docker-dev-local/team/app', '1.0.0', {
      labels: { 'org.opencontainers.image.revision': 'abc123' },
      annotations: { 'org.opencontainers.image.source': 'https://git.example/team/app' },
    });
    otherDigest = await push(gantry.url, 'docker-dev-local/team/other', 'latest', {
      labels: { 'org.opencontainers.image.revision': 'abc123' },
    });
    prodDigest = await push(gantry.url, 'docker-prod-local/team/app', '1.0.0', {
      labels: { 'org.opencontainers.image.revision': 'abc123' },
    });
  });
  after(() => gantry.stop());

  it('starts empty, and GET answers repository, image, digest and properties', async () => {
    const reply = await admin(gantry.url, 'GET', APP(), undefined, 200);
    assert.deepEqual(reply, {
      repository: 'docker-dev-local',
      image: 'team/app',
      digest: appDigest,
      properties: {},
    });
  });

  it('anonymous callers get 401, readers may read but not write (403), developers may annotate', async () => {
    await expectProblem(api(gantry.url, 'GET', APP(), undefined, ''), 401, /sign in to read/);
    await expectProblem(
      api(gantry.url, 'PATCH', APP(), { properties: { a: 'b' } }, ''),
      401,
      /sign in to annotate/,
    );
    await expectProblem(
      api(gantry.url, 'PATCH', APP(), { properties: { 'qa.status': 'passed' } }, READER),
      403,
      /user reader may not annotate in docker-dev-local\/team\/app/,
    );
    await expectProblem(api(gantry.url, 'DELETE', APP(), undefined, READER), 403, /may not annotate/);
    const read = await api(gantry.url, 'GET', APP(), undefined, READER);
    assert.equal(read.status, 200);
    // Customers read docker-prod only.
    await expectProblem(api(gantry.url, 'GET', APP(), undefined, CUSTOMER), 403, /may not read/);

    const set = await api(gantry.url, 'PATCH', APP(), { properties: { 'qa.status': 'passed' } }, DEV);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.deepEqual(set.json.properties, { 'qa.status': ['passed'] });
    // Developers have no annotate on production.
    await expectProblem(
      api(
        gantry.url,
        'PATCH',
        props('docker-prod-local', 'team/app', prodDigest),
        { properties: { x: 'y' } },
        DEV,
      ),
      403,
      /may not annotate in docker-prod-local\/team\/app/,
    );
  });

  it('PATCH sets keys and removes those given null or []; PUT replaces all; DELETE removes keys or all', async () => {
    await admin(gantry.url, 'PUT', APP(), { properties: { 'qa.status': 'passed' } }, 200);
    let reply = await admin(
      gantry.url,
      'PATCH',
      APP(),
      { properties: { jira: ['APP-2', 'APP-1', 'APP-2'], owner: 'team-a' } },
      200,
    );
    assert.deepEqual(reply.properties, {
      jira: ['APP-1', 'APP-2'],
      owner: ['team-a'],
      'qa.status': ['passed'],
    });
    reply = await admin(gantry.url, 'PATCH', APP(), { properties: { owner: null, jira: [] } }, 200);
    assert.deepEqual(reply.properties, { 'qa.status': ['passed'] });

    reply = await admin(gantry.url, 'PUT', APP(), { properties: { a: 'x', b: ['y', 'z'] } }, 200);
    assert.deepEqual(reply.properties, { a: ['x'], b: ['y', 'z'] });

    await admin(gantry.url, 'PATCH', APP(), { properties: { c: '1' } }, 200);
    reply = await admin(gantry.url, 'DELETE', `${APP()}?key=a&key=c&key=never-set`, undefined, 200);
    assert.deepEqual(reply.properties, { b: ['y', 'z'] });
    reply = await admin(gantry.url, 'DELETE', APP(), undefined, 200);
    assert.deepEqual(reply.properties, {});

    // A tag names the digest too.
    reply = await admin(
      gantry.url,
      'PATCH',
      props('docker-dev-local', 'team/app', '1.0.0'),
      { properties: { 'qa.status': 'passed' } },
      200,
    );
    assert.equal(reply.digest, appDigest);
  });

  it('every change is audited with the keys, values and image@digest', async () => {
    await admin(gantry.url, 'PATCH', APP(), { properties: { 'audit.me': 'yes' } }, 200);
    await admin(gantry.url, 'DELETE', `${APP()}?key=audit.me`, undefined, 200);
    let events: Json[] = [];
    for (let i = 0; i < 50; i++) {
      events = (await admin(gantry.url, 'GET', '/audit?action=property.', undefined, 200)).events as Json[];
      if (events.some((e) => e.action === 'property.delete' && e.detail?.keys?.[0] === 'audit.me')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const set = events.find((e) => e.action === 'property.set' && e.detail?.set?.['audit.me']);
    assert.ok(set, JSON.stringify(events));
    assert.equal(set.repository, 'docker-dev-local');
    assert.equal(set.target, `docker-dev-local/team/app@${appDigest}`);
    assert.deepEqual(set.detail.set, { 'audit.me': ['yes'] });
    const removed = events.find((e) => e.action === 'property.delete' && e.detail?.keys?.[0] === 'audit.me');
    assert.ok(removed);
    assert.equal(removed.actor, 'admin');
  });

  it('says what is wrong with keys, values and bodies', async () => {
    const patch = (properties: unknown) => api(gantry.url, 'PATCH', APP(), { properties });
    await expectProblem(patch({ 'bad key': 'x' }), 400, /property key "bad key" is invalid: use 1-255/);
    await expectProblem(patch({ ['k'.repeat(256)]: 'x' }), 400, /is invalid/);
    await expectProblem(patch({ k: 7 }), 400, /values of k must be strings/);
    await expectProblem(patch({ k: 'v'.repeat(4097) }), 400, /4097 characters long; at most 4096/);
    await expectProblem(
      patch({ k: Array.from({ length: 101 }, (_, i) => `v${i}`) }),
      400,
      /101 values; at most 100/,
    );
    await expectProblem(api(gantry.url, 'PATCH', APP(), { k: 'v' }), 400, /send \{"properties"/);
    await expectProblem(
      api(gantry.url, 'PUT', APP(), { properties: { k: [] } }),
      400,
      /property k has no value/,
    );
    await expectProblem(
      api(gantry.url, 'GET', props('docker-dev-local', 'team/app', 'sha256:nope')),
      400,
      /neither a digest .* nor a tag/,
    );
  });

  it('404 when the name does not hold the digest, or the tag or repository does not exist', async () => {
    await expectProblem(
      api(gantry.url, 'GET', props('docker-dev-local', 'team/other', appDigest)),
      404,
      new RegExp(`docker-dev-local/team/other does not hold ${appDigest}`),
    );
    await expectProblem(
      api(gantry.url, 'PATCH', props('docker-staging-local', 'team/app', appDigest), {
        properties: { a: 'b' },
      }),
      404,
      /docker-staging-local\/team\/app does not hold sha256:/,
    );
    await expectProblem(
      api(gantry.url, 'GET', props('docker-dev-local', 'team/app', 'no-such-tag')),
      404,
      /has no tag no-such-tag/,
    );
    await expectProblem(
      api(gantry.url, 'GET', props('docker-nothing', 'team/app', appDigest)),
      404,
      /repository docker-nothing does not exist/,
    );
  });

  it('search: by property AND label, by annotation and name, within what the caller may read', async () => {
    const q = (query: string, auth: string = ADMIN_AUTH) =>
      api(gantry.url, 'GET', `/search?${query}`, undefined, auth);
    await admin(gantry.url, 'PUT', APP(), { properties: { 'qa.status': 'passed' } }, 200);
    await admin(
      gantry.url,
      'PUT',
      props('docker-dev-local', 'team/other', otherDigest),
      { properties: { 'qa.status': 'failed' } },
      200,
    );
    await admin(
      gantry.url,
      'PUT',
      props('docker-prod-local', 'team/app', prodDigest),
      { properties: { 'qa.status': 'passed' } },
      200,
    );

    const both = await q('property=qa.status=passed&label=org.opencontainers.image.revision=abc123');
    assert.equal(both.status, 200, JSON.stringify(both.json));
    assert.deepEqual(
      (both.json.results as Json[]).map((r) => [r.repository, r.image, r.digest]),
      [
        ['docker-dev-local', 'team/app', appDigest],
        ['docker-prod-local', 'team/app', prodDigest],
      ],
    );
    assert.deepEqual((both.json.results as Json[])[0], {
      repository: 'docker-dev-local',
      image: 'team/app',
      digest: appDigest,
      tags: ['1.0.0'],
      properties: { 'qa.status': ['passed'] },
    });

    const label = await q('label=org.opencontainers.image.revision=abc123');
    assert.equal((label.json.results as Json[]).length, 3);
    const keyOnly = await q('property=qa.status&name=other');
    assert.deepEqual(
      (keyOnly.json.results as Json[]).map((r) => r.image),
      ['team/other'],
    );
    const wrongValue = await q('label=org.opencontainers.image.revision=zzz&property=qa.status');
    assert.deepEqual(wrongValue.json.results, []);
    const annotation = await q('annotation=org.opencontainers.image.source=https://git.example/team/app');
    assert.deepEqual(
      (annotation.json.results as Json[]).map((r) => r.digest),
      [appDigest],
    );
    // A label is not an annotation.
    assert.deepEqual((await q('annotation=org.opencontainers.image.revision')).json.results, []);
    const byName = await q('name=team/app&repository=docker-dev-local');
    assert.deepEqual(
      (byName.json.results as Json[]).map((r) => `${r.repository}/${r.image}@${r.digest}`),
      [`docker-dev-local/team/app@${appDigest}`],
    );

    // Customers read production (docker-prod and its member docker-prod-local): they find what
    // production holds where it is stored, or under docker-prod when they search there, and
    // nothing in development; readers see dev and prod.
    const customer = await q('property=qa.status', CUSTOMER);
    assert.deepEqual(
      (customer.json.results as Json[]).map((r) => `${r.repository}/${r.image}`),
      ['docker-prod-local/team/app'],
    );
    const throughProd = await q('property=qa.status&repository=docker-prod', CUSTOMER);
    assert.deepEqual(
      (throughProd.json.results as Json[]).map((r) => `${r.repository}/${r.image}`),
      ['docker-prod/team/app'],
    );
    const reader = await q('property=qa.status', READER);
    assert.equal((reader.json.results as Json[]).length, 3);
    const anonymous = await q('property=qa.status', '');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.json.results, []);
  });

  it('search hides images the caller may not read, also inside a readable repository', async () => {
    await admin(
      gantry.url,
      'POST',
      '/permissions',
      {
        name: 'team-only',
        repositories: ['docker-dev-local'],
        images: ['team/other'],
        users: { customer: ['read'] },
      },
      201,
    );
    const reply = await api(gantry.url, 'GET', '/search?property=qa.status', undefined, CUSTOMER);
    assert.deepEqual(
      (reply.json.results as Json[]).map((r) => `${r.repository}/${r.image}`),
      ['docker-dev-local/team/other', 'docker-prod-local/team/app'],
    );
  });

  it('a search without conditions, or with unknown ones, says which parameters exist', async () => {
    await expectProblem(
      api(gantry.url, 'GET', '/search'),
      400,
      /property=k=v.*label=k=v.*annotation=k=v.*name=/,
    );
    await expectProblem(api(gantry.url, 'GET', '/search?colour=red'), 400, /unknown search parameter colour/);
    await expectProblem(api(gantry.url, 'GET', '/search?property=a&limit=0'), 400, /limit must be/);
    await expectProblem(api(gantry.url, 'GET', '/search?label='), 400, /label= needs a key/);
  });
});
