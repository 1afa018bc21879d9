/**
 * A virtual repository whose remote member cannot reach its upstream (issue #12): a manifest no
 * reachable member has is 404 MANIFEST_UNKNOWN naming the unreachable member, not a 503 that
 * clients retry for minutes; the unreachable upstream is remembered for
 * upstreamUnreachableSeconds, so later requests do not try it again meanwhile.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { expectOciError, RegistryClient, uniqueName } from '../support/http.ts';
import { createRepository } from './pull-through-support.ts';

let gantry: RunningGantry;
let client: RegistryClient;
/** An "upstream" that accepts connections and drops them at once; counts them. */
let upstream: Server;
let connections = 0;

before(async () => {
  upstream = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', () => done()));
  const address = upstream.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  gantry = await startGantry({
    env: { GANTRY_UPSTREAM_UNREACHABLE_SECONDS: '60', GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' },
  });
  client = new RegistryClient(gantry.url);
  await createRepository(gantry.url, {
    key: 'down-remote',
    kind: 'remote',
    settings: { url: `http://127.0.0.1:${port}` },
  });
  await createRepository(gantry.url, {
    key: 'down-virtual',
    kind: 'virtual',
    settings: { members: ['docker-dev-local', 'down-remote'], deploymentRepository: 'docker-dev-local' },
  });
});
after(async () => {
  await gantry?.stop();
  await new Promise((done) => upstream?.close(done));
});

test('a missing manifest through the virtual repository is 404 naming the unreachable member; the upstream is not asked again meanwhile', async () => {
  const image = uniqueName('missing', 'down-virtual').slice('down-virtual/'.length);
  const first = await client.getManifest(`down-virtual/${image}`, 'v1');
  const entry = expectOciError(first, 404, 'MANIFEST_UNKNOWN', 'through the virtual repository');
  const unreachable = (entry?.detail as { unreachable?: { repository: string }[] } | undefined)?.unreachable;
  assert.deepEqual(
    unreachable?.map((u) => u.repository),
    ['down-remote'],
    `detail: ${JSON.stringify(entry?.detail)}`,
  );
  assert.ok(connections > 0, 'the upstream was never tried');

  const seen = connections;
  const started = Date.now();
  const second = await client.getManifest(`down-virtual/${uniqueName('other', 'x').slice(2)}`, 'v2');
  expectOciError(second, 404, 'MANIFEST_UNKNOWN', 'second request');
  const direct = await client.getManifest(`down-remote/${image}`, 'v1');
  const directEntry = expectOciError(direct, 503, 'UNKNOWN', 'the remote repository asked directly');
  assert.match(directEntry?.message ?? '', /not asked again until/);
  assert.equal(connections, seen, 'the unreachable upstream was asked again within the memory time');
  assert.ok(Date.now() - started < 2000, `remembered failures took ${Date.now() - started} ms`);
});

test('what a reachable member holds is still served through the virtual repository', async () => {
  const name = uniqueName('held');
  const image = await client.pushImage(name, 'v1');
  const res = await client.getManifest(`down-virtual/${name.slice('docker-dev-local/'.length)}`, 'v1');
  assert.equal(res.status, 200, res.text());
  assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
});
