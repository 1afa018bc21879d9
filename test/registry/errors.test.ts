/**
 * One test per error code a client can provoke, then the malformed inputs the reference
 * registry answers with 500, a redirect or a desynchronised connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  digestOf,
  expectOciError,
  expectStatus,
  expectTableStatus,
  imageManifest,
  makeBlob,
  makeConfig,
  type OciErrorEntry,
  parseResponses,
  type RegistryClient,
  rawRequest,
  socketExchange,
  type TestBlob,
  uniqueName,
} from '../support/http.ts';
import { needsOwnProcess, startTarget, type Target, useTarget } from './target.ts';

let target: Target;
let client: RegistryClient;
/** A name holding one layer and a manifest tagged v1. */
let name: string;
let layer: TestBlob;

useTarget(async (t) => {
  target = t;
  client = t.client;
  const image = await client.pushImage(uniqueName('errors'), 'v1');
  name = image.name;
  layer = image.layers[0]!;
});

const upper = (digest: string) => `sha256:${digest.slice(7).toUpperCase()}`;

describe('each error code', () => {
  test('BLOB_UNKNOWN: GET of a blob the name does not hold', async () => {
    expectOciError(
      await client.request('GET', `/v2/${name}/blobs/${makeBlob(1).digest}`),
      404,
      'BLOB_UNKNOWN',
    );
  });

  test('BLOB_UNKNOWN: a blob another name holds is not served through this one', async () => {
    const other = uniqueName('errors-other');
    await client.pushBlob(other, makeBlob(1));
    expectOciError(await client.request('GET', `/v2/${other}/blobs/${layer.digest}`), 404, 'BLOB_UNKNOWN');
  });

  test('BLOB_UPLOAD_INVALID or SIZE_INVALID: a PATCH whose Content-Range and Content-Length disagree', async () => {
    const location = await client.startUpload(uniqueName('errors-upinv'));
    const res = await client.request('PATCH', client.uploadUrl(location), {
      headers: { 'content-range': '0-99', 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(50),
    });
    expectOciError(res, 400, ['BLOB_UPLOAD_INVALID', 'SIZE_INVALID']);
  });

  test('BLOB_UPLOAD_UNKNOWN: status of an upload that never existed', async () => {
    const res = await client.request('GET', `/v2/${name}/blobs/uploads/no-such-upload`);
    expectOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  test('BLOB_UPLOAD_UNKNOWN: an upload continued under another name', async () => {
    const location = await client.startUpload(uniqueName('errors-up-a'));
    const id = new URL(location, target.url).pathname.split('/').pop();
    const res = await client.request('PATCH', `/v2/${uniqueName('errors-up-b')}/blobs/uploads/${id}`, {
      body: Buffer.from('abc'),
    });
    expectOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  test('DIGEST_INVALID: upload closed with the wrong digest', async () => {
    const location = await client.startUpload(name);
    const res = await client.request('PUT', client.uploadUrl(location, { digest: makeBlob(1).digest }), {
      body: Buffer.from('not those bytes'),
    });
    expectOciError(res, 400, 'DIGEST_INVALID');
  });

  test('MANIFEST_BLOB_UNKNOWN: a manifest over a missing layer', async () => {
    const config = makeConfig();
    await client.pushBlob(name, config);
    const res = await client.putManifest(name, 'broken', imageManifest({ config, layers: [makeBlob(9)] }));
    expectOciError(res, 404, 'MANIFEST_BLOB_UNKNOWN');
  });

  test('MANIFEST_INVALID: a manifest body of null', async () => {
    const res = await client.request('PUT', `/v2/${name}/manifests/null`, {
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: 'null',
    });
    expectOciError(res, 400, 'MANIFEST_INVALID');
  });

  test('MANIFEST_UNKNOWN: an unknown tag and an unknown digest', async () => {
    expectOciError(await client.getManifest(name, 'nope'), 404, 'MANIFEST_UNKNOWN');
    expectOciError(await client.getManifest(name, makeBlob(1).digest), 404, 'MANIFEST_UNKNOWN');
  });

  test('NAME_INVALID: an uppercase name', async () => {
    expectOciError(await client.request('GET', '/v2/docker-dev-local/MyApp/tags/list'), 400, 'NAME_INVALID');
  });

  test('NAME_UNKNOWN: tags of a name nothing was pushed to', async () => {
    expectOciError(await client.tags(uniqueName('never-pushed')), 404, 'NAME_UNKNOWN');
  });

  test('SIZE_INVALID (413): a manifest over 4 MiB', async () => {
    const config = makeConfig();
    await client.pushBlob(name, config);
    const big = imageManifest({ config, layers: [layer], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    expectOciError(await client.putManifest(name, 'big', big), 413, 'SIZE_INVALID');
  });

  test('UNSUPPORTED: PATCH on a manifest is 405 with Allow', async () => {
    const res = await client.request('PATCH', `/v2/${name}/manifests/v1`, { body: '{}' });
    expectOciError(res, 405, 'UNSUPPORTED');
    assert.ok(res.headers.get('allow'), 'a 405 must carry Allow (RFC 9110 §15.5.6)');
  });

  test('UNSUPPORTED: DELETE /v2/ is 405, not 200', async () => {
    expectOciError(await client.request('DELETE', '/v2/'), 405, 'UNSUPPORTED');
  });

  test('SIZE_INVALID (416): a blob range past the end', async () => {
    const res = await client.request('GET', `/v2/${name}/blobs/${layer.digest}`, {
      headers: { range: `bytes=${layer.bytes.length + 5}-` },
    });
    expectOciError(res, 416, 'SIZE_INVALID');
  });
});

describe('NAME_UNKNOWN without a default repository', { skip: needsOwnProcess }, () => {
  let strict: Target;
  before(async () => {
    strict = await startTarget({ env: { GANTRY_DEFAULT_REPOSITORY: '' } });
  });
  after(() => strict?.stop());

  test('pushing to nosuchrepo/app is 404 NAME_UNKNOWN naming the existing repositories', async () => {
    const res = await strict.client.request('POST', '/v2/nosuchrepo/app/blobs/uploads/');
    const entry = expectOciError(res, 404, 'NAME_UNKNOWN');
    for (const key of ['docker-dev-local', 'docker-staging-local', 'docker-prod-local']) {
      assert.ok(entry?.message.includes(key), `message does not name ${key}: ${entry?.message}`);
    }
  });

  test('a manifest GET and a tags list under an unknown repository are 404 NAME_UNKNOWN', async () => {
    expectOciError(await strict.client.getManifest('nosuchrepo/app', 'v1'), 404, 'NAME_UNKNOWN');
    expectOciError(await strict.client.tags('nosuchrepo/app'), 404, 'NAME_UNKNOWN');
  });
});

describe('invalid names: 400 NAME_INVALID, never a redirect or a 500', () => {
  const long = `docker-dev-local/${'a'.repeat(256 - 'docker-dev-local/'.length)}`;
  const cases: [string, string][] = [
    ['uppercase', '/v2/docker-dev-local/Team/app/tags/list'],
    ['a .. segment', '/v2/docker-dev-local/../docker-prod-local/app/tags/list'],
    ['a . segment', '/v2/docker-dev-local/./app/tags/list'],
    ['an empty segment', '/v2/docker-dev-local/a//b/tags/list'],
    ['an encoded slash', '/v2/docker-dev-local/a%2Fb/tags/list'],
    ['an encoded slash in an upload', '/v2/docker-dev-local/a%2Fb/blobs/uploads/'],
    ['256 characters', `/v2/${long}/tags/list`],
    ['a repository key without an image', '/v2/docker-dev-local/tags/list'],
    ['a trailing separator', '/v2/docker-dev-local/app-/tags/list'],
    ['a leading slash segment', '/v2//docker-dev-local/app/tags/list'],
  ];
  for (const [what, path] of cases) {
    test(what, async () => {
      const method = path.endsWith('/uploads/') ? 'POST' : 'GET';
      const res = await rawRequest(target.url, { method, path });
      expectOciError(res, 400, 'NAME_INVALID', `${method} ${path}`);
    });
  }

  test('an invalid name on manifest PUT is 400 NAME_INVALID', async () => {
    const res = await rawRequest(target.url, {
      method: 'PUT',
      path: '/v2/docker-dev-local/UPPER/manifests/v1',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      chunks: [Buffer.from('{}')],
    });
    expectOciError(res, 400, 'NAME_INVALID');
  });

  test('a name of exactly 255 characters is accepted', async () => {
    const name255 = `docker-dev-local/${'b'.repeat(255 - 'docker-dev-local/'.length)}`;
    assert.equal(name255.length, 255);
    await client.pushBlob(name255, makeBlob(10));
  });
});

describe('invalid digests: 400 DIGEST_INVALID', () => {
  test('an uppercase digest on blob GET, HEAD and DELETE', async () => {
    const path = `/v2/${name}/blobs/${upper(layer.digest)}`;
    expectOciError(await client.request('GET', path), 400, 'DIGEST_INVALID');
    expectStatus(await client.request('HEAD', path), 400, 'HEAD with an uppercase digest');
    expectOciError(await client.request('DELETE', path), 400, 'DIGEST_INVALID');
  });

  test('a digest with too few hex digits, an unknown algorithm, no algorithm', async () => {
    for (const digest of ['sha256:abc', 'md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256:', 'sha256-xyz']) {
      const res = await client.request('GET', `/v2/${name}/blobs/${digest}`);
      expectOciError(res, 400, 'DIGEST_INVALID', digest);
    }
  });

  test('an uppercase digest to close an upload', async () => {
    const blob = makeBlob(100);
    const location = await client.startUpload(name);
    const res = await client.request('PUT', client.uploadUrl(location, { digest: upper(blob.digest) }), {
      body: blob.bytes,
    });
    expectOciError(res, 400, 'DIGEST_INVALID');
  });

  test('a monolithic POST with a malformed digest', async () => {
    const res = await client.request('POST', `/v2/${name}/blobs/uploads/?digest=sha256:zz`, {
      body: Buffer.from('x'),
    });
    expectOciError(res, 400, 'DIGEST_INVALID');
  });

  test('a manifest GET by an uppercase digest', async () => {
    expectOciError(await client.getManifest(name, upper(digestOf(Buffer.from('x')))), 400, 'DIGEST_INVALID');
  });
});

describe('every error is JSON, never HTML', () => {
  test('an unknown path under /v2/ answers 404 with an errors body', async () => {
    const res = await client.request('GET', `/v2/${name}/nonsense`);
    expectStatus(res, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(Array.isArray(res.json<{ errors: unknown }>().errors), res.text());
  });

  test('an unparsable n on tags/list is a 400 with an errors body, not a 500', async () => {
    const res = await client.tags(name, '?n=abc');
    assert.equal(res.status, 400, res.text());
    assert.ok(Array.isArray(res.json<{ errors: unknown }>().errors), res.text());
  });
});

describe('HTTP framing', () => {
  test('a request with both Transfer-Encoding and Content-Length gets one answer and a closed connection', async () => {
    const host = new URL(target.url).host;
    const smuggled = `GET /v2/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    const request =
      `POST /v2/${name}/blobs/uploads/ HTTP/1.1\r\nHost: ${host}\r\n` +
      `Content-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`;
    const exchange = await socketExchange(target.url, request, { timeoutMs: 3000 });
    const responses = parseResponses(exchange.data);
    assert.ok(
      exchange.closedByServer,
      `connection left open after ${responses.map((r) => r.status).join(', ') || 'no answer'}`,
    );
    assert.ok(
      responses.length <= 1,
      `the smuggled request was answered: ${responses.map((r) => r.status).join(', ')}`,
    );
    const answer = responses[0];
    if (answer) {
      assert.equal(answer.status, 400);
      if (answer.headers.get('content-type')?.startsWith('application/json')) {
        const errors = (JSON.parse(answer.body.toString()) as { errors: OciErrorEntry[] }).errors;
        expectTableStatus(answer.status, errors, 'answer to TE + CL');
      }
    }
  });

  test('GET /v2/ answers with Docker-Distribution-API-Version (200, or 401 to an anonymous caller when auth is on)', async () => {
    const res = await client.request('GET', '/v2/');
    assert.ok(res.status === 200 || res.status === 401, `GET /v2/ answered ${res.status}`);
    if (res.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^(Bearer|Basic) realm=/);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });
});
