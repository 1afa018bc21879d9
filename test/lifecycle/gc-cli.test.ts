/** `gantry gc`, `gantry gc runs` and `gantry fsck` against a running server. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type CliResult, runCli } from '../cli/support.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient, uniqueName } from '../support/http.ts';

let gantry: RunningGantry;
const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GANTRY_')));
const cli = (args: string[]): Promise<CliResult> =>
  runCli(['--server', gantry.url, '--user', ADMIN.user, '--password', ADMIN.password, ...args], env());

before(async () => {
  gantry = await startGantry();
});
after(() => gantry.stop());

test('gantry gc --dry-run lists, gc --wait removes with progress, gc runs lists, fsck is clean', async () => {
  const client = new RegistryClient(gantry.url);
  const image = await client.pushImage(uniqueName('cli-gc'), 'v1', { layerSizes: [10_000] });
  const del = await client.request('DELETE', `/v2/${image.name}/manifests/${image.manifest.digest}`);
  assert.equal(del.status, 202);

  const dry = await cli(['gc', '--dry-run', '--grace', '0s']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /tests and emergencies/);
  assert.ok(dry.stdout.includes(image.layers[0]!.digest), dry.stdout);
  assert.match(dry.stdout, /would remove \d+ blobs/);

  const real = await cli(['gc', '--grace', '0s', '--wait']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stderr, /links, \d+ blobs/, 'progress lines');
  assert.match(real.stdout, /finished: removed [1-9]\d* blobs/);

  const runs = await cli(['gc', 'runs']);
  assert.equal(runs.code, 0, runs.stderr);
  assert.equal(runs.stdout.trim().split('\n').length, 3, runs.stdout); // header + two runs

  const fsck = await cli(['fsck']);
  assert.equal(fsck.code, 0, fsck.stderr);
  assert.match(fsck.stdout, /no problems found/);

  const bad = await cli(['gc', '--grace', 'soon']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /no duration/);
});
