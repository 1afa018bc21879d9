/**
 * Docker token auth against a fake upstream: a registry server that answers 401 with a Bearer
 * challenge unless it sees a token its auth server issued for the request's scope, and an auth
 * server (another origin) that issues opaque tokens and counts how often it is asked.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { digestOf } from '../../src/oci/digest.ts';
import { UpstreamClient, UpstreamError } from '../../src/repos/remote/upstream-client.ts';
import { type FakeServer, type Handler, LOOPBACK_ALLOWED, sendJson, startFakeServer } from './fake-server.ts';

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {},
    layers: [],
  }),
);
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

interface BearerOptions {
  expiresIn?: number;
  /** The auth server answers `access_token` instead of `token`. */
  accessToken?: boolean;
  /** Basic credentials the auth server demands; anonymous tokens otherwise. */
  requireBasic?: string;
  /** The registry refuses every token. */
  refuseTokens?: boolean;
}

interface BearerUpstream {
  registry: FakeServer;
  auth: FakeServer;
  /** Scopes asked for, one entry per token request. */
  tokenScopes: string[];
  issued: string[];
  /** The registry forgets every token issued so far (as after a key rotation). */
  revokeAll(): void;
  close(): Promise<void>;
}

async function startBearerUpstream(options: BearerOptions = {}): Promise<BearerUpstream> {
  const tokens = new Map<string, string>(); // token → scope
  const tokenScopes: string[] = [];
  const issued: string[] = [];
  const auth = await startFakeServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://auth');
    if (options.requireBasic && req.headers.authorization !== options.requireBasic) {
      sendJson(res, 401, { details: 'incorrect username or password' });
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    assert.equal(url.searchParams.get('service'), 'fake-registry');
    tokenScopes.push(scope);
    const token = `opaque-${issued.length}-${Math.random().toString(36).slice(2)}`;
    issued.push(token);
    tokens.set(token, scope);
    const key = options.accessToken ? 'access_token' : 'token';
    sendJson(res, 200, { [key]: token, ...(options.expiresIn ? { expires_in: options.expiresIn } : {}) });
  });
  const registry = await startFakeServer((req, res) => {
    const name = /^\/v2\/(.+)\/(?:manifests|tags|blobs)\//.exec(req.url ?? '')?.[1] ?? '';
    const scope = `repository:${name}:pull`;
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    if (options.refuseTokens || tokens.get(token) !== scope) {
      const challenge = `Bearer realm="${auth.url}/token",service="fake-registry",scope="${scope}"`;
      sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        {
          'www-authenticate': challenge,
        },
      );
      return;
    }
    if (req.url?.endsWith('/tags/list')) return sendJson(res, 200, { name, tags: ['latest'] });
    res.writeHead(200, {
      'content-type': MANIFEST_TYPE,
      'content-length': MANIFEST.length,
      'docker-content-digest': digestOf(MANIFEST),
    });
    res.end(req.method === 'HEAD' ? undefined : MANIFEST);
  });
  return {
    registry,
    auth,
    tokenScopes,
    issued,
    revokeAll: () => tokens.clear(),
    close: async () => {
      await registry.close();
      await auth.close();
    },
  };
}

describe('upstream client, Bearer token auth', () => {
  const running: BearerUpstream[] = [];
  const start = async (options?: BearerOptions) => {
    const u = await startBearerUpstream(options);
    running.push(u);
    return u;
  };
  const servers: FakeServer[] = [];
  const serve = async (handler: Handler) => {
    const server = await startFakeServer(handler);
    servers.push(server);
    return server;
  };
  after(async () => {
    for (const u of running) await u.close();
    for (const server of servers) await server.close();
  });

  test('fetches one token per scope and reuses it while valid', async () => {
    const u = await start({ expiresIn: 300 });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: u.registry.url });
    assert.equal((await client.getManifest('a/one', 'latest'))?.digest, digestOf(MANIFEST));
    assert.deepEqual(u.tokenScopes, ['repository:a/one:pull']);
    assert.equal(u.registry.requests.length, 2, 'one 401, then the retry with the token');

    assert.equal((await client.headManifest('a/one', 'latest'))?.mediaType, MANIFEST_TYPE);
    assert.deepEqual(await client.listTags('a/one'), ['latest']);
    assert.ok(await client.getManifest('a/one', digestOf(MANIFEST)));
    assert.equal(u.tokenScopes.length, 1, 'the cached token is reused');
    assert.equal(u.registry.requests.length, 5, 'the cached token is sent up front: no more 401s');

    assert.ok(await client.getManifest('b/two', 'latest'));
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.ok(await client.getManifest('b/two', 'latest'));
    assert.deepEqual(u.tokenScopes, ['repository:a/one:pull', 'repository:b/two:pull']);
  });

  test('concurrent requests for one scope share one token request', async () => {
    const u = await start({ expiresIn: 300 });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: u.registry.url });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => client.getManifest('c/three', 'latest')),
    );
    assert.ok(results.every((m) => m?.digest === digestOf(MANIFEST)));
    assert.deepEqual(u.tokenScopes, ['repository:c/three:pull']);
  });

  test('a cached token the registry no longer accepts is replaced once', async () => {
    const u = await start({ expiresIn: 300 });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: u.registry.url });
    assert.ok(await client.getManifest('a/one', 'latest'));
    u.revokeAll();
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.equal(u.tokenScopes.length, 2);
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.equal(u.tokenScopes.length, 2);
  });

  test('fetches a new token once the old one expires', async () => {
    const u = await start({ expiresIn: 1, accessToken: true });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: u.registry.url });
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.equal(u.tokenScopes.length, 1);
    await new Promise((r) => setTimeout(r, 900)); // past 1 s minus its margin
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.equal(u.tokenScopes.length, 2);
  });

  test('credentials go to the realm as Basic, never to the registry', async () => {
    const basic = `Basic ${Buffer.from('robot:pw-123').toString('base64')}`;
    const u = await start({ requireBasic: basic });
    const client = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: u.registry.url,
      credentials: { username: 'robot', password: 'pw-123' },
    });
    assert.ok(await client.getManifest('a/one', 'latest'));
    assert.equal(u.auth.requests[0]?.headers.authorization, basic);
    for (const r of u.registry.requests) assert.doesNotMatch(r.headers.authorization ?? '', /^Basic/);
  });

  test('a realm that refuses the credentials: unauthorized, no secrets in the message', async () => {
    const u = await start({ requireBasic: 'Basic nobody-has-this' });
    const client = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: u.registry.url,
      credentials: { username: 'robot', password: 'pw-123' },
    });
    await assert.rejects(client.getManifest('a/one', 'latest'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.kind, 'unauthorized');
      assert.match(err.message, /refused the configured credentials/);
      assert.ok(err.message.includes(u.registry.url));
      assert.ok(!err.message.includes('pw-123'));
      return true;
    });
  });

  test('a token service that fails: server-error naming the token service', async () => {
    const broken = await serve((_req, res) => sendJson(res, 502, {}));
    const registry = await serve((_req, res) => {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${broken.url}/token",service="fake-registry"`,
      });
      res.end();
    });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: registry.url });
    await assert.rejects(client.getManifest('a/one', 'latest'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.kind, 'server-error');
      assert.equal(err.status, 502);
      assert.ok(err.message.includes(`token service ${broken.url}/token`), err.message);
      assert.ok(err.message.includes(registry.url), err.message);
      return true;
    });
    assert.equal(
      new URL(broken.requests[0]?.url ?? '', broken.url).searchParams.get('scope'),
      'repository:a/one:pull',
    );
  });

  test('a registry that refuses the token: unauthorized after one retry, token not in the message', async () => {
    const u = await start({ refuseTokens: true });
    const client = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: u.registry.url });
    await assert.rejects(client.getManifest('a/one', 'latest'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.kind, 'unauthorized');
      assert.match(err.message, /requires credentials and none are configured/);
      for (const token of u.issued) assert.ok(!err.message.includes(token));
      return true;
    });
    assert.equal(u.registry.requests.length, 2);
    assert.equal(u.tokenScopes.length, 1);
  });
});
