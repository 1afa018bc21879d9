/**
 * Graceful shutdown (issue #12, "Shutdown"): on SIGTERM the real server process stops accepting
 * connections at once, gives a request in flight the drain time, then closes it and exits 0;
 * the upload that request carried resumes after a restart.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startGantry } from '../support/gantry.ts';
import { expectBytes, expectStatus, makeBlob, RegistryClient, uniqueName } from '../support/http.ts';

const DRAIN_SECONDS = 2;

/** Resolves true when a connection is accepted, false when refused. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

test('SIGTERM: refuses new connections at once, drains for the configured time, exits 0; the upload resumes', async () => {
  const gantry = await startGantry({ env: { GANTRY_SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS) } });
  let restarted: Awaited<ReturnType<typeof startGantry>> | undefined;
  let stalled: Socket | undefined;
  try {
    const client = new RegistryClient(gantry.url);
    const ready = await fetch(`${gantry.url}/readyz`);
    assert.equal(ready.status, 200, 'ready before shutdown');
    const name = uniqueName('shutdown');
    const blob = makeBlob(4000);
    const location = await client.startUpload(name);
    const path = new URL(client.uploadUrl(location)).pathname;
    // A slow upload: half its body, then nothing (the body idle time is the default 60 s).
    stalled = connect({ host: '127.0.0.1', port: gantry.port });
    const socket = stalled;
    socket.on('error', () => {});
    const cut = new Promise<void>((done) => socket.once('close', () => done()));
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write(
      `PATCH ${path} HTTP/1.1\r\nHost: ${gantry.host}\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Length: ${blob.bytes.length}\r\n\r\n`,
    );
    socket.write(blob.bytes.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 300));

    const exited = new Promise<{ code: number | null; at: number }>((done) =>
      gantry.process.once('exit', (code) => done({ code, at: Date.now() })),
    );
    const signalled = Date.now();
    gantry.process.kill('SIGTERM');
    // New connections are refused at once, while the upload is still in flight.
    let refusedAfter: number | undefined;
    while (Date.now() - signalled < 1500) {
      if (!(await canConnect(gantry.port))) {
        refusedAfter = Date.now() - signalled;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(refusedAfter !== undefined, 'new connections were still accepted 1.5 s after SIGTERM');
    const { code, at } = await exited;
    await cut;
    assert.equal(code, 0, `exit code ${code}:\n${gantry.output().slice(-2000)}`);
    const took = at - signalled;
    assert.ok(took >= DRAIN_SECONDS * 1000 - 200, `exited after ${took} ms, before the drain time`);
    assert.ok(took < DRAIN_SECONDS * 1000 + 5000, `exited after ${took} ms, long after the drain time`);

    restarted = await startGantry({ dataDir: gantry.dataDir });
    const again = new RegistryClient(restarted.url);
    const status = await again.request('GET', again.uploadUrl(location.replace(gantry.url, '')));
    expectStatus(status, 204, 'upload status after the restart');
    assert.equal(status.headers.get('range'), '0-999', 'the bytes received before shutdown are kept');
    const rest = await again.request('PATCH', again.uploadUrl(location.replace(gantry.url, '')), {
      headers: {
        'content-range': `1000-${blob.bytes.length - 1}`,
        'content-type': 'application/octet-stream',
      },
      body: blob.bytes.subarray(1000),
    });
    expectStatus(rest, 202, 'the rest of the upload after the restart');
    const put = await again.request(
      'PUT',
      again.uploadUrl(rest.headers.get('location') ?? location.replace(gantry.url, ''), {
        digest: blob.digest,
      }),
    );
    expectStatus(put, 201, 'closing the resumed upload');
    expectBytes((await again.request('GET', `/v2/${name}/blobs/${blob.digest}`)).body, blob.bytes);
  } finally {
    stalled?.destroy();
    await restarted?.stop();
    await gantry.stop();
  }
});
