/** What the garbage collection tests share: starting runs, waiting for them, measuring the store. */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callApi, type Json } from '../api/support.ts';
import { ADMIN, basicAuth } from '../support/gantry.ts';

export const ADMIN_AUTH = basicAuth(ADMIN.user, ADMIN.password);

/** POST /api/v1/gc and wait until the run ends; the finished run (with a dry run's items). */
export async function runGc(url: string, body: { dryRun?: boolean; graceSeconds?: number }): Promise<Json> {
  const started = await callApi(url, 'POST', '/gc', { auth: ADMIN_AUTH, body });
  assert.equal(started.status, 202, started.text);
  return waitForRun(url, started.body.run.id);
}

export async function waitForRun(url: string, id: string, timeoutMs = 120_000): Promise<Json> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const reply = await callApi(url, 'GET', `/gc/runs/${id}`, { auth: ADMIN_AUTH });
    assert.equal(reply.status, 200, reply.text);
    if (reply.body.run.state !== 'running') return reply.body.run;
    if (Date.now() > until) assert.fail(`run ${id} still running: ${reply.text}`);
    await sleep(100);
  }
}

/** Every blob file under the data directory's store: digest → size. */
export async function storedBlobs(dataDir: string): Promise<Map<string, number>> {
  const root = join(dataDir, 'storage', 'blobs');
  const found = new Map<string, number>();
  for (const algorithm of await readdir(root)) {
    for (const fanOut of await readdir(join(root, algorithm))) {
      for (const name of await readdir(join(root, algorithm, fanOut))) {
        found.set(`${algorithm}:${name}`, (await stat(join(root, algorithm, fanOut, name))).size);
      }
    }
  }
  return found;
}

export function total(blobs: Map<string, number>): number {
  let sum = 0;
  for (const size of blobs.values()) sum += size;
  return sum;
}
