import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/config/logger.ts';
import { ConnectionGuard, originForm } from '../../src/http-connections.ts';

describe('ConnectionGuard.drain', () => {
  it('turns readiness false at once and closes a request still in flight after the drain time', async () => {
    const guard = new ConnectionGuard({ bodyIdleTimeoutMs: 60_000, log: createLogger('silent') });
    const server = createServer(() => {
      // Never answers: the request stays in flight until the drain closes it.
    });
    guard.watch(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now())));
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(guard.draining, false);
    const started = Date.now();
    let readyWhileClosing: boolean | undefined;
    await guard.drain(300, async () => {
      readyWhileClosing = !guard.draining;
      await new Promise((done) => server.close(done));
    });
    assert.equal(readyWhileClosing, false, 'readiness was still true while draining');
    const at = await closed;
    assert.ok(at - started >= 250, `closed after ${at - started} ms, before the drain time`);
    assert.ok(at - started < 3000, `closed after ${at - started} ms`);
  });
});

describe('ConnectionGuard.drain with a request that finishes in time', () => {
  it('answers it in full with Connection: close and ends without waiting for the drain time', async () => {
    const guard = new ConnectionGuard({ bodyIdleTimeoutMs: 60_000, log: createLogger('silent') });
    const server = createServer((_req, res) => {
      setTimeout(() => res.end('done'), 300);
    });
    server.keepAliveTimeout = 65_000;
    guard.watch(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.on('data', (b: Buffer) => {
      received += b.toString('latin1');
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await guard.drain(10_000, () => new Promise<void>((done) => server.close(() => done())));
    await closed;
    assert.ok(Date.now() - started < 3000, `drain took ${Date.now() - started} ms for a 300 ms request`);
    assert.match(received, /^HTTP\/1.1 200/);
    assert.match(received, /connection: close/i);
    assert.ok(received.endsWith('done'), received);
  });
});

describe('originForm', () => {
  const req = (url: string, host = 'h') => ({ url, headers: { host } }) as unknown as IncomingMessage;
  it('turns an absolute-form target into origin form and takes its authority as Host', () => {
    const r = req('http://registry.test:5000/v2/a/b/tags/list?n=1');
    assert.equal(originForm(r), '/v2/a/b/tags/list?n=1');
    assert.equal(r.headers.host, 'registry.test:5000');
    assert.equal(originForm(req('HTTP://x')), '/');
    assert.equal(originForm(req('/v2/')), '/v2/');
    assert.equal(originForm(req('/v2/http://x')), '/v2/http://x');
  });
});
