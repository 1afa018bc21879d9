import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCEPT_ALL_MANIFESTS,
  descriptorOf,
  digestOf,
  expectBytes,
  expectOciError,
  expectStatus,
  imageManifest,
  indexManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  manifestFrom,
  type RegistryClient,
  type Reply,
  uniqueName,
} from '../support/http.ts';
import { useTarget } from './target.ts';

let client: RegistryClient;

useTarget(async (t) => {
  client = t.client;
});

/** A name holding one config and one layer, and a manifest over them that is not pushed yet. */
async function prepared(prefix: string) {
  const name = uniqueName(prefix);
  const config = makeConfig();
  const layer = makeBlob(2048);
  await client.pushBlob(name, config);
  await client.pushBlob(name, layer);
  return { name, config, layer, manifest: imageManifest({ config, layers: [layer] }) };
}

/** Like pushBlob, but the 201 may name the canonical sha256 digest (the spec allows it). */
async function pushSha512Blob(name: string, blob: { bytes: Buffer; digest: string }): Promise<void> {
  const location = await client.startUpload(name);
  const res = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
    body: blob.bytes,
  });
  expectStatus(res, 201, `PUT sha512 blob ${blob.digest}`);
}

function putRaw(name: string, reference: string, body: string | Buffer, contentType: string): Promise<Reply> {
  return client.request('PUT', `/v2/${name}/manifests/${reference}`, {
    headers: { 'content-type': contentType },
    body,
  });
}

/** The error must say more than the table's generic text, so a person can act on it. */
function expectSpecificMessage(res: Reply, codes: string[] = ['MANIFEST_INVALID']): void {
  const entry = expectOciError(res, 400, codes);
  const said = `${entry?.message ?? ''} ${JSON.stringify(entry?.detail ?? '')}`;
  assert.notEqual(entry?.message, 'manifest invalid', `only the generic message: ${res.text()}`);
  assert.ok(said.trim().length > 10, `message too short: ${res.text()}`);
}

describe('manifest PUT', () => {
  test('PUT by tag answers 201 with Location and Docker-Content-Digest', async () => {
    const { name, manifest } = await prepared('man-put');
    const res = await client.pushManifest(name, 'v1', manifest);
    const location = res.headers.get('location');
    assert.ok(location, 'no Location on manifest 201');
    const fetched = await client.request('GET', location, { headers: { accept: ACCEPT_ALL_MANIFESTS } });
    expectStatus(fetched, 200, `GET the manifest Location ${location}`);
    expectBytes(fetched.body, manifest.bytes);
  });

  test('PUT by digest stores it untagged, served by digest', async () => {
    const { name, manifest } = await prepared('man-bydigest');
    await client.pushManifest(name, manifest.digest, manifest);
    const res = await client.getManifest(name, manifest.digest);
    expectStatus(res, 200);
    expectBytes(res.body, manifest.bytes);
    const tags = await client.tags(name);
    if (tags.status === 200) assert.deepEqual(tags.json<{ tags: string[] | null }>().tags ?? [], []);
  });

  test('PUT by a digest the body does not have is refused with 400', async () => {
    const { name, manifest } = await prepared('man-mismatch');
    const res = await client.putManifest(name, makeBlob(5).digest, manifest);
    expectOciError(res, 400, ['DIGEST_INVALID', 'MANIFEST_INVALID']);
  });

  test('a tag moves to the manifest pushed last', async () => {
    const first = await prepared('man-move');
    await client.pushManifest(first.name, 'latest', first.manifest);
    const config2 = makeConfig();
    await client.pushBlob(first.name, config2);
    const moved = imageManifest({ config: config2, layers: [first.layer] });
    await client.pushManifest(first.name, 'latest', moved);
    const res = await client.getManifest(first.name, 'latest');
    assert.equal(res.headers.get('docker-content-digest'), moved.digest);
    expectBytes(res.body, moved.bytes);
    // The first manifest stays reachable by digest.
    expectStatus(await client.getManifest(first.name, first.manifest.digest), 200);
  });

  test('a manifest whose blobs the name lacks is 404 MANIFEST_BLOB_UNKNOWN naming them', async () => {
    const { name, config } = await prepared('man-missing');
    const missing = makeBlob(100);
    const manifest = imageManifest({ config, layers: [missing] });
    const res = await client.putManifest(name, 'v1', manifest);
    const entry = expectOciError(res, 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(
      res.text().includes(missing.digest),
      `the error does not name the missing ${missing.digest}: ${JSON.stringify(entry)}`,
    );
  });

  test('a manifest may not use a blob that only another name holds', async () => {
    const { manifest } = await prepared('man-elsewhere');
    const res = await client.putManifest(uniqueName('man-thief'), 'v1', manifest);
    expectOciError(res, 404, ['MANIFEST_BLOB_UNKNOWN', 'NAME_UNKNOWN']);
  });
});

describe('manifest PUT validation', () => {
  const bodies: [string, string, string][] = [
    ['null', 'null', MEDIA.ociManifest],
    ['[]', '[]', MEDIA.ociManifest],
    [
      'schemaVersion 3',
      '{"schemaVersion":3,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
      MEDIA.ociManifest,
    ],
    ['not JSON', '{"schemaVersion": 2, ', MEDIA.ociManifest],
    [
      'schemaVersion 1',
      '{"schemaVersion":1,"name":"a/b","tag":"v1","fsLayers":[],"history":[]}',
      MEDIA.dockerManifest,
    ],
    [
      'schema1 signed content type',
      '{"schemaVersion":1,"name":"a/b","tag":"v1","fsLayers":[],"history":[],"signatures":[]}',
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    ],
    ['an empty body', '', MEDIA.ociManifest],
  ];
  for (const [what, body, type] of bodies) {
    test(`${what} is 400 MANIFEST_INVALID with a reason`, async () => {
      const name = uniqueName('man-invalid');
      await client.pushBlob(name, makeBlob(10));
      expectSpecificMessage(await putRaw(name, 'v1', body, type));
    });
  }

  test('an image manifest without layers is 400 MANIFEST_INVALID', async () => {
    const { name, manifest } = await prepared('man-nolayers');
    const doc = structuredClone(manifest.doc);
    delete doc['layers'];
    expectSpecificMessage(await putRaw(name, 'v1', JSON.stringify(doc), MEDIA.ociManifest));
  });

  // The spec fixes no code for a bad digest inside a manifest body: either names the fault.
  test('an uppercase config digest is 400 MANIFEST_INVALID or DIGEST_INVALID (not 500)', async () => {
    const { name, manifest } = await prepared('man-upper');
    const doc = structuredClone(manifest.doc) as { config: { digest: string } };
    doc.config.digest = doc.config.digest.toUpperCase().replace('SHA256', 'sha256');
    const res = await putRaw(name, 'v1', JSON.stringify(doc), MEDIA.ociManifest);
    expectSpecificMessage(res, ['MANIFEST_INVALID', 'DIGEST_INVALID']);
  });

  test('a malformed layer digest is 400 MANIFEST_INVALID or DIGEST_INVALID', async () => {
    const { name, manifest } = await prepared('man-baddigest');
    const doc = structuredClone(manifest.doc) as { layers: { digest: string }[] };
    doc.layers[0]!.digest = 'sha256:nothex';
    const res = await putRaw(name, 'v1', JSON.stringify(doc), MEDIA.ociManifest);
    expectSpecificMessage(res, ['MANIFEST_INVALID', 'DIGEST_INVALID']);
  });

  test('Content-Type and mediaType that disagree are 400 MANIFEST_INVALID', async () => {
    const { name, manifest } = await prepared('man-disagree');
    const res = await putRaw(name, 'v1', manifest.bytes, MEDIA.dockerManifest);
    expectOciError(res, 400, 'MANIFEST_INVALID');
  });

  test('a manifest over 4 MiB is 413 SIZE_INVALID', async () => {
    const { name, config, layer } = await prepared('man-huge');
    const manifest = imageManifest({
      config,
      layers: [layer],
      annotations: { padding: 'x'.repeat(4 * 1024 * 1024 + 10) },
    });
    const res = await client.putManifest(name, 'v1', manifest);
    expectOciError(res, 413, 'SIZE_INVALID');
  });

  test('a tag reference that is neither tag nor digest (a:b, 129 chars) is 400', async () => {
    const { name, manifest } = await prepared('man-badtag');
    for (const ref of ['a:b', 'x'.repeat(129), '-leading-dash']) {
      const res = await client.putManifest(name, ref, manifest);
      expectOciError(res, 400, ['MANIFEST_INVALID', 'NAME_INVALID', 'DIGEST_INVALID', 'TAG_INVALID'], ref);
    }
    // 128 characters is still a tag.
    await client.pushManifest(name, 'x'.repeat(128), manifest);
  });
});

describe('manifest GET edge cases', () => {
  test('a blob digest asked for through /manifests/ is 404 MANIFEST_UNKNOWN', async () => {
    const { name, layer } = await prepared('man-blobasmanifest');
    expectOciError(await client.getManifest(name, layer.digest), 404, 'MANIFEST_UNKNOWN');
  });

  test('an uppercase digest reference is 400 DIGEST_INVALID', async () => {
    const { name, manifest } = await prepared('man-upperref');
    await client.pushManifest(name, 'v1', manifest);
    const upper = `sha256:${manifest.digest.slice(7).toUpperCase()}`;
    expectOciError(await client.getManifest(name, upper), 400, 'DIGEST_INVALID');
  });
});

describe('manifest DELETE', () => {
  test('DELETE by digest answers 202; the manifest and its tag are gone', async () => {
    const { name, manifest } = await prepared('man-del');
    await client.pushManifest(name, 'v1', manifest);
    const res = await client.request('DELETE', `/v2/${name}/manifests/${manifest.digest}`);
    expectStatus(res, 202, 'DELETE by digest');
    expectOciError(await client.getManifest(name, manifest.digest), 404, 'MANIFEST_UNKNOWN');
    expectOciError(await client.getManifest(name, 'v1'), 404, 'MANIFEST_UNKNOWN');
  });

  test('DELETE by tag answers 202 and removes only the tag', async () => {
    const { name, manifest } = await prepared('man-deltag');
    await client.pushManifest(name, 'v1', manifest);
    await client.pushManifest(name, 'v2', manifest);
    const res = await client.request('DELETE', `/v2/${name}/manifests/v1`);
    expectStatus(res, 202, 'DELETE by tag');
    expectOciError(await client.getManifest(name, 'v1'), 404, 'MANIFEST_UNKNOWN');
    const byDigest = await client.getManifest(name, manifest.digest);
    expectStatus(byDigest, 200, 'the manifest outlives its tag');
    const v2 = await client.getManifest(name, 'v2');
    assert.equal(v2.headers.get('docker-content-digest'), manifest.digest);
  });

  test('DELETE of an unknown manifest is 404 MANIFEST_UNKNOWN', async () => {
    const { name, manifest } = await prepared('man-delunknown');
    await client.pushManifest(name, 'v1', manifest);
    const res = await client.request('DELETE', `/v2/${name}/manifests/${makeBlob(3).digest}`);
    expectOciError(res, 404, 'MANIFEST_UNKNOWN');
  });
});

describe('indexes and other digests', () => {
  test('a Docker manifest list over pushed Docker manifests', async () => {
    const name = uniqueName('man-list');
    const amd = await client.pushImage(name, 'amd64', { mediaType: MEDIA.dockerManifest });
    const arm = await client.pushImage(name, 'arm64', { mediaType: MEDIA.dockerManifest });
    const list = indexManifest({
      mediaType: MEDIA.dockerManifestList,
      manifests: [
        descriptorOf(amd.manifest, { platform: { architecture: 'amd64', os: 'linux' } }),
        descriptorOf(arm.manifest, { platform: { architecture: 'arm64', os: 'linux' } }),
      ],
    });
    await client.pushManifest(name, 'multi', list);
    const res = await client.getManifest(name, 'multi');
    expectStatus(res, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.dockerManifestList);
    assert.equal(res.headers.get('docker-content-digest'), list.digest);
    expectBytes(res.body, list.bytes);
  });

  test('an OCI index needs its children first: 404 MANIFEST_BLOB_UNKNOWN, then 201', async () => {
    const { name, manifest: childManifest } = await prepared('man-index');
    const index = indexManifest({ manifests: [descriptorOf(childManifest)] });
    const early = await client.putManifest(name, 'idx', index);
    expectOciError(early, 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(early.text().includes(childManifest.digest), `missing child not named: ${early.text()}`);
    await client.pushManifest(name, childManifest.digest, childManifest);
    await client.pushManifest(name, 'idx', index);
    const res = await client.getManifest(name, 'idx');
    assert.equal(res.headers.get('content-type'), MEDIA.ociIndex);
    expectBytes(res.body, index.bytes);
  });

  test('a manifest PUT by its sha512 digest is served under that digest', async () => {
    const { name, manifest } = await prepared('man-sha512');
    const sha512 = digestOf(manifest.bytes, 'sha512');
    const put = await client.putManifest(name, sha512, manifest);
    expectStatus(put, 201, 'PUT by sha512 digest');
    const res = await client.getManifest(name, sha512);
    expectStatus(res, 200, 'GET by sha512 digest');
    expectBytes(res.body, manifest.bytes);
    // A client that pulls by digest checks this header against the digest it asked for.
    assert.equal(res.headers.get('docker-content-digest'), sha512);
  });

  test('a manifest whose blobs are sha512 digests', async () => {
    const name = uniqueName('man-sha512-blobs');
    const config = makeConfig();
    const config512 = { ...config, digest: digestOf(config.bytes, 'sha512') };
    const layer = makeBlob(3000, { algorithm: 'sha512' });
    await pushSha512Blob(name, config512);
    await pushSha512Blob(name, layer);
    const manifest = imageManifest({ config: config512, layers: [layer] });
    await client.pushManifest(name, 'v1', manifest);
    const res = await client.getManifest(name, 'v1');
    expectBytes(res.body, manifest.bytes);
  });

  test('an artifact manifest with the empty config descriptor', async () => {
    const name = uniqueName('man-artifact');
    const empty = {
      bytes: Buffer.from('{}'),
      digest: digestOf(Buffer.from('{}')),
      mediaType: MEDIA.ociEmpty,
    };
    const layer = makeBlob(100, { mediaType: 'application/vnd.example.thing' });
    await client.pushBlob(name, empty);
    await client.pushBlob(name, layer);
    const manifest = imageManifest({
      config: empty,
      layers: [layer],
      artifactType: 'application/vnd.example',
    });
    await client.pushManifest(name, 'art', manifest);
    const res = await client.getManifest(name, 'art');
    expectBytes(res.body, manifest.bytes);
  });

  test('a manifest without mediaType in the body is accepted under its Content-Type', async () => {
    const { name, config, layer } = await prepared('man-nomediatype');
    const manifest = manifestFrom(
      { schemaVersion: 2, config: descriptorOf(config), layers: [descriptorOf(layer)] },
      MEDIA.ociManifest,
    );
    await client.pushManifest(name, 'v1', manifest);
    const res = await client.getManifest(name, 'v1');
    assert.equal(res.headers.get('content-type'), MEDIA.ociManifest);
    expectBytes(res.body, manifest.bytes);
  });
});
