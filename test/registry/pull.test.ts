import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCEPT_ALL_MANIFESTS,
  digestOf,
  expectBytes,
  expectOciError,
  expectStatus,
  MEDIA,
  makeBlob,
  type PushedImage,
  type RegistryClient,
  type Reply,
  uniqueName,
} from '../support/http.ts';
import { useTarget } from './target.ts';

let client: RegistryClient;
let image: PushedImage;
const SIZE = 100_000;

useTarget(async (t) => {
  client = t.client;
  image = await client.pushImage(uniqueName('pull'), 'v1', { layerSizes: [SIZE] });
});

const layer = () => image.layers[0]!;
const blobPath = () => `/v2/${image.name}/blobs/${layer().digest}`;

describe('blob GET and HEAD', () => {
  test('GET returns the exact bytes with digest, type and length headers', async () => {
    const res = await client.request('GET', blobPath());
    expectStatus(res, 200);
    assert.equal(digestOf(res.body), layer().digest);
    assert.equal(res.headers.get('docker-content-digest'), layer().digest);
    assert.equal(res.headers.get('content-length'), String(SIZE));
    assert.ok(res.headers.get('content-type'), 'no Content-Type on blob GET');
  });

  test('HEAD answers 200 with Content-Length and digest and no body', async () => {
    const res = await client.request('HEAD', blobPath());
    expectStatus(res, 200);
    assert.equal(res.headers.get('content-length'), String(SIZE));
    assert.equal(res.headers.get('docker-content-digest'), layer().digest);
    assert.ok(res.headers.get('content-type'), 'no Content-Type on blob HEAD');
    assert.equal(res.body.length, 0);
  });

  test('the config blob is served too', async () => {
    const res = await client.request('GET', `/v2/${image.name}/blobs/${image.config.digest}`);
    expectStatus(res, 200);
    expectBytes(res.body, image.config.bytes);
  });

  test('an unknown blob is 404 BLOB_UNKNOWN on GET and 404 on HEAD', async () => {
    const missing = makeBlob(10).digest;
    expectOciError(await client.request('GET', `/v2/${image.name}/blobs/${missing}`), 404, 'BLOB_UNKNOWN');
    const head = await client.request('HEAD', `/v2/${image.name}/blobs/${missing}`);
    expectStatus(head, 404);
    assert.equal(head.body.length, 0);
  });
});

describe('blob ranges', () => {
  test('Range: bytes=a-b answers 206 with Content-Range and exactly those bytes', async () => {
    const res = await client.request('GET', blobPath(), { headers: { range: 'bytes=1000-1999' } });
    expectStatus(res, 206);
    assert.equal(res.headers.get('content-range'), `bytes 1000-1999/${SIZE}`);
    assert.equal(res.headers.get('content-length'), '1000');
    expectBytes(res.body, layer().bytes.subarray(1000, 2000));
  });

  test('an open range bytes=a- runs to the end', async () => {
    const res = await client.request('GET', blobPath(), { headers: { range: `bytes=${SIZE - 10}-` } });
    expectStatus(res, 206);
    assert.equal(res.headers.get('content-range'), `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expectBytes(res.body, layer().bytes.subarray(SIZE - 10));
  });

  test('a range that starts past the end is 416 SIZE_INVALID', async () => {
    const res = await client.request('GET', blobPath(), {
      headers: { range: `bytes=${SIZE}-${SIZE + 10}` },
    });
    expectOciError(res, 416, 'SIZE_INVALID');
  });
});

describe('manifest GET and HEAD', () => {
  const checkManifestReply = (res: Reply) => {
    expectStatus(res, 200);
    expectBytes(res.body, image.manifest.bytes);
    assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
    assert.equal(res.headers.get('content-type'), MEDIA.ociManifest);
    assert.equal(res.headers.get('content-length'), String(image.manifest.bytes.length));
  };

  test('GET by tag returns the stored bytes and headers', async () => {
    checkManifestReply(await client.getManifest(image.name, image.tag));
  });

  test('GET by digest returns the stored bytes and headers', async () => {
    checkManifestReply(await client.getManifest(image.name, image.manifest.digest));
  });

  test('HEAD by tag gives digest, type and length and no body', async () => {
    const res = await client.request('HEAD', `/v2/${image.name}/manifests/${image.tag}`, {
      headers: { accept: ACCEPT_ALL_MANIFESTS },
    });
    expectStatus(res, 200);
    assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
    assert.equal(res.headers.get('content-type'), MEDIA.ociManifest);
    assert.equal(res.headers.get('content-length'), String(image.manifest.bytes.length));
    assert.equal(res.body.length, 0);
  });

  test('HEAD by digest answers 200 with the digest', async () => {
    const res = await client.request('HEAD', `/v2/${image.name}/manifests/${image.manifest.digest}`, {
      headers: { accept: ACCEPT_ALL_MANIFESTS },
    });
    expectStatus(res, 200);
    assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
  });

  test('an OCI manifest is served even when Accept lists only the Docker type', async () => {
    checkManifestReply(await client.getManifest(image.name, image.tag, MEDIA.dockerManifest));
  });

  test('an OCI manifest is served without any Accept header', async () => {
    const res = await client.request('GET', `/v2/${image.name}/manifests/${image.tag}`);
    checkManifestReply(res);
  });

  test('a Docker manifest is served with its own type when Accept lists only OCI', async () => {
    const docker = await client.pushImage(uniqueName('pull-docker'), 'v1', {
      mediaType: MEDIA.dockerManifest,
    });
    const res = await client.getManifest(docker.name, 'v1', MEDIA.ociManifest);
    expectStatus(res, 200);
    expectBytes(res.body, docker.manifest.bytes);
    assert.equal(res.headers.get('content-type'), MEDIA.dockerManifest);
    assert.equal(res.headers.get('docker-content-digest'), docker.manifest.digest);
  });

  test('an unknown tag is 404 MANIFEST_UNKNOWN, and HEAD of it 404', async () => {
    expectOciError(await client.getManifest(image.name, 'no-such-tag'), 404, 'MANIFEST_UNKNOWN');
    expectStatus(await client.request('HEAD', `/v2/${image.name}/manifests/no-such-tag`), 404);
  });
});
