/** The client against a real registry (CNCF distribution) with htpasswd basic authentication. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Digest } from '../../src/oci/digest.ts';
import { UpstreamClient, UpstreamError } from '../../src/repos/remote/upstream-client.ts';
import { type PushedImage, RegistryClient, type Reply, type RequestOptions } from '../support/http.ts';
import { type RunningReferenceRegistry, startReferenceRegistry } from '../support/reference-registry.ts';
import { LOOPBACK_ALLOWED } from './fake-server.ts';

const USER = 'puller';
const PASSWORD = 's3cret-Pa55word';

/** Pushes with basic credentials: every request of the shared helpers gets the header. */
class AuthedRegistryClient extends RegistryClient {
  constructor(
    url: string,
    private readonly authorization: string,
  ) {
    super(url);
  }

  override request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    return super.request(method, path, {
      ...options,
      headers: { ...options.headers, authorization: this.authorization },
    });
  }
}

function expectUnauthorized(upstreamUrl: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof UpstreamError, `expected an UpstreamError, got ${String(err)}`);
    assert.equal(err.kind, 'unauthorized');
    assert.equal(err.status, 401);
    assert.equal(err.upstream, upstreamUrl);
    assert.ok(err.message.includes(upstreamUrl), `message does not name the upstream: ${err.message}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(PASSWORD), 'the password is in the message');
    assert.ok(!err.message.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')));
    assert.ok(!(err.stack ?? '').split('\n')[0]?.includes(PASSWORD));
    return true;
  };
}

describe('upstream client, basic-auth upstream', () => {
  let registry: RunningReferenceRegistry;
  let image: PushedImage;

  before(async () => {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', USER, PASSWORD], { encoding: 'utf8' });
    registry = await startReferenceRegistry({ htpasswd, logLevel: 'error' });
    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    image = await new AuthedRegistryClient(registry.url, basic).pushImage('team/private', '2.0');
  });
  after(() => registry?.stop());

  test('with the right credentials everything works', async () => {
    const upstream = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: registry.url,
      credentials: { username: USER, password: PASSWORD },
    });
    const m = await upstream.getManifest('team/private', '2.0');
    assert.equal(m?.digest, image.manifest.digest);
    assert.equal((await upstream.headManifest('team/private', '2.0'))?.digest, image.manifest.digest);
    assert.deepEqual(await upstream.listTags('team/private'), ['2.0']);
    const layer = image.layers[0];
    assert.ok(layer);
    const blob = await upstream.openBlob('team/private', layer.digest as Digest);
    assert.equal(blob?.size, layer.bytes.length);
    blob?.body.resume();
    assert.equal(await upstream.getManifest('team/private', 'missing'), undefined);
  });

  test('wrong credentials: unauthorized, saying they were refused, without the password', async () => {
    const upstream = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: registry.url,
      credentials: { username: USER, password: 'wrong' },
    });
    await assert.rejects(
      upstream.getManifest('team/private', '2.0'),
      expectUnauthorized(registry.url, /refused the configured credentials/),
    );
    const withPasswordInError = new UpstreamClient({
      addresses: LOOPBACK_ALLOWED,
      url: registry.url,
      credentials: { username: USER, password: `${PASSWORD}-not` },
    });
    await assert.rejects(withPasswordInError.listTags('team/private'), (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.ok(!err.message.includes(`${PASSWORD}-not`));
      return true;
    });
  });

  test('no credentials: unauthorized, saying credentials are needed', async () => {
    const upstream = new UpstreamClient({ addresses: LOOPBACK_ALLOWED, url: registry.url });
    await assert.rejects(
      upstream.getManifest('team/private', '2.0'),
      expectUnauthorized(registry.url, /requires credentials and none are configured/),
    );
    await assert.rejects(
      upstream.openBlob('team/private', image.manifest.digest as Digest),
      expectUnauthorized(registry.url, /requires credentials/),
    );
  });
});
