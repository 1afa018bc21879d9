/**
 * Request ids (issue #16): every response carries X-Request-Id — the caller's when sane, the
 * trace id of a W3C traceparent, else a fresh one — and the same id is in OCI error bodies,
 * problem+json bodies and the request's log line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('request ids', () => {
  let gantry: RunningGantry;
  before(async () => {
    gantry = await startGantry({ env: { GANTRY_LOG_LEVEL: 'info' } });
  });
  after(() => gantry?.stop());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gantry.url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, id: res.headers.get('x-request-id'), text };
  };
  const logLines = () =>
    gantry
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('keeps a sane incoming X-Request-Id: header, OCI error body and log line', async () => {
    const id = 'lb-7f3a.9:req/42';
    const res = await get('/v2/docker-dev-local/nothing/manifests/1.0', { 'X-Request-Id': id });
    assert.equal(res.status, 404);
    assert.equal(res.id, id);
    const body = JSON.parse(res.text) as { errors: { code: string }[]; requestId: string };
    assert.equal(body.errors[0]?.code, 'MANIFEST_UNKNOWN');
    assert.equal(body.requestId, id);
    await new Promise((r) => setTimeout(r, 200));
    const line = logLines().find((l) => l.reqId === id);
    assert.ok(line, 'a log line carries the id');
    assert.equal(line.msg, 'request');
    assert.equal(line.route, 'manifest');
    assert.equal(line.status, 404);
    assert.equal(line.path, '/v2/docker-dev-local/nothing/manifests/1.0');
  });

  it('takes the trace id of a W3C traceparent', async () => {
    const res = await get('/v2/', { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    assert.equal(res.id, TRACE_ID);
  });

  it('generates one for insane, all-zero or missing ids, different per request', async () => {
    const tooLong = await get('/healthz', { 'X-Request-Id': 'x'.repeat(129) });
    const spaces = await get('/healthz', { 'X-Request-Id': 'a b' });
    const zero = await get('/healthz', { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });
    const none = await get('/healthz');
    const ids = [tooLong.id, spaces.id, zero.id, none.id];
    for (const id of ids) assert.match(id ?? '', UUID);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('is in problem+json bodies of the API and on UI and API responses', async () => {
    const res = await get('/api/v1/repositories/no-such-repository', { 'X-Request-Id': 'api-1' });
    assert.equal(res.id, 'api-1');
    const problem = JSON.parse(res.text) as { status: number; requestId: string };
    assert.ok(problem.status >= 400);
    assert.equal(problem.requestId, 'api-1');
    const ui = await get('/ui/', { 'X-Request-Id': 'ui-1' });
    assert.equal(ui.id, 'ui-1');
    const unknown = await get('/no/such/path');
    assert.equal(unknown.status, 404);
    assert.match(unknown.id ?? '', UUID);
  });
});
