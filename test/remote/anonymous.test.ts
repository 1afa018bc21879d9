/** The client against a real registry (CNCF distribution) without authentication. */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { UpstreamClient } from '../../src/repos/remote/upstream-client.ts';
import { expectBytes, MEDIA, type PushedImage, RegistryClient } from '../support/http.ts';
import { type RunningReferenceRegistry, startReferenceRegistry } from '../support/reference-registry.ts';
import { LOOPBACK_ALLOWED } from './fake-server.ts';

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('upstream client, anonymous upstream', () => {
  let registry: RunningReferenceRegistry;
  let upstream: UpstreamClient;
  let oci: PushedImage;
  let docker: PushedImage;
  const TAGS = Array.from({ length: 105 }, (_, i) => `v${i}`);

  before(async () => {
    registry = await startReferenceRegistry({ logLevel: 'error' });
    const client = new RegistryClient(registry.url);
    oci = await client.pushImage('team/app', '1.0', { layerSizes: [300_000, 10] });
    docker = await client.pushImage('team/legacy', 'latest', { mediaType: MEDIA.dockerManifest });
    for (const tag of TAGS) await client.pushManifest('team/app', tag, oci.manifest);
    await client.pushImage('library/alpine', '3.20');
    upstream = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: registry.url });
  });
  after(() => registry?.stop());

  test('getManifest by tag: digest, media type and exact bytes', async () => {
    const m = await upstream.getManifest('team/app', '1.0');
    assert.ok(m);
    assert.equal(m.digest, oci.manifest.digest);
    assert.equal(m.mediaType, MEDIA.ociManifest);
    expectBytes(m.bytes, oci.manifest.bytes, 'manifest');
  });

  test('getManifest by digest, and Docker schema 2 keeps its media type', async () => {
    const m = await upstream.getManifest('team/app', oci.manifest.digest);
    assert.equal(m?.digest, oci.manifest.digest);
    const d = await upstream.getManifest('team/legacy', docker.manifest.digest);
    assert.equal(d?.mediaType, MEDIA.dockerManifest);
    expectBytes(d?.bytes ?? Buffer.alloc(0), docker.manifest.bytes, 'docker manifest');
  });

  test('headManifest by tag and by digest', async () => {
    const expected = {
      digest: oci.manifest.digest,
      mediaType: MEDIA.ociManifest,
      size: oci.manifest.bytes.length,
    };
    assert.deepEqual(await upstream.headManifest('team/app', 'v7'), expected);
    assert.deepEqual(await upstream.headManifest('team/app', oci.manifest.digest), expected);
  });

  test('unknown tags, digests, names answer undefined', async () => {
    const missing = `sha256:${'0'.repeat(64)}` as Digest;
    assert.equal(await upstream.getManifest('team/app', 'nope'), undefined);
    assert.equal(await upstream.getManifest('team/app', missing), undefined);
    assert.equal(await upstream.getManifest('no/such', 'latest'), undefined);
    assert.equal(await upstream.headManifest('team/app', 'nope'), undefined);
    assert.equal(await upstream.openBlob('team/app', missing), undefined);
    assert.equal(await upstream.listTags('no/such'), undefined);
  });

  test('openBlob streams the exact bytes with their size', async () => {
    for (const layer of oci.layers) {
      const blob = await upstream.openBlob('team/app', layer.digest as Digest);
      assert.ok(blob);
      assert.equal(blob.size, layer.bytes.length);
      expectBytes(await readAll(blob.body), layer.bytes, 'blob');
    }
  });

  test('listTags returns every tag', async () => {
    const tags = await upstream.listTags('team/app');
    assert.deepEqual(new Set(tags), new Set(['1.0', ...TAGS]));
    assert.equal(tags?.length, TAGS.length + 1);
  });

  test('pathPrefix is prepended to one-component names only, as Docker Hub does with library/', async () => {
    const hub = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: registry.url,
      pathPrefix: 'library/',
    });
    assert.ok(await hub.getManifest('alpine', '3.20'));
    assert.deepEqual(await hub.listTags('alpine'), ['3.20']);
    assert.ok(await hub.getManifest('team/app', '1.0'), 'team/app is not library/team/app');
  });

  test('an aborted signal rejects with its reason, not an UpstreamError', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await assert.rejects(upstream.getManifest('team/app', '1.0', controller.signal), /client went away/);
  });
});
