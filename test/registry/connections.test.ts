/**
 * Connection safety (issue #12, "Connections"): garbage pipelined after a request never lands
 * inside the response still streaming, absolute-form request targets are routed, and a request
 * body that stops arriving is cut while the upload stays resumable. Raw sockets throughout.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  expectBytes,
  expectStatus,
  makeBlob,
  parseResponses,
  RegistryClient,
  socketExchange,
  uniqueName,
} from '../support/http.ts';

const IDLE_SECONDS = 1;

let gantry: RunningGantry;
let client: RegistryClient;

before(async () => {
  gantry = await startGantry({ env: { GANTRY_BODY_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) } });
  client = new RegistryClient(gantry.url);
});
after(() => gantry?.stop());

describe('garbage after a complete request', () => {
  test('a blob still streaming arrives intact, then the connection closes', async () => {
    const name = uniqueName('garbage');
    const blob = makeBlob(16 * 1024 * 1024);
    await client.pushBlob(name, blob);
    const host = new URL(gantry.url).host;
    const exchange = await socketExchange(
      gantry.url,
      `GET /v2/${name}/blobs/${blob.digest} HTTP/1.1\r\nHost: ${host}\r\n\r\n\x01\x02 not HTTP at all\r\n\r\n`,
      { timeoutMs: 20_000 },
    );
    const responses = parseResponses(exchange.data);
    assert.equal(responses[0]?.status, 200, 'the blob answer');
    expectBytes(responses[0]?.body ?? Buffer.alloc(0), blob.bytes, 'blob after pipelined garbage');
    assert.equal(responses.length, 1, `more than the blob came back: ${responses.map((r) => r.status)}`);
    assert.ok(exchange.closedByServer, 'the connection stays open after garbage');
  });
});

describe('absolute-form request targets', () => {
  test('GET http://host/v2/… is routed like GET /v2/…', async () => {
    const image = await client.pushImage(uniqueName('absolute'), 'v1');
    const host = new URL(gantry.url).host;
    const exchange = await socketExchange(
      gantry.url,
      `GET http://${host}/v2/ HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
        `GET http://${host}/v2/${image.name}/tags/list HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      { timeoutMs: 5000 },
    );
    const [ping, tags] = parseResponses(exchange.data);
    // /v2/ wants a signed-in caller: 401 with the API version header is the registry answering.
    assert.equal(ping?.status, 401, exchange.data.toString('latin1').slice(0, 300));
    assert.equal(ping?.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.equal(tags?.status, 200, exchange.data.toString('latin1').slice(0, 300));
    assert.deepEqual((JSON.parse(tags.body.toString()) as { tags: string[] }).tags, ['v1']);
  });
});

describe('stalled request bodies', () => {
  test('a PATCH that stops sending is cut after the idle time; the upload resumes from what arrived', async () => {
    const name = uniqueName('stalled');
    const blob = makeBlob(4000);
    const location = await client.startUpload(name);
    const path = new URL(client.uploadUrl(location)).pathname;
    const host = new URL(gantry.url).host;
    const started = Date.now();
    const closedAfter = await new Promise<number>((done, fail) => {
      const socket = connect({ host: '127.0.0.1', port: gantry.port });
      const limit = setTimeout(() => {
        socket.destroy();
        fail(new Error('the stalled connection was not cut within 15 s'));
      }, 15_000);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(limit);
        done(Date.now() - started);
      });
      socket.on('connect', () => {
        socket.write(
          `PATCH ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\n` +
            `Content-Length: ${blob.bytes.length}\r\n\r\n`,
        );
        socket.write(blob.bytes.subarray(0, 1000));
        // …and nothing more.
      });
    });
    assert.ok(closedAfter >= IDLE_SECONDS * 1000 - 100, `cut after ${closedAfter} ms, before the idle time`);
    // The cut write settles on the server before the status reflects it.
    let range: string | null = null;
    for (let i = 0; i < 50 && range !== '0-999'; i++) {
      const status = await client.request('GET', client.uploadUrl(location));
      expectStatus(status, 204, 'upload status after the cut');
      range = status.headers.get('range');
      if (range !== '0-999') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(range, '0-999', 'the bytes that arrived stay in the upload');
    const rest = await client.request('PATCH', client.uploadUrl(location), {
      headers: {
        'content-range': `1000-${blob.bytes.length - 1}`,
        'content-type': 'application/octet-stream',
      },
      body: blob.bytes.subarray(1000),
    });
    expectStatus(rest, 202, 'the rest after the cut');
    const put = await client.request(
      'PUT',
      client.uploadUrl(rest.headers.get('location') ?? location, { digest: blob.digest }),
    );
    expectStatus(put, 201, 'closing the resumed upload');
    expectBytes((await client.request('GET', `/v2/${name}/blobs/${blob.digest}`)).body, blob.bytes);
  });
});
