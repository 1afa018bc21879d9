/**
 * GET /metrics (issue #16, "Metrics, health, logs") against running servers: the exposition is
 * parsed by a maintained parser (parse-prometheus-text-format) and every number is checked
 * against what the test did — requests by route, method and status, bytes in and out, open
 * uploads, per-repository content, promotions by result, remote cache hits, misses and upstream
 * errors, job runs, database statements and process metrics — and who may scrape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configWith, promote, promoted, pushSingle, registry } from '../api/promotion-support.ts';
import { ADMIN_AUTH, admin, api, PASSWORD } from '../auth/support.ts';
import { basicAuth, freePort, type RunningGantry, startGantry } from '../support/gantry.ts';
import { imageManifest, makeBlob, type RegistryClient } from '../support/http.ts';
import { type Scrape, scrape } from './support.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
const NOBODY = basicAuth('nobody', PASSWORD);

describe('GET /metrics', () => {
  let gantry: RunningGantry;
  let upstream: RunningGantry;
  let metricsPort = 0;
  let reg: RegistryClient;
  const metrics = () => scrape(gantry.url, ADMIN_AUTH);
  const http = (s: Scrape, route: string, method: string, status: number) =>
    s.count('gantry_http_request_duration_seconds', { route, method, status: String(status) });

  before(
    async () => {
      metricsPort = await freePort();
      [gantry, upstream] = await Promise.all([
        startGantry({
          openAccess: false,
          env: {
            GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8',
            GANTRY_METRICS_TOKEN: TOKEN,
            GANTRY_METRICS_PORT: String(metricsPort),
          },
        }),
        startGantry(),
      ]);
      reg = registry(gantry.url);
      const local = (key: string, settings: Record<string, unknown> = {}) =>
        admin(gantry.url, 'POST', '/repositories', { key, kind: 'local', settings }, 201);
      await local('metrics-local');
      await local('metrics-plain');
      await local('metrics-gated', { gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }] });
      await admin(
        gantry.url,
        'POST',
        '/repositories',
        { key: 'metrics-remote', kind: 'remote', settings: { url: upstream.url, ttlSeconds: 300 } },
        201,
      );
      // nobody may read the source of promotions but promote nowhere.
      await admin(gantry.url, 'POST', '/users', { name: 'nobody', password: PASSWORD }, 201);
      await admin(
        gantry.url,
        'POST',
        '/permissions',
        { name: 'metrics-readers', repositories: ['metrics-*'], users: { nobody: ['read'] } },
        201,
      );
    },
    { timeout: 60_000 },
  );
  after(() => Promise.all([gantry?.stop(), upstream?.stop()]));

  it('counts a push and pulls by route, method and status, with the bytes that went each way', async () => {
    const name = 'metrics-local/app';
    const config = configWith();
    const layer = makeBlob(20_000);
    const before = await metrics();
    await reg.pushBlob(name, config);
    await reg.pushBlob(name, layer);
    const { manifest } = await pushSingleManifest(reg, name, config, layer);
    for (let i = 0; i < 3; i++) assert.equal((await reg.getManifest(name, '1.0')).status, 200);
    const pulled = await reg.request('GET', `/v2/${name}/blobs/${layer.digest}`);
    assert.equal(pulled.status, 200);
    const missing = `sha256:${'0'.repeat(64)}`;
    assert.equal((await reg.request('HEAD', `/v2/${name}/blobs/${missing}`)).status, 404);
    const s = await metrics();

    const delta = (route: string, method: string, status: number) =>
      http(s, route, method, status) - http(before, route, method, status);
    assert.equal(delta('uploadStart', 'POST', 202), 2);
    assert.equal(delta('upload', 'PUT', 201), 2);
    assert.equal(delta('manifest', 'PUT', 201), 1);
    assert.equal(delta('manifest', 'GET', 200), 3);
    assert.equal(delta('blob', 'GET', 200), 1);
    assert.equal(delta('blob', 'HEAD', 404), 1);
    const family = s.family('gantry_http_request_duration_seconds');
    assert.equal(family?.type, 'HISTOGRAM');
    // No raw URLs as labels: every route is a route-table name or a fastify route template.
    for (const m of family?.metrics ?? []) assert.doesNotMatch(m.labels?.route ?? '', /sha256|metrics-local/);

    // Bytes: the upload PUTs carried both blobs (plus their request lines and headers); the blob
    // GET sent the layer (plus its status line and headers).
    const received =
      s.value('gantry_http_received_bytes_total', { route: 'upload' }) -
      before.value('gantry_http_received_bytes_total', { route: 'upload' });
    const body = config.bytes.length + layer.bytes.length;
    assert.ok(
      received >= body && received < body + 2 * 1024,
      `received ${received} for ${body} bytes of bodies`,
    );
    const sent =
      s.value('gantry_http_sent_bytes_total', { route: 'blob' }) -
      before.value('gantry_http_sent_bytes_total', { route: 'blob' });
    assert.ok(
      sent >= layer.bytes.length && sent < layer.bytes.length + 2 * 1024,
      `sent ${sent} for a ${layer.bytes.length}-byte layer and a HEAD`,
    );

    // Per-repository content, read from the metadata at scrape time.
    const repo = { repository: 'metrics-local' };
    assert.equal(s.value('gantry_repository_images', repo), 1);
    assert.equal(s.value('gantry_repository_manifests', repo), 1);
    assert.equal(s.value('gantry_repository_blobs', repo), 2);
    assert.equal(s.value('gantry_repository_blob_bytes', repo), body);
    assert.ok(manifest.digest);
  });

  it('shows uploads in progress until they end', async () => {
    const before = (await metrics()).value('gantry_uploads_in_progress');
    const location = await reg.startUpload('metrics-local/open');
    assert.equal((await metrics()).value('gantry_uploads_in_progress'), before + 1);
    assert.equal((await reg.request('DELETE', reg.uploadUrl(location))).status, 204);
    assert.equal((await metrics()).value('gantry_uploads_in_progress'), before);
  });

  it('counts promotions by result; dry runs are not counted', async () => {
    const { manifest } = await pushSingle(reg, 'metrics-local/promoted', '1.0');
    const result = async (r: string) => (await metrics()).value('gantry_promotions_total', { result: r });
    const [promotedBefore, refusedBefore, deniedBefore] = [
      await result('promoted'),
      await result('refused'),
      await result('denied'),
    ];
    const source = `metrics-local/promoted@${manifest.digest}`;
    await promoted(gantry.url, { source, target: 'metrics-plain' });
    assert.equal((await promote(gantry.url, { source, target: 'metrics-gated' })).status, 409);
    assert.equal((await promote(gantry.url, { source, target: 'metrics-plain' }, NOBODY)).status, 403);
    assert.equal((await promote(gantry.url, { source, target: 'metrics-gated', dryRun: true })).status, 200);
    assert.equal(await result('promoted'), promotedBefore + 1);
    assert.equal(await result('refused'), refusedBefore + 1);
    assert.equal(await result('denied'), deniedBefore + 1);
  });

  it('counts remote cache misses, hits and upstream errors', async () => {
    const pushed = await pushSingle(registry(upstream.url, undefined), 'docker-dev-local/cached', '1.0');
    const layer = pushed.blobs[1];
    assert.ok(layer);
    const name = 'metrics-remote/docker-dev-local/cached';
    const remote = (s: Scrape, kind: string, result: string) =>
      s.value('gantry_remote_cache_requests_total', { repository: 'metrics-remote', kind, result });
    const before = await metrics();
    assert.equal((await reg.getManifest(name, '1.0')).status, 200);
    assert.equal((await reg.getManifest(name, '1.0')).status, 200);
    const s = await metrics();
    assert.equal(remote(s, 'manifest', 'miss') - remote(before, 'manifest', 'miss'), 1);
    assert.equal(remote(s, 'manifest', 'hit') - remote(before, 'manifest', 'hit'), 1);
    // The cache records a blob once its download is stored, just after the client has it all.
    const blob = `/v2/${name}/blobs/${layer.digest}`;
    assert.equal((await reg.request('GET', blob)).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await reg.request('GET', blob)).status, 200);
    const t = await metrics();
    assert.equal(remote(t, 'blob', 'miss') - remote(s, 'blob', 'miss'), 1);
    assert.equal(remote(t, 'blob', 'hit') - remote(s, 'blob', 'hit'), 1);

    // Upstream gone: the next miss fails upstream once (later ones are answered from memory).
    await upstream.stop();
    const res = await reg.getManifest(name, '2.0');
    assert.equal(res.status, 503);
    const after = await metrics();
    const errors = after.family('gantry_remote_upstream_errors_total')?.metrics ?? [];
    const total = errors
      .filter((m) => m.labels?.repository === 'metrics-remote')
      .reduce((sum, m) => sum + Number(m.value), 0);
    assert.equal(total, 1, JSON.stringify(errors));
  });

  it('has job runs, database statements and process metrics', async () => {
    const s = await metrics();
    assert.ok(s.count('gantry_job_duration_seconds', { job: 'upload-cleanup', result: 'ok' }) >= 1);
    assert.ok(s.count('gantry_db_query_duration_seconds', { operation: 'select', result: 'ok' }) > 0);
    assert.ok(s.count('gantry_db_query_duration_seconds', { operation: 'insert', result: 'ok' }) > 0);
    assert.ok(s.value('process_cpu_seconds_total') > 0);
    assert.ok(s.value('nodejs_heap_size_used_bytes') > 0);
    assert.ok(s.family('gantry_outbox_backlog'), 'the outbox gauge is defined');
    assert.ok(s.family('gantry_job_queue_length'), 'the job queue gauge is defined');
  });

  it('answers administrators and the metrics token; refuses everyone else', async () => {
    const get = (authorization?: string) =>
      fetch(`${gantry.url}/metrics`, { headers: authorization ? { authorization } : {} });
    const anonymous = await get();
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /problem\+json/);
    const forbidden = await get(NOBODY);
    assert.equal(forbidden.status, 403);
    assert.match(
      ((await forbidden.json()) as { detail: string }).detail,
      /only administrators may read the metrics/,
    );
    assert.equal((await get(`Bearer ${TOKEN}x`)).status, 401);
    await scrape(gantry.url, `Bearer ${TOKEN}`);
    await scrape(gantry.url, ADMIN_AUTH);
    // An administrator's API token works too.
    const token = await api(gantry.url, 'POST', '/tokens', { name: 'scraper' });
    assert.equal(token.status, 201, JSON.stringify(token.json));
    await scrape(gantry.url, `Bearer ${String(token.json.token)}`);
  });

  it('serves /metrics without credentials on metricsPort, and nothing else there', async () => {
    const open = `http://127.0.0.1:${metricsPort}`;
    const s = await scrape(open);
    assert.ok(s.family('gantry_http_request_duration_seconds'));
    assert.equal((await fetch(`${open}/v2/`)).status, 404);
  });
});

/** The manifest of a config and one layer, tagged 1.0 (blobs pushed already). */
async function pushSingleManifest(
  reg: RegistryClient,
  name: string,
  config: ReturnType<typeof configWith>,
  layer: ReturnType<typeof makeBlob>,
) {
  const manifest = imageManifest({ config, layers: [layer] });
  await reg.pushManifest(name, '1.0', manifest);
  return { manifest };
}
