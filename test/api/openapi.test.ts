/**
 * The OpenAPI document of `/api/v1`: generated from the route schemas, valid OpenAPI 3.1,
 * complete (every route fastify registered is in it), with a browsable page; and the schemas
 * do their other two jobs: requests that break them are 400 problems naming the field, and
 * responses that break them (under validateResponses) are 500s, never sent as documented.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { z } from 'zod';
import { apiDocs } from '../../src/api/api-schema.ts';
import { sendProblem } from '../../src/api/problem-reply.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/config/logger.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { ADMIN } from '../support/gantry.ts';
import { callApi, type Json, problem } from './support.ts';

/** Routes left out of the document on purpose, and why. */
const HIDDEN = [
  /^\/api\/v1\/docs(\/|$)/, // the browsable page and its assets
  /^\/api\/v1\/openapi\.json$/, // the document itself
  /^\/api\/v1\/repositories\/:key\/images\/\*$/, // the image routes' dispatch: documented one by one
];

const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

describe('OpenAPI document of /api/v1', () => {
  let server: RunningServer;
  let data: string;
  let doc: Json;

  before(async () => {
    data = await mkdtemp(join(tmpdir(), 'gantry-openapi-'));
    const config = await loadConfig({
      env: {
        GANTRY_DATA: data,
        GANTRY_HOST: '127.0.0.1',
        GANTRY_PORT: '0',
        GANTRY_ADMIN_PASSWORD: ADMIN.password,
        GANTRY_VALIDATE_RESPONSES: 'true',
      },
    });
    server = await startServer(config, createLogger('silent'));
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    doc = await res.json();
  });

  after(async () => {
    await server?.close();
    await rm(data, { recursive: true, force: true });
  });

  it('is valid OpenAPI 3.1', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('documents every route registered under /api/v1, with a success response', () => {
    const api = server.routes.filter((r) => r.url.startsWith('/api/v1/'));
    assert.ok(api.length > 40, `only ${api.length} routes seen`);
    const missing: string[] = [];
    for (const route of api) {
      if (route.hidden) {
        assert.ok(
          HIDDEN.some((h) => h.test(route.url)),
          `${route.method} ${route.url} is hidden from the document`,
        );
        continue;
      }
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      if (!operation) {
        missing.push(`${route.method} ${route.url}`);
        continue;
      }
      assert.ok(operation.summary, `${route.method} ${route.url} has no summary`);
      const success = Object.keys(operation.responses).filter((s) => /^2/.test(s));
      assert.ok(success.length > 0, `${route.method} ${route.url} documents no success response`);
      assert.ok(operation.responses.default, `${route.method} ${route.url} documents no problem reply`);
    }
    assert.deepEqual(missing, [], 'routes missing from the document');
    // Each method of the image wildcard dispatch stands for documented operations under it.
    for (const route of api.filter((r) => r.url.endsWith('/images/*'))) {
      const under = Object.entries(doc.paths as Record<string, Record<string, unknown>>).filter(
        ([p, item]) =>
          p.startsWith('/api/v1/repositories/{key}/images/{image}/') && item[route.method.toLowerCase()],
      );
      assert.ok(under.length > 0, `no image route documented for ${route.method}`);
    }
  });

  it('lists the image routes with their own parameters', () => {
    const history = doc.paths['/api/v1/repositories/{key}/images/{image}/tags/{tag}/history']?.get;
    assert.ok(history, Object.keys(doc.paths).join('\n'));
    const names = history.parameters.map((p: Json) => `${p.in}:${p.name}`);
    assert.deepEqual(names.sort(), ['path:image', 'path:key', 'path:tag', 'query:limit']);
    const events = history.responses['200'].content['application/json'].schema.properties.events;
    assert.equal(events.type, 'array');
  });

  it('documents the Artifactory-compatible promotion under /api/docker', () => {
    const promote = doc.paths['/api/docker/{repoKey}/v2/promote']?.post;
    assert.ok(promote, 'POST /api/docker/{repoKey}/v2/promote is not documented');
    const body = promote.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required.sort(), ['dockerRepository', 'targetRepo']);
  });

  it('has a browsable page whose assets are served from the package', async () => {
    const page = await fetch(`${server.url}/api/v1/docs/`, { redirect: 'follow' });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui/i);
    const script = html.match(/src="\.\/(static\/[^"]+\.js)"/)?.[1] ?? 'static/swagger-ui-bundle.js';
    const asset = await fetch(`${server.url}/api/v1/docs/${script}`);
    assert.equal(asset.status, 200);
    assert.ok((await asset.text()).length > 1000);
    const json = await fetch(`${server.url}/api/v1/docs/json`);
    assert.equal(json.status, 200);
    assert.equal(((await json.json()) as Json).openapi, '3.1.0');
  });

  it('answers a request that breaks its schema with a 400 naming the field', async () => {
    await problem(
      callApi(server.url, 'POST', '/tokens', { auth: basic, body: { name: 'ci', owner: 42 } }),
      400,
      /^field owner: owner must be a user name$/,
    );
    await problem(
      callApi(server.url, 'GET', '/tokens?all=maybe', { auth: basic }),
      400,
      /query parameter all: all must be true or false/,
    );
  });
});

describe('response checking', () => {
  /** A scope like /api/v1 with one route whose answer does not match its schema. */
  async function app(validateResponses: boolean) {
    const log = createLogger('silent');
    const fastify = Fastify({ loggerInstance: log });
    await fastify.register(
      async (scope) => {
        scope.setErrorHandler((error, request, reply) => sendProblem(reply, request, error, log));
        await apiDocs(scope, { validateResponses, extraPaths: () => ({}) });
        scope.get(
          '/thing',
          { schema: { summary: 'a thing', response: { 200: z.object({ count: z.number() }) } } },
          async () => ({ count: 'three' }),
        );
      },
      { prefix: '/api/v1' },
    );
    return fastify;
  }

  it('answers 500 for a response that does not match its schema', async () => {
    const fastify = await app(true);
    const res = await fastify.inject({ method: 'GET', url: '/api/v1/thing' });
    assert.equal(res.statusCode, 500);
    assert.match(String(res.headers['content-type']), /problem\+json/);
    assert.doesNotMatch(res.body, /three/);
    await fastify.close();
  });

  it('sends it unchecked when response checking is off (the production default)', async () => {
    const fastify = await app(false);
    const res = await fastify.inject({ method: 'GET', url: '/api/v1/thing' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { count: 'three' });
    await fastify.close();
  });
});
