/**
 * Protocol corners clients and the conformance suite rely on (issue #12, "OCI API"): references
 * that cannot exist, tags/list after deletes, bounded error bodies, the size limits, and a walk
 * over every error the registry API produces, checked against the spec's code table.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  expectOciError,
  expectStatus,
  imageManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  manifestFrom,
  type OciErrorEntry,
  parseResponses,
  RegistryClient,
  type Reply,
  rawRequest,
  socketExchange,
  uniqueName,
} from '../support/http.ts';
import { SPEC_ERROR_CODES } from '../support/spec-error-codes.ts';

/** The distribution-spec's error codes, and UNKNOWN for faults of ours (see README). */
const ALLOWED = new Set<string>([...SPEC_ERROR_CODES, 'UNKNOWN']);

let gantry: RunningGantry;
let client: RegistryClient;

before(async () => {
  gantry = await startGantry();
  client = new RegistryClient(gantry.url);
});
after(() => gantry?.stop());

describe('references that cannot exist', () => {
  test('GET and HEAD of manifests/.INVALID_MANIFEST_NAME are 404 MANIFEST_UNKNOWN; PUT is 400', async () => {
    const image = await client.pushImage(uniqueName('invalid-ref'), 'v1');
    const path = `/v2/${image.name}/manifests/.INVALID_MANIFEST_NAME`;
    expectOciError(await client.request('GET', path), 404, 'MANIFEST_UNKNOWN', 'GET');
    expectStatus(await client.request('HEAD', path), 404, 'HEAD');
    const put = await client.putManifest(image.name, '.INVALID_MANIFEST_NAME', image.manifest);
    expectOciError(put, 400, 'MANIFEST_INVALID', 'PUT');
  });
});

describe('tags/list after deletes', () => {
  test('an image whose last manifest was deleted lists no tags (200), not NAME_UNKNOWN', async () => {
    const image = await client.pushImage(uniqueName('deleted-all'), 'v1');
    const del = await client.request('DELETE', `/v2/${image.name}/manifests/${image.manifest.digest}`);
    expectStatus(del, 202, 'DELETE by digest');
    const res = await client.tags(image.name);
    expectStatus(res, 200, 'tags/list after the last manifest went');
    assert.deepEqual(res.json<{ tags: string[] }>().tags, []);
  });
});

describe('sizes and bounded error bodies', () => {
  test('a manifest over the limit is 413 SIZE_INVALID', async () => {
    const name = uniqueName('too-big');
    const config = makeConfig();
    await client.pushBlob(name, config);
    const big = imageManifest({ config, layers: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    expectOciError(await client.putManifest(name, 'big', big), 413, 'SIZE_INVALID');
  });

  test('a manifest with 10,000 missing layers names the first ones and the count in a small body', async () => {
    const name = uniqueName('many-missing');
    const config = makeConfig();
    await client.pushBlob(name, config);
    const layers = Array.from({ length: 10_000 }, (_, i) => ({
      mediaType: MEDIA.ociLayer,
      digest: `sha256:${createHash('sha256').update(`layer ${i}`).digest('hex')}`,
      size: 1,
    }));
    const manifest = manifestFrom(
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.bytes.length },
        layers,
      },
      MEDIA.ociManifest,
    );
    const res = await client.putManifest(name, 'v1', manifest);
    const entry = expectOciError(res, 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(res.body.length < 8 * 1024, `error body is ${res.body.length} bytes`);
    assert.ok(entry?.message.includes(layers[0]!.digest), entry?.message);
    assert.match(entry?.message ?? '', /10000/);
    assert.equal((entry?.detail as { count?: number } | undefined)?.count, 10_000);
  });

  test('a chunk with more bytes than its Content-Range declares is refused', async () => {
    const name = uniqueName('over-declared');
    const location = await client.startUpload(name);
    const res = await rawRequest(gantry.url, {
      method: 'PATCH',
      path: client.uploadUrl(location).replace(gantry.url, ''),
      headers: { 'content-range': '0-9', 'content-type': 'application/octet-stream' },
      chunks: [Buffer.alloc(10, 1), Buffer.alloc(10, 2)],
    });
    expectOciError(res, 400, ['SIZE_INVALID', 'BLOB_UPLOAD_INVALID']);
    const status = await client.request('GET', client.uploadUrl(location));
    if (status.status === 204)
      assert.equal(status.headers.get('range'), '0-9', 'at most the declared bytes are kept');
  });
});

describe('every error the registry API produces carries a spec code', () => {
  test('the walk', async () => {
    const seen = new Map<string, string>();
    const record = (what: string, res: Reply) => {
      assert.ok(res.status >= 400, `${what}: expected an error, got ${res.status}`);
      if (res.method === 'HEAD') return;
      const errors = res.json<{ errors: OciErrorEntry[] }>().errors;
      for (const e of errors) seen.set(e.code, what);
    };
    const image = await client.pushImage(uniqueName('walk'), 'v1');
    const name = image.name;
    const layer = image.layers[0]!;
    const missing = makeBlob(7).digest;
    const upload = await client.startUpload(name);
    const up = (q: Record<string, string> = {}) => client.uploadUrl(upload, q);
    const steps: [string, () => Promise<Reply>][] = [
      ['unknown endpoint', () => client.request('GET', `/v2/${name}/nonsense`)],
      ['unknown method', () => client.request('DELETE', '/v2/')],
      ['bad n', () => client.tags(name, '?n=abc')],
      ['bad name', () => client.request('GET', '/v2/docker-dev-local/UP/tags/list')],
      ['unknown name', () => client.tags(uniqueName('never'))],
      ['unknown repository', () => client.tags('nosuchrepo-x/app/more')],
      ['unknown blob', () => client.request('GET', `/v2/${name}/blobs/${missing}`)],
      ['bad digest', () => client.request('GET', `/v2/${name}/blobs/sha256:abc`)],
      [
        'unsatisfiable range',
        () =>
          client.request('GET', `/v2/${name}/blobs/${layer.digest}`, {
            headers: { range: `bytes=${layer.bytes.length + 5}-` },
          }),
      ],
      ['unknown upload', () => client.request('GET', `/v2/${name}/blobs/uploads/nope`)],
      [
        'out-of-order chunk',
        () => client.request('PATCH', up(), { headers: { 'content-range': '100-101' }, body: 'ab' }),
      ],
      [
        'malformed Content-Range',
        () => client.request('PATCH', up(), { headers: { 'content-range': 'banana' }, body: 'ab' }),
      ],
      [
        'Content-Range and Content-Length disagree',
        () => client.request('PATCH', up(), { headers: { 'content-range': '0-99' }, body: 'ab' }),
      ],
      ['wrong digest', () => client.request('PUT', up({ digest: missing }), { body: 'not it' })],
      ['PUT without digest', () => client.request('PUT', up())],
      ['unknown manifest', () => client.getManifest(name, 'nope')],
      ['invalid tag read', () => client.getManifest(name, '.INVALID_MANIFEST_NAME')],
      ['invalid manifest', () => client.request('PUT', `/v2/${name}/manifests/x`, { body: 'null' })],
      ['invalid tag write', () => client.putManifest(name, '-x', image.manifest)],
      [
        'missing layer',
        () =>
          client.putManifest(name, 'broken', imageManifest({ config: image.config, layers: [makeBlob(9)] })),
      ],
      [
        'bad Content-Length',
        () => client.request('PUT', `/v2/${name}/manifests/y`, { headers: {}, body: '' }),
      ],
      ['delete unknown blob', () => client.request('DELETE', `/v2/${name}/blobs/${missing}`)],
      ['delete unknown manifest', () => client.request('DELETE', `/v2/${name}/manifests/nope`)],
      [
        'unauthenticated write to a closed instance',
        () => closed.request('POST', `/v2/${name}/blobs/uploads/`),
      ],
      ['unauthenticated catalog of a closed instance', () => closed.request('GET', '/v2/_catalog')],
      [
        'wrong password',
        () => closed.request('GET', '/v2/', { headers: { authorization: basicAuth('admin', 'wrong') } }),
      ],
    ];
    const closedGantry = await startGantry({ openAccess: false });
    const closed = new RegistryClient(closedGantry.url);
    try {
      for (const [what, step] of steps) record(what, await step());
      // Framing the HTTP parser refuses: answered on the raw socket.
      const host = new URL(gantry.url).host;
      const framing = await socketExchange(
        gantry.url,
        `POST /v2/${name}/blobs/uploads/ HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        { timeoutMs: 3000 },
      );
      for (const r of parseResponses(framing.data)) {
        for (const e of (JSON.parse(r.body.toString()) as { errors: OciErrorEntry[] }).errors)
          seen.set(e.code, 'TE + CL');
      }
    } finally {
      await closedGantry.stop();
    }
    const outside = [...seen].filter(([code]) => !ALLOWED.has(code));
    assert.deepEqual(outside, [], `codes outside the spec's table: ${JSON.stringify(outside)}`);
    // The walk reaches most of the table (a walk that saw nothing would prove nothing).
    assert.ok(seen.size >= 11, `only ${[...seen.keys()].join(', ')}`);
  });
});

describe('catalog without credentials when anonymous callers cannot read everything', () => {
  let closed: RunningGantry;
  before(async () => {
    closed = await startGantry({ openAccess: false });
  });
  after(() => closed?.stop());

  test('answers 401 with a Bearer challenge for registry:catalog:*; with credentials 200', async () => {
    const res = await rawRequest(closed.url, { method: 'GET', path: '/v2/_catalog' });
    expectOciError(res, 401, 'UNAUTHORIZED');
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="[^"]+"/);
    assert.match(challenge, /scope="registry:catalog:\*"/);
    const signedIn = await rawRequest(closed.url, {
      method: 'GET',
      path: '/v2/_catalog',
      headers: { authorization: basicAuth(ADMIN.user, ADMIN.password) },
    });
    expectStatus(signedIn, 200, 'catalog with credentials');
    // What a client does with the challenge: a token for the scope, then the catalog again.
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const tokenUrl = new URL(realm);
    tokenUrl.searchParams.set('service', service);
    tokenUrl.searchParams.set('scope', 'registry:catalog:*');
    const grant = await fetch(tokenUrl, {
      headers: { authorization: basicAuth(ADMIN.user, ADMIN.password) },
    });
    assert.equal(grant.status, 200, await grant.clone().text());
    const { token } = (await grant.json()) as { token: string };
    const withToken = await rawRequest(closed.url, {
      method: 'GET',
      path: '/v2/_catalog',
      headers: { authorization: `Bearer ${token}` },
    });
    expectStatus(withToken, 200, 'catalog with the token the challenge led to');
  });

  test('an instance open to anonymous readers still answers the catalog without credentials', async () => {
    expectStatus(await client.request('GET', '/v2/_catalog'), 200);
  });
});
