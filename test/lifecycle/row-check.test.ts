/**
 * Rows whose bytes are gone (a file lost in a crash, or deleted by hand): at start-up Gantry
 * checks every digest its rows name against the store and removes the links of missing blobs,
 * so a client is no longer told the blob is there and the next push uploads it again.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { ADMIN_AUTH } from './gc-support.ts';

const gantries: RunningGantry[] = [];
after(async () => {
  for (const g of gantries) await g.stop();
});

test('links of blobs whose files are gone are removed at start-up, and a push stores them again', async () => {
  const first = await startGantry();
  gantries.push(first);
  const name = 'docker-dev-local/lost/app';
  const pushed = await new RegistryClient(first.url, { authorization: ADMIN_AUTH }).pushImage(name, '1');
  const layer = pushed.layers[0];
  assert.ok(layer);
  await first.stop({ keepData: true });
  const hex = layer.digest.slice('sha256:'.length);
  await rm(join(first.dataDir, 'storage', 'blobs', 'sha256', hex.slice(0, 2), hex));

  const second = await startGantry({ dataDir: first.dataDir, port: first.port });
  gantries.push(second);
  const client = new RegistryClient(second.url, { authorization: ADMIN_AUTH });
  let status = 0;
  for (let i = 0; i < 100; i++) {
    status = (await client.request('HEAD', `/v2/${name}/blobs/${layer.digest}`)).status;
    if (status === 404) break;
    await sleep(100);
  }
  assert.equal(status, 404, 'the lost blob is still announced as held');
  assert.match(second.output(), /rows whose stored bytes are gone/);
  // The client uploads it again; the image is whole once more.
  await client.pushBlob(name, layer);
  const got = await client.request('GET', `/v2/${name}/blobs/${layer.digest}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, layer.bytes);
});
