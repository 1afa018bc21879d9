import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowDirectWrites } from '../support/direct-writes.ts';
import {
  digestOf,
  expectBytes,
  expectOciError,
  expectStatus,
  imageManifest,
  makeBlob,
  makeConfig,
  type RegistryClient,
  rawRequest,
  type TestBlob,
  uniqueName,
} from '../support/http.ts';
import { type Target, useTarget } from './target.ts';

let target: Target;
let client: RegistryClient;

useTarget(async (t) => {
  target = t;
  client = t.client;
});

/**
 * The spec lets a registry answer with its canonical digest, which "MAY differ from the provided
 * digest": for a sha512 upload accept the sha512 digest or the content's sha256.
 */
function expectDigestHeader(headers: Headers, blob: TestBlob): void {
  const got = headers.get('docker-content-digest');
  if (blob.digest.startsWith('sha512:') && got === digestOf(blob.bytes)) return;
  assert.equal(got, blob.digest, 'Docker-Content-Digest');
}

/** GET the blob through `name` and check bytes and digest header. */
async function expectBlob(name: string, blob: TestBlob): Promise<void> {
  const res = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
  expectStatus(res, 200, `GET blob ${blob.digest} from ${name}`);
  assert.equal(digestOf(res.body, blob.digest.startsWith('sha512:') ? 'sha512' : 'sha256'), blob.digest);
  assert.equal(res.body.length, blob.bytes.length);
  expectDigestHeader(res.headers, blob);
}

/** Checks a 201 that completes an upload: Location of the blob and its digest. */
async function expectCreated(res: { status: number; headers: Headers; text(): string }, blob: TestBlob) {
  assert.equal(res.status, 201, `expected 201, got ${res.status} ${res.text()}`);
  expectDigestHeader(res.headers, blob);
  const location = res.headers.get('location');
  assert.ok(location, 'no Location on 201');
  const fetched = await client.request('GET', location);
  expectStatus(fetched, 200, `GET the 201's Location ${location}`);
  expectBytes(fetched.body, blob.bytes);
}

describe('the three upload styles clients use', () => {
  test('containers/image: POST, one PATCH without Content-Range, empty PUT ?digest=', async () => {
    const name = uniqueName('push-skopeo');
    const blob = makeBlob(300_000);
    const location = await client.startUpload(name);
    const patch = await client.request('PATCH', client.uploadUrl(location), {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    expectStatus(patch, 202, 'PATCH');
    assert.equal(patch.headers.get('range'), `0-${blob.bytes.length - 1}`);
    const next = patch.headers.get('location');
    assert.ok(next, 'PATCH answered without a Location');
    const put = await client.request('PUT', client.uploadUrl(next, { digest: blob.digest }));
    await expectCreated(put, blob);
    await expectBlob(name, blob);
  });

  test('dockerd: POST, one PATCH with Transfer-Encoding: chunked, empty PUT ?digest=', async () => {
    const name = uniqueName('push-docker');
    const blob = makeBlob(200_000);
    const location = await client.startUpload(name);
    const url = new URL(client.uploadUrl(location));
    const patch = await rawRequest(target.url, {
      method: 'PATCH',
      path: url.pathname + url.search,
      headers: { 'content-type': 'application/octet-stream' },
      chunks: [
        blob.bytes.subarray(0, 50_000),
        blob.bytes.subarray(50_000, 120_000),
        blob.bytes.subarray(120_000),
      ],
    });
    expectStatus(patch, 202, 'chunked PATCH');
    assert.equal(patch.headers.get('range'), `0-${blob.bytes.length - 1}`);
    const next = patch.headers.get('location') ?? location;
    const put = await client.request('PUT', client.uploadUrl(next, { digest: blob.digest }));
    await expectCreated(put, blob);
  });

  test('containerd: POST, then PUT ?digest= carrying the whole body', async () => {
    const name = uniqueName('push-containerd');
    const blob = makeBlob(250_000);
    const location = await client.startUpload(name);
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    await expectCreated(put, blob);
  });

  test('chunked with Content-Range, the last chunk carried by the PUT', async () => {
    const name = uniqueName('push-chunks');
    const blob = makeBlob(90_000);
    let location = await client.startUpload(name);
    for (const [start, end] of [
      [0, 30_000],
      [30_000, 60_000],
    ] as const) {
      const res = await client.request('PATCH', client.uploadUrl(location), {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}` },
        body: blob.bytes.subarray(start, end),
      });
      expectStatus(res, 202, `PATCH ${start}-${end - 1}`);
      assert.equal(res.headers.get('range'), `0-${end - 1}`);
      location = res.headers.get('location') ?? location;
    }
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '60000-89999' },
      body: blob.bytes.subarray(60_000),
    });
    await expectCreated(put, blob);
  });

  test('monolithic POST ?digest= with the body answers 201 with the blob Location', async () => {
    const name = uniqueName('push-mono');
    const blob = makeBlob(70_000);
    const res = await client.request('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    await expectCreated(res, blob);
  });

  test('pushing the same blob twice succeeds both times', async () => {
    const name = uniqueName('push-twice');
    const blob = makeBlob(1000);
    await client.pushBlob(name, blob);
    await client.pushBlob(name, blob);
    await expectBlob(name, blob);
  });

  test('the empty blob (0 bytes) can be pushed and pulled', async () => {
    const name = uniqueName('push-empty');
    const blob = { ...makeBlob(0), bytes: Buffer.alloc(0), digest: digestOf(Buffer.alloc(0)) };
    await client.pushBlob(name, blob);
    const res = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
    expectStatus(res, 200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers.get('content-length'), '0');
  });

  test('a sha512 blob is stored and served under its sha512 digest', async () => {
    const name = uniqueName('push-sha512');
    const blob = makeBlob(40_000, { algorithm: 'sha512' });
    assert.match(blob.digest, /^sha512:[0-9a-f]{128}$/);
    const location = await client.startUpload(name);
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
      body: blob.bytes,
    });
    await expectCreated(put, blob);
    await expectBlob(name, blob);
  });
});

describe('cross-repository mount', () => {
  test('mounting a blob the source holds answers 201 and the target serves it', async () => {
    const from = uniqueName('mount-src');
    const to = uniqueName('mount-dst');
    const blob = makeBlob(5000);
    await client.pushBlob(from, blob);
    const res = await client.request('POST', `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from}`);
    await expectCreated(res, blob);
    await expectBlob(to, blob);
  });

  test('mounting across repositories (dev → staging) works', async () => {
    // Staging is promotion-only by default; this is about the mount mechanics.
    if (target.gantry) await allowDirectWrites(target.url, 'docker-staging-local');
    const from = uniqueName('mount-src');
    const to = uniqueName('mount-dst', 'docker-staging-local');
    const blob = makeBlob(5000);
    await client.pushBlob(from, blob);
    const res = await client.request('POST', `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from}`);
    await expectCreated(res, blob);
    await expectBlob(to, blob);
  });

  test('mounting a blob the source does not hold opens a normal upload session (202)', async () => {
    const from = uniqueName('mount-empty');
    const to = uniqueName('mount-dst');
    const blob = makeBlob(5000);
    const res = await client.request('POST', `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from}`);
    expectStatus(res, 202, 'mount of a blob the source lacks');
    const location = res.headers.get('location');
    assert.ok(location, 'no Location on the fallback upload');
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
      body: blob.bytes,
    });
    await expectCreated(put, blob);
  });

  test('mounting a blob the registry holds elsewhere but not in `from` does not leak it', async () => {
    const holder = uniqueName('mount-holder');
    const from = uniqueName('mount-other');
    const to = uniqueName('mount-dst');
    const blob = makeBlob(5000);
    await client.pushBlob(holder, blob);
    await client.pushBlob(from, makeBlob(10));
    const res = await client.request('POST', `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from}`);
    expectStatus(res, 202, 'mount from a name that does not hold the blob');
    await client.request('DELETE', client.uploadUrl(res.headers.get('location') ?? ''));
  });
});

describe('blob DELETE', () => {
  test('DELETE answers 202, then the blob is 404 BLOB_UNKNOWN', async () => {
    const name = uniqueName('blob-delete');
    const blob = makeBlob(2000);
    await client.pushBlob(name, blob);
    const res = await client.request('DELETE', `/v2/${name}/blobs/${blob.digest}`);
    expectStatus(res, 202, 'blob DELETE');
    expectOciError(await client.request('GET', `/v2/${name}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
  });

  test('DELETE of an unknown blob is 404 BLOB_UNKNOWN', async () => {
    const name = uniqueName('blob-delete');
    await client.pushBlob(name, makeBlob(10));
    const res = await client.request('DELETE', `/v2/${name}/blobs/${makeBlob(10).digest}`);
    expectOciError(res, 404, 'BLOB_UNKNOWN');
  });
});

describe('concurrency', () => {
  test('the same blob uploaded 8 times at once, to one name and to several, is stored once and intact', async () => {
    const shared = uniqueName('race-one');
    const blob = makeBlob(400_000);
    const names = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? shared : uniqueName(`race-${i}`)));
    await Promise.all(names.map((n) => client.pushBlob(n, blob)));
    for (const n of new Set(names)) await expectBlob(n, blob);
  });

  test('concurrent PUTs of one tag leave it on one of the manifests, listed once', async () => {
    const name = uniqueName('race-tag');
    const layer = makeBlob(1000);
    await client.pushBlob(name, layer);
    const manifests = [];
    for (let i = 0; i < 6; i++) {
      const config = makeConfig();
      await client.pushBlob(name, config);
      manifests.push(imageManifest({ config, layers: [layer] }));
    }
    await Promise.all(manifests.map((m) => client.pushManifest(name, 'hot', m)));
    const res = await client.getManifest(name, 'hot');
    expectStatus(res, 200);
    const digest = res.headers.get('docker-content-digest');
    assert.ok(
      manifests.some((m) => m.digest === digest),
      `tag points at ${digest}, none of the pushed manifests`,
    );
    assert.equal(digestOf(res.body), digest);
    assert.deepEqual((await client.tags(name)).json<{ tags: string[] }>().tags, ['hot']);
  });

  test('a blob deleted from a name can be pushed to it again', async () => {
    const name = uniqueName('repush');
    const blob = makeBlob(3000);
    await client.pushBlob(name, blob);
    expectStatus(await client.request('DELETE', `/v2/${name}/blobs/${blob.digest}`), 202);
    await client.pushBlob(name, blob);
    await expectBlob(name, blob);
  });
});

describe('default repository', () => {
  test('a name whose first segment is not a repository lands in docker-dev-local', async () => {
    const bare = `team-${uniqueName('bare').split('/')[1]}/app`;
    const image = await client.pushImage(bare, 'v1');
    const direct = await client.getManifest(`docker-dev-local/${bare}`, 'v1');
    expectStatus(direct, 200, `GET docker-dev-local/${bare}:v1`);
    expectBytes(direct.body, image.manifest.bytes, 'manifest through the repository path');
    const viaBare = await client.getManifest(bare, 'v1');
    expectBytes(viaBare.body, image.manifest.bytes, 'manifest through the bare name');
  });
});
