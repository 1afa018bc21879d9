/**
 * Remote (pull-through cache) repositories end to end: a real Gantry in front of real reference
 * registries (CNCF distribution). Pulls through the remote return the upstream's exact manifests
 * and blobs, the cache serves them while the upstream is down or after it deleted them, tags are
 * revalidated after the TTL, concurrent misses become one upstream request, remotes work as
 * members of virtual repositories, and credentials for the upstream work and never leak.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { skopeoCopy, skopeoInspectRaw } from '../support/clients.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  digestOf,
  expectBytes,
  expectOciError,
  expectStatus,
  imageManifest,
  makeConfig,
  type PushedImage,
  RegistryClient,
} from '../support/http.ts';
import { type RunningReferenceRegistry, startReferenceRegistry } from '../support/reference-registry.ts';
import {
  AuthedRegistryClient,
  api,
  countUpstreamRequests,
  createRepository,
  hashedGet,
  settleLog,
  sleep,
} from './pull-through-support.ts';

const TTL_SECONDS = 2;
const PAST_TTL_MS = 2_500;
const USER = 'puller';
const PASSWORD = 'Upstream-s3cret-77';
const WRONG_PASSWORD = 'Wrong-pa55-for-upstream';
const BIG_BLOB = 64 * 1024 * 1024;
const CONCURRENCY = 20;

/** `pt/<prefix>-<random>`: an image name no other test uses. */
function imageName(prefix: string): string {
  return `pt/${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Asserts that `name:reference` serves exactly `image`'s manifest and every one of its blobs. */
async function expectImage(
  client: RegistryClient,
  name: string,
  reference: string,
  image: PushedImage,
  context: string,
): Promise<void> {
  const m = await client.getManifest(name, reference);
  expectStatus(m, 200, `${context}: GET /v2/${name}/manifests/${reference}`);
  expectBytes(m.body, image.manifest.bytes, `${context}: manifest ${name}:${reference}`);
  assert.equal(digestOf(m.body), image.manifest.digest, `${context}: manifest digest`);
  const header = m.headers.get('docker-content-digest');
  if (header !== null) assert.equal(header, image.manifest.digest, `${context}: Docker-Content-Digest`);
  for (const blob of [image.config, ...image.layers]) {
    const b = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
    expectStatus(b, 200, `${context}: GET /v2/${name}/blobs/${blob.digest}`);
    expectBytes(b.body, blob.bytes, `${context}: blob ${blob.digest}`);
  }
}

/** The digest `name:reference` answers with (asserting 200 and that the body hashes to it). */
async function servedDigest(client: RegistryClient, name: string, reference: string): Promise<string> {
  const m = await client.getManifest(name, reference);
  expectStatus(m, 200, `GET /v2/${name}/manifests/${reference}`);
  return digestOf(m.body);
}

/** Upstream credentials are set by administrators only. */
const ADMIN_AUTH = { authorization: basicAuth(ADMIN.user, ADMIN.password) };

describe('remote repositories (pull-through cache)', () => {
  let gantry: RunningGantry;
  let hub: RunningReferenceRegistry;
  let client: RegistryClient;
  let upstreamClient: RegistryClient;
  let fixtures: PreparedFixtures;
  const extraRegistries: RunningReferenceRegistry[] = [];
  const tempDirs: string[] = [];

  before(async () => {
    [gantry, hub, fixtures] = await Promise.all([
      // The upstreams run on loopback, which Gantry refuses unless allowed.
      startGantry({ env: { GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' } }),
      startReferenceRegistry(),
      prepareFixtures(['tiny']),
    ]);
    client = new RegistryClient(gantry.url);
    upstreamClient = new RegistryClient(hub.url);
    await createRepository(gantry.url, {
      key: 'hub-remote',
      kind: 'remote',
      settings: { url: hub.url, ttlSeconds: TTL_SECONDS },
    });
  });

  after(async () => {
    await Promise.all([
      gantry?.stop(),
      hub?.stop(),
      fixtures?.cleanup(),
      ...extraRegistries.map((r) => r.stop()),
      ...tempDirs.map((d) => rm(d, { recursive: true, force: true })),
    ]);
  });

  test('bad settings are refused with a 400 problem saying what is wrong', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['no url', { ttlSeconds: 2 }, /url/i],
      ['a url that is not http(s)', { url: 'ftp://127.0.0.1:21' }, /url|http/i],
      ['a url that is no url', { url: 'not a url' }, /url/i],
      ['a username without a password', { url: hub.url, username: 'someone' }, /password/i],
    ];
    for (const [what, settings, detail] of cases) {
      const key = `bad-remote-${randomBytes(3).toString('hex')}`;
      // As an administrator: credentials in the settings are theirs to set.
      const res = await api(
        gantry.url,
        'POST',
        '/repositories',
        { key, kind: 'remote', settings },
        ADMIN_AUTH,
      );
      assert.equal(res.status, 400, `${what}: expected 400, got ${res.status} ${res.text}`);
      assert.match(res.contentType, /^application\/problem\+json/, `${what}: Content-Type`);
      assert.ok(res.detail.length > 0, `${what}: problem without a detail: ${res.text}`);
      assert.match(res.detail, detail, `${what}: detail "${res.detail}"`);
      const existing = await api(gantry.url, 'GET', `/repositories/${key}`);
      assert.equal(existing.status, 404, `${what}: the repository was created anyway`);
    }
  });

  test('pull by tag and by digest returns the upstream manifest and blobs exactly', async () => {
    const name = imageName('basic');
    const image = await upstreamClient.pushImage(name, '1.0', { layerSizes: [300_000, 17] });
    await expectImage(client, `hub-remote/${name}`, '1.0', image, 'by tag');
    await expectImage(client, `hub-remote/${name}`, image.manifest.digest, image, 'by digest');
    const head = await client.request('HEAD', `/v2/hub-remote/${name}/manifests/1.0`, {
      headers: { accept: image.manifest.mediaType },
    });
    expectStatus(head, 200, 'HEAD manifest by tag');
    const missing = await client.getManifest(`hub-remote/${name}`, 'no-such-tag');
    expectOciError(missing, 404, 'MANIFEST_UNKNOWN', 'a tag the upstream does not have');
    const missingBlob = await client.request('GET', `/v2/hub-remote/${name}/blobs/sha256:${'0'.repeat(64)}`);
    expectOciError(missingBlob, 404, 'BLOB_UNKNOWN', 'a blob the upstream does not have');
  });

  test('skopeo copies from the remote to an OCI layout with the upstream digests', async () => {
    const expected = fixtures.record('tiny').digest;
    await skopeoCopy(fixtures.ociRef('tiny'), `docker://${hub.host}/pt/skopeo-tiny:1`);
    const upstream = await skopeoInspectRaw(`docker://${hub.host}/pt/skopeo-tiny:1`);
    assert.equal(upstream.digest, expected, 'the upstream holds the fixture unchanged');
    const remote = await skopeoInspectRaw(`docker://${gantry.host}/hub-remote/pt/skopeo-tiny:1`);
    assert.equal(remote.digest, expected, 'skopeo inspect --raw through the remote');
    const dir = await mkdtemp(join(tmpdir(), 'gantry-pt-layout-'));
    tempDirs.push(dir);
    await skopeoCopy(`docker://${gantry.host}/hub-remote/pt/skopeo-tiny:1`, `oci:${join(dir, 'out')}:1`, {
      preserveDigests: true,
    });
    const index = JSON.parse(await readFile(join(dir, 'out', 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [expected],
      'the copied layout holds the upstream manifest digest',
    );
    for (const layer of upstream.json.layers ?? []) {
      const [, hex] = layer.digest.split(':');
      const bytes = await readFile(join(dir, 'out', 'blobs', 'sha256', hex ?? ''));
      assert.equal(digestOf(bytes), layer.digest, `layer ${layer.digest} in the copied layout`);
    }
  });

  test('pushes to a remote repository are refused with 403 DENIED', async () => {
    const name = `hub-remote/${imageName('push')}`;
    const upload = await client.request('POST', `/v2/${name}/blobs/uploads/`);
    const e1 = expectOciError(upload, 403, 'DENIED', 'POST blobs/uploads/ to a remote');
    assert.match(e1?.message ?? '', /push/i, `message: ${e1?.message}`);
    assert.match(e1?.message ?? '', /not|no |never|cannot|read-only|refuse/i, `message: ${e1?.message}`);
    const config = makeConfig();
    const manifest = imageManifest({ config, layers: [] });
    const put = await client.putManifest(name, 'x', manifest);
    const e2 = expectOciError(put, 403, 'DENIED', 'PUT manifest to a remote');
    assert.match(e2?.message ?? '', /push/i, `message: ${e2?.message}`);
    const mountFrom = await client.request(
      'POST',
      `/v2/${name}/blobs/uploads/?mount=${config.digest}&from=docker-dev-local/whatever`,
    );
    expectOciError(mountFrom, 403, 'DENIED', 'cross-repository mount into a remote');
  });

  test('tags/list lists what the upstream has', async () => {
    const name = imageName('tags');
    const image = await upstreamClient.pushImage(name, 'b');
    await upstreamClient.pushManifest(name, 'a', image.manifest);
    await upstreamClient.pushManifest(name, 'c', image.manifest);
    const res = await client.tags(`hub-remote/${name}`);
    expectStatus(res, 200, 'tags/list through the remote');
    const doc = res.json<{ name: string; tags: string[] }>();
    assert.deepEqual([...doc.tags].sort(), ['a', 'b', 'c']);
    const none = await client.tags(`hub-remote/${imageName('no-such-image')}`);
    expectOciError(none, 404, 'NAME_UNKNOWN', 'tags/list of a name the upstream does not have');
  });

  test('the cache serves pulled images while the upstream is down, even past the TTL', async () => {
    const flaky = await startReferenceRegistry();
    extraRegistries.push(flaky);
    await createRepository(gantry.url, {
      key: 'flaky-remote',
      kind: 'remote',
      settings: { url: flaky.url, ttlSeconds: TTL_SECONDS },
    });
    const up = new RegistryClient(flaky.url);
    const name = imageName('cached');
    const image = await up.pushImage(name, '1', { layerSizes: [200_000] });
    const never = await up.pushImage(imageName('never-pulled'), '1');
    await expectImage(client, `flaky-remote/${name}`, '1', image, 'first pull');
    await flaky.stop();

    await expectImage(client, `flaky-remote/${name}`, '1', image, 'upstream down, by tag');
    await expectImage(
      client,
      `flaky-remote/${name}`,
      image.manifest.digest,
      image,
      'upstream down, by digest',
    );
    await sleep(PAST_TTL_MS);
    await expectImage(client, `flaky-remote/${name}`, '1', image, 'upstream down past the TTL, by tag');
    await expectImage(
      client,
      `flaky-remote/${name}`,
      image.manifest.digest,
      image,
      'upstream down past the TTL, by digest',
    );

    for (const reference of [never.tag, never.manifest.digest]) {
      const res = await client.getManifest(`flaky-remote/${never.name}`, reference);
      const e = expectOciError(res, 503, 'UNKNOWN', `never cached (${reference}), upstream down`);
      assert.ok(
        e?.message.includes(flaky.url),
        `the message does not name the upstream ${flaky.url}: ${e?.message}`,
      );
    }
    const blob = await client.request('GET', `/v2/flaky-remote/${never.name}/blobs/${never.config.digest}`);
    const e = expectOciError(blob, 503, 'UNKNOWN', 'never-cached blob, upstream down');
    assert.ok(e?.message.includes(flaky.url), `the message does not name the upstream: ${e?.message}`);
  });

  test('a manifest deleted upstream is still served from the cache after the TTL', async () => {
    const name = imageName('deleted');
    const image = await upstreamClient.pushImage(name, 'keep');
    await expectImage(client, `hub-remote/${name}`, 'keep', image, 'first pull');
    const del = await upstreamClient.request('DELETE', `/v2/${name}/manifests/${image.manifest.digest}`);
    expectStatus(del, 202, 'DELETE the manifest upstream');
    expectStatus(await upstreamClient.getManifest(name, 'keep'), 404, 'the upstream no longer has the tag');
    await sleep(PAST_TTL_MS);
    await expectImage(client, `hub-remote/${name}`, 'keep', image, 'deleted upstream, past the TTL, by tag');
    await expectImage(
      client,
      `hub-remote/${name}`,
      image.manifest.digest,
      image,
      'deleted upstream, past the TTL, by digest',
    );
  });

  test('a tag moved upstream is picked up after the TTL, not before', async () => {
    const name = imageName('moving');
    const first = await upstreamClient.pushImage(name, 'latest');
    assert.equal(await servedDigest(client, `hub-remote/${name}`, 'latest'), first.manifest.digest);
    const second = await upstreamClient.pushImage(name, 'latest');
    assert.notEqual(second.manifest.digest, first.manifest.digest);
    assert.equal(
      await servedDigest(client, `hub-remote/${name}`, 'latest'),
      first.manifest.digest,
      'within the TTL the cached digest is served',
    );
    await sleep(PAST_TTL_MS);
    assert.equal(
      await servedDigest(client, `hub-remote/${name}`, 'latest'),
      second.manifest.digest,
      'after the TTL the new upstream digest is served',
    );
    await expectImage(client, `hub-remote/${name}`, 'latest', second, 'the moved tag, whole image');
    await expectImage(client, `hub-remote/${name}`, first.manifest.digest, first, 'the old digest');
  });

  test(`${CONCURRENCY} concurrent GETs of an uncached 64 MiB blob: exact bytes, one upstream GET`, async () => {
    const name = imageName('big');
    const image = await upstreamClient.pushImage(name, '1', { layerSizes: [BIG_BLOB] });
    const layer = image.layers[0];
    assert.ok(layer);
    const path = `/v2/${name}/blobs/${layer.digest}`;
    assert.equal(countUpstreamRequests(hub.output(), 'GET', path), 0, 'nothing fetched the blob yet');
    const replies = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        hashedGet(`${gantry.url}/v2/hub-remote/${name}/blobs/${layer.digest}`),
      ),
    );
    replies.forEach((r, i) => {
      assert.equal(r.status, 200, `GET #${i}: ${r.status} ${r.errorText}`);
      assert.equal(r.length, BIG_BLOB, `GET #${i}: ${r.length} bytes`);
      assert.equal(r.digest, layer.digest, `GET #${i}: different bytes`);
    });
    await settleLog();
    assert.equal(
      countUpstreamRequests(hub.output(), 'GET', path),
      1,
      `upstream GETs of ${path}:\n${hub
        .output()
        .split('\n')
        .filter((l) => l.includes(layer.digest))
        .join('\n')}`,
    );
  });

  test(`${CONCURRENCY} concurrent GETs of an uncached manifest by digest: one upstream GET`, async () => {
    const name = imageName('manifest-burst');
    const image = await upstreamClient.pushImage(name, '1');
    const path = `/v2/${name}/manifests/${image.manifest.digest}`;
    assert.equal(countUpstreamRequests(hub.output(), 'GET', path), 0, 'nothing fetched the manifest yet');
    const replies = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        client.getManifest(`hub-remote/${name}`, image.manifest.digest),
      ),
    );
    replies.forEach((r, i) => {
      expectStatus(r, 200, `GET #${i}`);
      expectBytes(r.body, image.manifest.bytes, `GET #${i}: manifest`);
    });
    await settleLog();
    assert.equal(
      countUpstreamRequests(hub.output(), 'GET', path),
      1,
      `upstream GETs of ${path}:\n${hub
        .output()
        .split('\n')
        .filter((l) => l.includes(image.manifest.digest))
        .join('\n')}`,
    );
  });

  test('a virtual repository over a local and the remote', async () => {
    await createRepository(gantry.url, {
      key: 'mix',
      kind: 'virtual',
      settings: { members: ['docker-dev-local', 'hub-remote'], deploymentRepository: 'docker-dev-local' },
    });

    const upOnly = imageName('mix-upstream');
    const upImage = await upstreamClient.pushImage(upOnly, '1');
    await expectImage(client, `mix/${upOnly}`, '1', upImage, 'upstream-only image through mix, by tag');
    await expectImage(
      client,
      `mix/${upOnly}`,
      upImage.manifest.digest,
      upImage,
      'upstream-only image through mix, by digest',
    );

    const pushed = imageName('mix-pushed');
    const pushedImage = await client.pushImage(`mix/${pushed}`, '1');
    await expectImage(client, `docker-dev-local/${pushed}`, '1', pushedImage, 'pushed through mix');

    const both = imageName('mix-both');
    const upstreamShared = await upstreamClient.pushImage(both, 'shared');
    await upstreamClient.pushManifest(both, 'up-only', upstreamShared.manifest);
    const localShared = await client.pushImage(`docker-dev-local/${both}`, 'shared');
    await client.pushManifest(`docker-dev-local/${both}`, 'local-only', localShared.manifest);
    assert.notEqual(localShared.manifest.digest, upstreamShared.manifest.digest);
    await expectImage(client, `mix/${both}`, 'shared', localShared, 'a tag in both: the local one wins');
    await expectImage(client, `mix/${both}`, 'up-only', upstreamShared, 'a tag only upstream');
    const tags = await client.tags(`mix/${both}`);
    expectStatus(tags, 200, 'tags/list of mix');
    assert.deepEqual(
      [...tags.json<{ tags: string[] }>().tags].sort(),
      ['local-only', 'shared', 'up-only'],
      'tags/list of mix is the union',
    );
  });

  test('basic-auth upstream: the right credentials pull, wrong ones are refused without leaking', async () => {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', USER, PASSWORD], { encoding: 'utf8' });
    const locked = await startReferenceRegistry({ htpasswd });
    extraRegistries.push(locked);
    const name = imageName('private');
    const image = await new AuthedRegistryClient(locked.url, USER, PASSWORD).pushImage(name, '2.0');

    await createRepository(
      gantry.url,
      {
        key: 'auth-remote',
        kind: 'remote',
        settings: { url: locked.url, ttlSeconds: TTL_SECONDS, username: USER, password: PASSWORD },
      },
      ADMIN_AUTH,
    );
    await expectImage(client, `auth-remote/${name}`, '2.0', image, 'with the right credentials');
    const tags = await client.tags(`auth-remote/${name}`);
    expectStatus(tags, 200, 'tags/list with the right credentials');
    assert.deepEqual(tags.json<{ tags: string[] }>().tags, ['2.0']);

    const shown = await api(gantry.url, 'GET', '/repositories/auth-remote');
    assert.equal(shown.status, 200, `GET /api/v1/repositories/auth-remote: ${shown.text}`);
    assert.ok(!shown.text.includes(PASSWORD), `the password is shown: ${shown.text}`);
    const listed = await api(gantry.url, 'GET', '/repositories');
    assert.ok(!listed.text.includes(PASSWORD), 'the password is in the repository list');

    await createRepository(
      gantry.url,
      {
        key: 'auth-bad',
        kind: 'remote',
        settings: { url: locked.url, ttlSeconds: TTL_SECONDS, username: USER, password: WRONG_PASSWORD },
      },
      ADMIN_AUTH,
    );
    const shownBad = await api(gantry.url, 'GET', '/repositories/auth-bad');
    assert.ok(!shownBad.text.includes(WRONG_PASSWORD), `the password is shown: ${shownBad.text}`);
    const res = await client.getManifest(`auth-bad/${name}`, '2.0');
    const codeFor: Record<number, string> = { 503: 'UNKNOWN', 401: 'UNAUTHORIZED', 403: 'DENIED' };
    const code = codeFor[res.status];
    assert.ok(code, `wrong upstream credentials: expected 503, 401 or 403, got ${res.status} ${res.text()}`);
    const e = expectOciError(res, res.status, code, 'wrong upstream credentials');
    assert.match(
      e?.message ?? '',
      /refused.*credentials|credentials.*(refused|rejected|invalid)/i,
      `the message does not say the upstream refused the credentials: ${e?.message}`,
    );
    assert.ok(!res.text().includes(WRONG_PASSWORD), `the password is in the reply: ${res.text()}`);
    assert.ok(
      !res.text().includes(Buffer.from(`${USER}:${WRONG_PASSWORD}`).toString('base64')),
      'the basic credentials are in the reply',
    );
    assert.ok(!gantry.output().includes(WRONG_PASSWORD), 'the password is in the server log');
    assert.ok(!gantry.output().includes(PASSWORD), 'the password is in the server log');
  });
});
