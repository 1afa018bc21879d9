/**
 * Upload sessions and pushed images survive a restart of the server on the same data directory,
 * whether it was stopped (SIGTERM) or killed (SIGKILL).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  expectBytes,
  expectStatus,
  makeBlob,
  RegistryClient,
  type Reply,
  uniqueName,
} from '../support/http.ts';
import { needsOwnProcess } from './target.ts';

let gantry: RunningGantry;
let client: RegistryClient;

before(async () => {
  if (needsOwnProcess) return;
  gantry = await startGantry();
  client = new RegistryClient(gantry.url);
});
after(async () => {
  if (!gantry) return;
  await gantry.stop();
  await rm(gantry.dataDir, { recursive: true, force: true });
});

/** Stops (or kills) the server and starts it again on the same data dir and port. */
async function restart(how: 'stop' | 'kill'): Promise<void> {
  if (how === 'stop') await gantry.stop({ keepData: true });
  else await gantry.kill();
  gantry = await startGantry({ dataDir: gantry.dataDir, port: gantry.port });
  client = new RegistryClient(gantry.url);
}

function patch(location: string, body: Buffer, start: number): Promise<Reply> {
  return client.request('PATCH', client.uploadUrl(location), {
    headers: {
      'content-type': 'application/octet-stream',
      'content-range': `${start}-${start + body.length - 1}`,
    },
    body,
  });
}

describe('restarts', { skip: needsOwnProcess }, () => {
  for (const how of ['stop', 'kill'] as const) {
    test(`an upload session continues after a ${how} and restart`, async () => {
      const name = uniqueName(`restart-${how}`);
      const blob = makeBlob(600_000);
      const half = 250_000;
      let location = await client.startUpload(name);
      const first = await patch(location, blob.bytes.subarray(0, half), 0);
      expectStatus(first, 202, 'first PATCH');
      location = first.headers.get('location') ?? location;

      await restart(how);

      const status = await client.request('GET', client.uploadUrl(location));
      expectStatus(status, 204, `upload status after ${how}`);
      assert.equal(status.headers.get('range'), `0-${half - 1}`);
      const second = await patch(location, blob.bytes.subarray(half), half);
      expectStatus(second, 202, `PATCH after ${how}`);
      assert.equal(second.headers.get('range'), `0-${blob.bytes.length - 1}`);
      location = second.headers.get('location') ?? location;
      const put = await client.request('PUT', client.uploadUrl(location, { digest: blob.digest }));
      expectStatus(put, 201, `PUT after ${how}`);
      const res = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
      expectStatus(res, 200);
      expectBytes(res.body, blob.bytes, 'blob assembled across the restart');
    });

    test(`a pushed image is served after a ${how} and restart`, async () => {
      const image = await client.pushImage(uniqueName(`restart-img-${how}`), 'v1', { layerSizes: [50_000] });
      await restart(how);
      const manifest = await client.getManifest(image.name, 'v1');
      expectStatus(manifest, 200);
      expectBytes(manifest.body, image.manifest.bytes, 'manifest');
      const layer = image.layers[0]!;
      const blob = await client.request('GET', `/v2/${image.name}/blobs/${layer.digest}`);
      expectBytes(blob.body, layer.bytes, 'layer');
      const tags = await client.tags(image.name);
      assert.deepEqual(tags.json<{ tags: string[] }>().tags, ['v1']);
    });
  }
});
