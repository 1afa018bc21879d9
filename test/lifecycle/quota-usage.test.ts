import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, problem } from '../api/support.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { expectOciError, imageManifest, makeBlob, makeConfig, RegistryClient } from '../support/http.ts';

const AUTH = basicAuth(ADMIN.user, ADMIN.password);

describe('storage quotas and usage', () => {
  let gantry: RunningGantry;
  let registry: RegistryClient;
  const api = (method: string, path: string, body?: unknown, auth = AUTH) =>
    callApi(gantry.url, method, path, { auth, ...(body === undefined ? {} : { body }) });
  const usageOf = async (key: string) => {
    const res = await api('GET', '/usage');
    assert.equal(res.status, 200, res.text);
    return res.body.repositories.find((r: { key: string }) => r.key === key);
  };

  before(async () => {
    gantry = await startGantry();
    registry = new RegistryClient(gantry.url, { authorization: AUTH });
    const created = await api('POST', '/repositories', {
      key: 'docker-quota-local',
      kind: 'local',
      settings: { quota: { bytes: 3000, warnAt: 0.5 } },
    });
    assert.equal(created.status, 201, created.text);
  });
  after(() => gantry.stop());

  it('validates the quota setting with the fix in the message', async () => {
    await problem(
      api('PATCH', '/repositories/docker-quota-local', { settings: { quota: { bytes: '3k' } } }),
      400,
      /quota\.bytes must be a whole number of bytes/,
    );
  });

  it('counts unique and logical bytes; warns from warnAt; refuses a blob that would pass the limit with DENIED', async () => {
    const name = 'docker-quota-local/a';
    const config = makeConfig();
    const layer = makeBlob(1400);
    await registry.pushBlob(name, config);
    await registry.pushBlob(name, layer);
    const manifest = imageManifest({ config, layers: [layer] });
    await registry.pushManifest(name, 'one', manifest);
    // The same blobs under a second image: logical bytes double, unique bytes do not.
    await registry.pushBlob('docker-quota-local/b', config);
    await registry.pushBlob('docker-quota-local/b', layer);
    await registry.pushManifest('docker-quota-local/b', 'one', manifest);
    const used = config.bytes.length + layer.bytes.length;
    const usage = await usageOf('docker-quota-local');
    assert.equal(usage.uniqueBytes, used);
    assert.equal(usage.logicalBytes, 2 * used);
    assert.deepEqual(usage.quota, { bytes: 3000, warnAt: 0.5, state: 'warning' });

    const big = makeBlob(2000);
    const location = await registry.startUpload(name);
    const res = await registry.request('PUT', registry.uploadUrl(location, { digest: big.digest }), {
      headers: { 'content-type': 'application/octet-stream' },
      body: big.bytes,
    });
    const error = expectOciError(res, 403, 'DENIED');
    assert.match(
      error?.message ?? '',
      new RegExp(`^quota exceeded: ${used}/3000 bytes in docker-quota-local`),
    );
    assert.deepEqual(error?.detail, {
      reason: 'quota',
      repository: 'docker-quota-local',
      used,
      limit: 3000,
      adding: 2000,
      digest: big.digest,
    });
    // Mounting it from elsewhere would pass the limit too.
    await registry.pushBlob('docker-dev-local/big', big);
    const mount = await registry.request(
      'POST',
      `/v2/${name}/blobs/uploads/?mount=${big.digest}&from=docker-dev-local/big`,
    );
    expectOciError(mount, 403, 'DENIED');
    assert.equal((await usageOf('docker-quota-local')).uniqueBytes, used);
  });

  it('a repository over its limit takes no upload and no manifest; only an administrator changes the quota', async () => {
    const lowered = await api('PATCH', '/repositories/docker-quota-local', {
      settings: { quota: { bytes: 100 } },
    });
    assert.equal(lowered.status, 200, lowered.text);
    const config = makeConfig();
    const manifest = imageManifest({ config, layers: [] });
    const put = await registry.request('PUT', '/v2/docker-quota-local/a/manifests/two', {
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
    expectOciError(put, 403, 'DENIED');
    const upload = await registry.request('POST', '/v2/docker-quota-local/a/blobs/uploads/');
    expectOciError(upload, 403, 'DENIED');
    assert.equal((await usageOf('docker-quota-local')).quota.state, 'exceeded');
    // Anonymous callers manage everything here (open access), but a quota is an administrator's.
    await problem(
      api('PATCH', '/repositories/docker-quota-local', { settings: {} }, ''),
      401,
      /sign in first/,
    );
  });

  it('reports a total over the repositories shown, each blob once', async () => {
    const res = await api('GET', '/usage');
    const sum = res.body.repositories.reduce(
      (n: number, r: { logicalBytes: number }) => n + r.logicalBytes,
      0,
    );
    assert.equal(res.body.total.logicalBytes, sum);
    // The two repositories holding blobs share none: the total is their sum.
    const unique = (key: string) =>
      res.body.repositories.find((r: { key: string }) => r.key === key).uniqueBytes as number;
    assert.equal(res.body.total.uniqueBytes, unique('docker-quota-local') + unique('docker-dev-local'));
    assert.equal(unique('docker-dev-local'), 2000);
    await problem(api('GET', '/usage', undefined, ''), 401, /sign in/);
  });
});
