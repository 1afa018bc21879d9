/**
 * Remote repositories as a request forgery tool: the upstream client refuses addresses the
 * server's policy refuses, on the address actually connected to and on every hop (redirects,
 * token realms); a Gantry started without an allowance refuses loopback and metadata URLs when
 * a remote is saved, and a remote saved while loopback was allowed stops reaching it once not.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { AddressDeniedError, AddressPolicy } from '../../src/net/address-policy.ts';
import { guardedLookup } from '../../src/net/guarded-http.ts';
import { digestOf } from '../../src/oci/digest.ts';
import { UpstreamClient, UpstreamError } from '../../src/repos/remote/upstream-client.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { type FakeServer, type Handler, sendJson, startFakeServer } from './fake-server.ts';
import { api } from './pull-through-support.ts';

const BLOB_DIGEST = digestOf(Buffer.from('a layer'));
/** Only 127.0.0.1 itself: the rest of 127/8 stays refused, which the redirect tests lean on. */
const ONLY_127_0_0_1 = new AddressPolicy({ allow: ['127.0.0.1/32'] });
const ADMIN_AUTH = { authorization: basicAuth(ADMIN.user, ADMIN.password) };

function refusedBecause(rule: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UpstreamError, `expected an UpstreamError, got ${String(err)}`);
    assert.equal(err.kind, 'unreachable');
    assert.match(err.message, rule);
    assert.match(err.message, /upstreamAllow \(GANTRY_UPSTREAM_ALLOW\)/, 'does not say how to allow it');
    return true;
  };
}

describe('upstream address policy', () => {
  const servers: FakeServer[] = [];
  const gantries: RunningGantry[] = [];
  const serve = async (handler: Handler) => {
    const s = await startFakeServer(handler);
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.close();
    for (const g of gantries) await g.stop();
  });

  test('by default a loopback upstream is refused before any connection', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, { tags: [] }));
    const client = new UpstreamClient({ url: s.url });
    await assert.rejects(client.listTags('a/b'), refusedBecause(/127\.0\.0\.1.*loopback 127\.0\.0\.0\/8/));
    const local = new UpstreamClient({ url: `http://localhost:${s.port}` });
    await assert.rejects(local.getManifest('a/b', 'latest'), refusedBecause(/localhost.*loopback/));
    const mapped = new UpstreamClient({ url: `http://[::ffff:127.0.0.1]:${s.port}` });
    await assert.rejects(mapped.getManifest('a/b', 'latest'), refusedBecause(/loopback/));
    const metadata = new UpstreamClient({ url: 'http://169.254.169.254' });
    await assert.rejects(metadata.listTags('a/b'), refusedBecause(/169\.254\.169\.254.*link-local/));
    assert.equal(s.requests.length, 0, 'a request reached the refused upstream');
  });

  test('a host name is checked on the addresses DNS returns, at connect time', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    try {
      // `localhost` resolves to 127.0.0.1 here; the lookup, not the name, refuses it.
      for (const autoSelectFamily of [true, false]) {
        const error = await new Promise<unknown>((done) => {
          const socket = connect({
            host: 'localhost',
            port,
            lookup: guardedLookup(new AddressPolicy()),
            autoSelectFamily,
          });
          socket.once('connect', () => {
            socket.destroy();
            done(undefined);
          });
          socket.once('error', done);
        });
        assert.ok(error instanceof AddressDeniedError, `expected AddressDeniedError, got ${String(error)}`);
        assert.match(error.message, /localhost \(127\.0\.0\.1\).*loopback/);
      }
      assert.equal(connections, 0);
      // An administrator's allowance for the name admits whatever it resolves to.
      const allowed = await new Promise<unknown>((done) => {
        const socket = connect({
          host: 'localhost',
          port,
          lookup: guardedLookup(new AddressPolicy({ allow: ['localhost'] })),
        });
        socket.once('connect', () => {
          socket.destroy();
          done('connected');
        });
        socket.once('error', done);
      });
      assert.equal(allowed, 'connected');
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  test('a redirect to a refused address is not followed', async () => {
    const target = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1 });
      res.end('x');
    });
    for (const location of [
      `http://127.0.0.2:${target.port}/blob`,
      `http://localhost:${target.port}/blob`,
      `http://[::ffff:127.0.0.2]:${target.port}/blob`,
      'http://169.254.169.254/latest/meta-data/',
    ]) {
      const registry = await serve((_req, res) => {
        res.writeHead(307, { location, 'content-length': 0 });
        res.end();
      });
      const client = new UpstreamClient({ url: registry.url, addresses: ONLY_127_0_0_1 });
      await assert.rejects(client.openBlob('a/b', BLOB_DIGEST), refusedBecause(/loopback|link-local/));
      assert.equal(registry.requests.length, 1, `${location}: the registry was not asked`);
    }
    assert.equal(target.requests.length, 0, 'a redirect reached a refused address');
  });

  test('a token realm at a refused address is not asked', async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(401, {
        'www-authenticate': 'Bearer realm="http://169.254.169.254/token",service="x"',
        'content-length': 0,
      });
      res.end();
    });
    const client = new UpstreamClient({ url: registry.url, addresses: ONLY_127_0_0_1 });
    await assert.rejects(client.listTags('a/b'), refusedBecause(/169\.254\.169\.254.*link-local/));
  });

  test('Gantry refuses loopback and metadata upstream URLs when a remote is saved, naming the rule', async () => {
    const gantry = await startGantry();
    gantries.push(gantry);
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:5000', /127\.0\.0\.1.*loopback 127\.0\.0\.0\/8/],
      ['http://localhost:5000', /localhost.*loopback/],
      ['http://[::1]:5000', /loopback ::1\/128/],
      ['http://[::ffff:127.0.0.1]', /loopback/],
      ['http://169.254.169.254', /link-local/],
      ['http://10.0.0.8:5000', /private 10\.0\.0\.0\/8/],
      ['http://0.0.0.0:5000', /unspecified/],
    ];
    for (const [url, rule] of cases) {
      const res = await api(gantry.url, 'POST', '/repositories', {
        key: `refused-${cases.findIndex(([u]) => u === url)}`,
        kind: 'remote',
        settings: { url },
      });
      assert.equal(res.status, 400, `${url}: ${res.status} ${res.text}`);
      assert.match(res.contentType, /^application\/problem\+json/);
      assert.match(res.detail, rule, url);
      assert.match(res.detail, /upstreamAllow/, `${url}: the detail does not say how to allow it`);
    }
    const created = await api(gantry.url, 'POST', '/repositories', {
      key: 'public-remote',
      kind: 'remote',
      settings: { url: 'https://registry.example.com' },
    });
    assert.equal(created.status, 201, created.text);
    const moved = await api(gantry.url, 'PATCH', '/repositories/public-remote', {
      settings: { url: 'http://169.254.169.254' },
    });
    assert.equal(moved.status, 400, moved.text);
    assert.match(moved.detail, /link-local/);
  });

  test('a remote saved while loopback was allowed stops reaching it once the allowance is gone', async () => {
    const manifest = Buffer.from('{"schemaVersion":2}');
    const upstream = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      res.end(manifest);
    });
    const allowed = await startGantry({ env: { GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' } });
    const created = await api(allowed.url, 'POST', '/repositories', {
      key: 'loop-remote',
      kind: 'remote',
      settings: { url: upstream.url },
    });
    assert.equal(created.status, 201, created.text);
    await allowed.stop({ keepData: true });
    const strict = await startGantry({ dataDir: allowed.dataDir, port: allowed.port });
    gantries.push(strict);
    const res = await new RegistryClient(strict.url).getManifest('loop-remote/a/b', 'latest');
    assert.equal(res.status, 503, res.text());
    assert.match(res.text(), /"code":"UNKNOWN"/);
    assert.match(res.text(), /loopback 127\.0\.0\.0\/8/);
    assert.equal(upstream.requests.length, 0, 'the refused upstream was asked');
  });
});

describe('upstream credentials', () => {
  let gantry: RunningGantry;
  after(async () => gantry?.stop());
  const PASSWORD = 'Upstream-pa55-kept-secret';

  test('only administrators set them; a new URL drops them; the API never shows them', async () => {
    gantry = await startGantry({ openAccess: false });
    // A delegated manager: may manage every repository, is no administrator.
    const manager = { authorization: basicAuth('manager', 'manager-pa55-word') };
    const setup = [
      ['/users', { name: 'manager', password: 'manager-pa55-word' }],
      ['/permissions', { name: 'managers', repositories: ['*'], users: { manager: ['manage'] } }],
    ] as const;
    for (const [path, body] of setup) {
      const res = await api(gantry.url, 'POST', path, body, ADMIN_AUTH);
      assert.equal(res.status, 201, `${path}: ${res.text}`);
    }
    const withCredentials = {
      key: 'private-remote',
      kind: 'remote',
      settings: { url: 'https://registry.example.com', username: 'bot', password: PASSWORD },
    };
    const byManager = await api(gantry.url, 'POST', '/repositories', withCredentials, manager);
    assert.equal(byManager.status, 403, byManager.text);
    assert.match(byManager.detail, /only administrators may set the credentials/);
    const byAdmin = await api(gantry.url, 'POST', '/repositories', withCredentials, ADMIN_AUTH);
    assert.equal(byAdmin.status, 201, byAdmin.text);
    assert.ok(!byAdmin.text.includes(PASSWORD), byAdmin.text);

    const shown = await api(gantry.url, 'GET', '/repositories/private-remote', undefined, manager);
    const settings = (JSON.parse(shown.text) as { settings: Record<string, unknown> }).settings;
    assert.equal(settings.password, '********');

    // A manager may change other settings, sending back what they saw.
    const ttl = await api(
      gantry.url,
      'PATCH',
      '/repositories/private-remote',
      { settings: { ...settings, ttlSeconds: 60 } },
      manager,
    );
    assert.equal(ttl.status, 200, ttl.text);
    // …but not point the stored password at another host, nor replace it.
    for (const change of [
      { ...settings, url: 'https://attacker.example' },
      { url: 'https://attacker.example' },
      { ...settings, password: 'mine' },
      { ...settings, username: 'someone-else', password: 'mine' },
    ]) {
      const res = await api(
        gantry.url,
        'PATCH',
        '/repositories/private-remote',
        { settings: change },
        manager,
      );
      assert.equal(res.status, 403, `${JSON.stringify(change)}: ${res.status} ${res.text}`);
      assert.match(res.detail, /only administrators may/);
    }
    // An administrator changing the URL without giving the credentials again drops them.
    const moved = await api(
      gantry.url,
      'PATCH',
      '/repositories/private-remote',
      { settings: { ...settings, url: 'https://mirror.example.com' } },
      ADMIN_AUTH,
    );
    assert.equal(moved.status, 200, moved.text);
    const reread = await api(gantry.url, 'GET', '/repositories/private-remote', undefined, ADMIN_AUTH);
    const after = JSON.parse(reread.text) as {
      settings: Record<string, unknown>;
    };
    assert.equal(after.settings.url, 'https://mirror.example.com');
    assert.equal(after.settings.username, undefined, 'the credentials were kept for the new URL');
    assert.equal(after.settings.password, undefined);

    const audit = await api(gantry.url, 'GET', '/audit?limit=200', undefined, ADMIN_AUTH);
    assert.ok(!audit.text.includes(PASSWORD), 'the password is in the audit log');
    assert.ok(!gantry.output().includes(PASSWORD), 'the password is in the server log');
  });
});
