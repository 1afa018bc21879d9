import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  digestOf,
  expectBytes,
  expectOciError,
  expectStatus,
  expectTableStatus,
  makeBlob,
  type OciErrorEntry,
  parseResponses,
  type RegistryClient,
  type Reply,
  socketExchange,
  uniqueName,
} from '../support/http.ts';
import { type Target, useTarget } from './target.ts';

let target: Target;
let client: RegistryClient;

useTarget(async (t) => {
  target = t;
  client = t.client;
});

function patch(location: string, body: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return client.request('PATCH', client.uploadUrl(location), {
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body,
  });
}

async function expectNoBlob(name: string, digest: string): Promise<void> {
  const res = await client.request('HEAD', `/v2/${name}/blobs/${digest}`);
  expectStatus(res, 404, `HEAD of ${digest} which must not have been stored`);
}

describe('upload session protocol', () => {
  test('POST answers 202 with Location, Docker-Upload-UUID and an empty Range', async () => {
    const res = await client.request('POST', `/v2/${uniqueName('up-post')}/blobs/uploads/`);
    expectStatus(res, 202);
    assert.ok(res.headers.get('location'), 'no Location');
    assert.ok(res.headers.get('docker-upload-uuid'), 'no Docker-Upload-UUID');
    const range = res.headers.get('range');
    assert.ok(range === null || range === '0-0', `Range on a new upload is "${range}"`);
  });

  test('PATCHes in order answer 202 with Range 0-(n-1) and the status GET agrees', async () => {
    const blob = makeBlob(20_000);
    let location = await client.startUpload(uniqueName('up-order'));
    let res = await patch(location, blob.bytes.subarray(0, 8000), { 'content-range': '0-7999' });
    expectStatus(res, 202);
    assert.equal(res.headers.get('range'), '0-7999');
    location = res.headers.get('location') ?? location;
    res = await patch(location, blob.bytes.subarray(8000, 12_000), { 'content-range': '8000-11999' });
    expectStatus(res, 202);
    assert.equal(res.headers.get('range'), '0-11999');
    location = res.headers.get('location') ?? location;
    const status = await client.request('GET', client.uploadUrl(location));
    expectStatus(status, 204, 'upload status');
    assert.equal(status.headers.get('range'), '0-11999');
    assert.ok(status.headers.get('location'), 'no Location on upload status');
  });

  test('an out-of-order PATCH is 416 with the current Range; the upload then continues', async () => {
    const name = uniqueName('up-gap');
    const blob = makeBlob(3000);
    let location = await client.startUpload(name);
    let res = await patch(location, blob.bytes.subarray(0, 1000), { 'content-range': '0-999' });
    expectStatus(res, 202);
    location = res.headers.get('location') ?? location;
    const gap = await patch(location, blob.bytes.subarray(2000), { 'content-range': '2000-2999' });
    expectOciError(gap, 416, 'BLOB_UPLOAD_INVALID', 'PATCH 2000-2999 after 0-999');
    assert.equal(gap.headers.get('range'), '0-999');
    const overlap = await patch(location, blob.bytes.subarray(500, 1500), { 'content-range': '500-1499' });
    expectOciError(overlap, 416, 'BLOB_UPLOAD_INVALID', 'PATCH 500-1499 after 0-999');
    assert.equal(overlap.headers.get('range'), '0-999');
    res = await patch(location, blob.bytes.subarray(1000), { 'content-range': '1000-2999' });
    expectStatus(res, 202, 'the right chunk after two refused ones');
    location = res.headers.get('location') ?? location;
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }));
    expectStatus(put, 201);
    const get = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
    expectBytes(get.body, blob.bytes);
  });

  test('a malformed Content-Range on PATCH is 416', async () => {
    const location = await client.startUpload(uniqueName('up-badrange'));
    const res = await patch(location, Buffer.from('abc'), { 'content-range': 'banana' });
    expectOciError(res, 416, 'BLOB_UPLOAD_INVALID');
  });

  test('a PATCH with Content-Type text/plain is accepted', async () => {
    const name = uniqueName('up-text');
    const blob = makeBlob(500);
    const location = await client.startUpload(name);
    const res = await patch(location, blob.bytes, { 'content-type': 'text/plain' });
    expectStatus(res, 202, 'PATCH with Content-Type text/plain');
    assert.equal(res.headers.get('range'), '0-499');
    const put = await client.request(
      'PUT',
      client.uploadUrl(res.headers.get('location') ?? location, { digest: blob.digest }),
    );
    expectStatus(put, 201);
  });

  test('DELETE of an upload answers 204, then the session is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await client.startUpload(uniqueName('up-cancel'));
    const res = await client.request('DELETE', client.uploadUrl(location));
    expectStatus(res, 204, 'DELETE upload');
    expectOciError(await client.request('GET', client.uploadUrl(location)), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectOciError(await patch(location, Buffer.from('x')), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('completing an upload', () => {
  test('PUT with a digest the bytes do not have is 400 DIGEST_INVALID and stores nothing', async () => {
    const name = uniqueName('up-wrong');
    const blob = makeBlob(1000);
    const claimed = makeBlob(1000).digest;
    const location = await client.startUpload(name);
    const res = await client.request('PUT', client.uploadUrl(location, { digest: claimed }), {
      body: blob.bytes,
    });
    expectOciError(res, 400, 'DIGEST_INVALID');
    await expectNoBlob(name, claimed);
    await expectNoBlob(name, blob.digest);
  });

  test('PUT with no digest parameter is refused with 400', async () => {
    const location = await client.startUpload(uniqueName('up-nodigest'));
    const res = await client.request('PUT', client.uploadUrl(location), { body: Buffer.from('abc') });
    expectOciError(res, 400, ['DIGEST_INVALID', 'BLOB_UPLOAD_INVALID']);
  });

  test('PUT whose Content-Length promises more than the body stores nothing', async () => {
    const name = uniqueName('up-short');
    const sent = makeBlob(1000).bytes;
    // The digest of what actually arrives: a server that hashed only the received bytes and
    // ignored the missing ones would store this blob.
    const digest = digestOf(sent);
    const location = await client.startUpload(name);
    const url = new URL(client.uploadUrl(location, { digest }));
    const head =
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      'Content-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n';
    const exchange = await socketExchange(target.url, Buffer.concat([Buffer.from(head), sent]), {
      halfClose: true,
      timeoutMs: 5000,
    });
    const responses = parseResponses(exchange.data);
    for (const r of responses) {
      const body = r.body.toString();
      assert.equal(
        r.status,
        400,
        `a truncated PUT was answered ${r.status} ${body}; expected 400 or a close`,
      );
      const errors = (JSON.parse(body) as { errors: OciErrorEntry[] }).errors;
      expectTableStatus(r.status, errors, 'truncated PUT');
      assert.ok(
        errors.some((e) => e.code === 'SIZE_INVALID' || e.code === 'BLOB_UPLOAD_INVALID'),
        `a truncated PUT was answered ${body}; expected SIZE_INVALID or BLOB_UPLOAD_INVALID`,
      );
    }
    await expectNoBlob(name, digest);
  });

  test('PUT to an unknown upload session is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const name = uniqueName('up-unknown');
    const blob = makeBlob(10);
    await client.startUpload(name);
    const bogus = `/v2/${name}/blobs/uploads/00000000-dead-beef-0000-000000000000`;
    const res = await client.request('PUT', client.uploadUrl(bogus, { digest: blob.digest }), {
      body: blob.bytes,
    });
    expectOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  test('a completed upload session is gone (404 BLOB_UPLOAD_UNKNOWN)', async () => {
    const name = uniqueName('up-done');
    const blob = makeBlob(100);
    const location = await client.startUpload(name);
    const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }), {
      body: blob.bytes,
    });
    expectStatus(put, 201);
    expectOciError(await client.request('GET', client.uploadUrl(location)), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});
