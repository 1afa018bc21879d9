/** Failures of the upstream and of the network, and redirects, each turned into what the contract says. */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type Digest, digestOf } from '../../src/oci/digest.ts';
import {
  UpstreamClient,
  UpstreamError,
  type UpstreamErrorKind,
} from '../../src/repos/remote/upstream-client.ts';
import { freePort } from '../support/gantry.ts';
import { MEDIA } from '../support/http.ts';
import { type FakeServer, type Handler, LOOPBACK_ALLOWED, sendJson, startFakeServer } from './fake-server.ts';

const BLOB = Buffer.from('layer bytes served from the CDN');
const BLOB_DIGEST = digestOf(BLOB);

function expectKind(kind: UpstreamErrorKind, upstream: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UpstreamError, `expected an UpstreamError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.upstream, upstream);
    assert.ok(err.message.includes(upstream), `message does not name the upstream: ${err.message}`);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n\s+at /, 'a stack in the message');
    return true;
  };
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('upstream client, failures and redirects', () => {
  const servers: FakeServer[] = [];
  const serve = async (handler: Handler) => {
    const s = await startFakeServer(handler);
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('nothing listening: unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url });
    await assert.rejects(
      client.getManifest('a/b', 'latest'),
      expectKind('unreachable', url, /connection refused/),
    );
  });

  test('a host name that does not resolve: unreachable', async () => {
    const url = 'http://no-such-host.invalid';
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url, timeoutMs: 5_000 });
    await assert.rejects(client.listTags('a/b'), expectKind('unreachable', url, /DNS|resolve/));
  });

  test('503: server-error with the upstream message', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'maintenance window' }] }),
    );
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(client.getManifest('a/b', 'latest'), (err: unknown) => {
      expectKind('server-error', s.url, /503.*maintenance window/)(err);
      assert.equal((err as UpstreamError).status, 503);
      return true;
    });
    await assert.rejects(client.openBlob('a/b', BLOB_DIGEST), expectKind('server-error', s.url, /503/));
  });

  test('429 with Retry-After: rate-limited, keeping Retry-After', async () => {
    const s = await serve((_req, res) => sendJson(res, 429, { errors: [] }, { 'retry-after': '42' }));
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(client.headManifest('a/b', 'latest'), (err: unknown) => {
      expectKind('rate-limited', s.url, /429.*retry after 42 s/)(err);
      assert.equal((err as UpstreamError).retryAfter, '42');
      return true;
    });
  });

  test('403: denied', async () => {
    const s = await serve((_req, res) => sendJson(res, 403, { errors: [{ code: 'DENIED', message: 'no' }] }));
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(
      client.listTags('a/b'),
      expectKind('denied', s.url, /denied access to tags of a\/b/),
    );
  });

  test('a server that never answers: timeout', async () => {
    const s = await serve(() => {}); // accepts the request, never responds
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url, timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(client.getManifest('a/b', 'latest'), expectKind('timeout', s.url, /within 300 ms/));
    assert.ok(Date.now() - started < 5_000);
  });

  test('a manifest whose bytes do not match Docker-Content-Digest: protocol', async () => {
    const bytes = Buffer.from('{"schemaVersion":2}');
    const s = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': digestOf(Buffer.from('something else')),
      });
      res.end(bytes);
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(client.getManifest('a/b', 'latest'), expectKind('protocol', s.url, /do not match/));
    await assert.rejects(
      client.getManifest('a/b', digestOf(Buffer.from('another'), 'sha512')),
      expectKind('protocol', s.url, /do not match the requested digest/),
    );
    assert.equal(
      (await client.getManifest('a/b', digestOf(bytes, 'sha512')))?.digest,
      digestOf(bytes, 'sha512'),
    );
  });

  test('blob redirect to another host: followed, Authorization not forwarded', async () => {
    const cdn = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BLOB.length });
      res.end(BLOB);
    });
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-length': 0 });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${cdn.url}/blobs/abc?signature=xyz`, 'content-length': 0 });
      res.end();
    });
    const client = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: registry.url,
      credentials: { username: 'u', password: 'p' },
    });
    const blob = await client.openBlob('a/b', BLOB_DIGEST as Digest);
    assert.ok(blob);
    assert.equal(blob.size, BLOB.length);
    assert.deepEqual(await readAll(blob.body), BLOB);
    assert.equal(registry.requests.at(-1)?.headers.authorization, 'Basic dTpw');
    assert.equal(cdn.requests.length, 1);
    assert.equal(cdn.requests[0]?.url, '/blobs/abc?signature=xyz');
    assert.equal(cdn.requests[0]?.headers.authorization, undefined);
  });

  test('a blob body is streamed, not buffered: the first bytes arrive before the last are sent', async () => {
    let finish: () => void = () => {};
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 8 });
      res.write('half');
      finish = () => res.end('done');
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url, timeoutMs: 300 });
    const blob = await client.openBlob('a/b', BLOB_DIGEST);
    assert.ok(blob);
    const reader = blob.body[Symbol.asyncIterator]();
    assert.equal(String((await reader.next()).value), 'half');
    await new Promise((r) => setTimeout(r, 500)); // longer than timeoutMs: the deadline ends at the headers
    finish();
    assert.equal(String((await reader.next()).value), 'done');
  });

  test('tags/list pagination is followed through relative and absolute Link headers', async () => {
    const s = await serve((req, res) => {
      const last = new URL(req.url ?? '/', 'http://x').searchParams.get('last');
      if (last === null) {
        sendJson(
          res,
          200,
          { name: 'a/b', tags: ['1', '2'] },
          { link: '</v2/a/b/tags/list?n=2&last=2>; rel="next"' },
        );
      } else if (last === '2') {
        const next = `<http://127.0.0.1:${s.port}/v2/a/b/tags/list?n=2&last=4>; rel="next"`;
        sendJson(res, 200, { name: 'a/b', tags: ['3', '4'] }, { link: next });
      } else {
        sendJson(res, 200, { name: 'a/b', tags: ['5'] });
      }
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    assert.deepEqual(await client.listTags('a/b'), ['1', '2', '3', '4', '5']);
    assert.equal(s.requests.length, 3);
  });

  test('a manifest body that stalls after the headers: timeout', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA.ociManifest, 'content-length': 100 });
      res.write('{"schema');
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url, timeoutMs: 300 });
    await assert.rejects(client.getManifest('a/b', 'latest'), expectKind('timeout', s.url, /within 300 ms/));
  });

  test('tag pages that link to another host: protocol', async () => {
    const s = await serve((_req, res) =>
      sendJson(
        res,
        200,
        { name: 'a/b', tags: ['1'] },
        { link: '<http://elsewhere.example/v2/a/b/tags/list?last=1>; rel="next"' },
      ),
    );
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(client.listTags('a/b'), expectKind('protocol', s.url, /another host/));
  });

  test('manifest requests accept the four manifest types; a HEAD without a digest falls back to GET', async () => {
    const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}');
    const s = await serve((req, res) => {
      // No Docker-Content-Digest, a generic Content-Type: the client must work both out itself.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url, userAgent: 'gantry-test' });
    const head = await client.headManifest('a/b', 'latest');
    assert.deepEqual(head, { digest: digestOf(bytes), mediaType: MEDIA.ociIndex, size: bytes.length });
    assert.deepEqual(
      s.requests.map((r) => r.method),
      ['HEAD', 'GET'],
    );
    const accept = String(s.requests[0]?.headers.accept).split(/,\s*/);
    assert.deepEqual(
      new Set(accept),
      new Set([MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerManifestList]),
    );
    assert.equal(s.requests[0]?.headers['user-agent'], 'gantry-test');
  });

  test('invalid names and references throw OciError before any request', async () => {
    const s = await serve((_req, res) => sendJson(res, 500, {}));
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: s.url });
    await assert.rejects(client.getManifest('../../v2/_catalog', 'latest'), { code: 'NAME_INVALID' });
    await assert.rejects(client.getManifest('a/b', '../x'), { code: 'MANIFEST_INVALID' });
    await assert.rejects(client.headManifest('a/b', 'sha256:abc'), { code: 'DIGEST_INVALID' });
    await assert.rejects(client.openBlob('a/b', 'md5:00' as Digest), { code: 'DIGEST_INVALID' });
    await assert.rejects(client.listTags('A/B'), { code: 'NAME_INVALID' });
    assert.equal(s.requests.length, 0);
  });

  test('bad options are refused at construction', () => {
    assert.throws(() => new UpstreamClient({ url: 'ftp://example.com' }), /http:\/\/ or https:\/\//);
    assert.throws(() => new UpstreamClient({ url: 'https://u:p@example.com' }), /must not hold credentials/);
  });
});
