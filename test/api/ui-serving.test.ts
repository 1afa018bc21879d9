/**
 * The web UI's static files at /ui, from a fake build in a temporary directory (config uiDir):
 * content types, cache headers, the index.html fallback for client-side routes, no escape from
 * the directory, the redirect of browsers at /, and the 503 when the UI is not built.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { rawRequest, request } from '../support/http.ts';

const INDEX =
  '<!doctype html><title>Gantry</title><script type="module" src="/ui/assets/index-abc123.js"></script>';

describe('web UI serving', () => {
  let dir: string;
  let gantry: RunningGantry;
  let url = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("ui");');
    await writeFile(join(dir, 'assets', 'index-abc123.css'), 'body{}');
    await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, 'notes.exe'), 'MZ');
    gantry = await startGantry({ openAccess: false, env: { GANTRY_UI_DIR: dir } });
    url = gantry.url;
  });
  after(async () => {
    await gantry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at /ui and /ui/, not cached', async () => {
    for (const path of ['/ui', '/ui/', '/ui/?x=1']) {
      const res = await request(url, 'GET', path);
      assert.equal(res.status, 200, path);
      assert.equal(res.text(), INDEX);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    }
  });

  it('serves hashed assets with their types, cached for good; other files not cached', async () => {
    const js = await request(url, 'GET', '/ui/assets/index-abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.text(), 'console.log("ui");');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    const css = await request(url, 'GET', '/ui/assets/index-abc123.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const svg = await request(url, 'GET', '/ui/favicon.svg');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.equal(svg.headers.get('cache-control'), 'no-cache');
    const head = await request(url, 'HEAD', '/ui/assets/index-abc123.js');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String('console.log("ui");'.length));
    assert.equal(head.body.length, 0);
  });

  it('answers client-side routes with index.html, missing files and odd paths with 404', async () => {
    for (const path of ['/ui/repositories/docker-dev-local', '/ui/pipeline', '/ui/images/team/app/tags']) {
      const res = await request(url, 'GET', path);
      assert.equal(res.status, 200, path);
      assert.equal(res.text(), INDEX, path);
    }
    for (const path of ['/ui/assets/missing.js', '/ui/notes.exe', '/ui/..%2Fpackage.json', '/ui/%2e%2e/x']) {
      const res = await request(url, 'GET', path);
      assert.equal(res.status, 404, `${path}: ${res.status} ${res.text().slice(0, 100)}`);
    }
    const outside = await rawRequest(url, { method: 'GET', path: '/ui/../../../etc/passwd' });
    assert.notEqual(outside.status, 200);
    assert.ok(!outside.text().includes('root:'));
  });

  it('sends browsers from / to /ui/ and keeps the answer for everyone else', async () => {
    const browser = await request(url, 'GET', '/', {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get('location'), '/ui/');
    const client = await request(url, 'GET', '/', { headers: { accept: 'application/json' } });
    assert.equal(client.status, 404);
    assert.equal((await request(url, 'GET', '/v2/')).status, 401, 'the registry is untouched');
  });

  it('answers 503 with what to run when the UI is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gantry-ui-empty-'));
    const bare = await startGantry({ openAccess: false, env: { GANTRY_UI_DIR: empty } });
    try {
      for (const path of ['/ui', '/ui/pipeline', '/ui/assets/index-abc123.js']) {
        const res = await request(bare.url, 'GET', path);
        assert.equal(res.status, 503, path);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.match(res.json<{ detail: string }>().detail, /npm run build:web/);
      }
    } finally {
      await bare.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
