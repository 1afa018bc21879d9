import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callApi, problem } from '../api/support.ts';
import { createRoles, PASSWORD } from '../auth/support.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { RegistryClient } from '../support/http.ts';
import { type CliResult, runCli } from './support.ts';

/** `gantry retention run [--dry-run]` and `gantry usage` against a running Gantry. */
describe('gantry retention run and gantry usage', () => {
  let gantry: RunningGantry;
  const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GANTRY_')));
  const cli = (args: string[]): Promise<CliResult> =>
    runCli(['--server', gantry.url, '--user', ADMIN.user, '--password', ADMIN.password, ...args], env());

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    const registry = new RegistryClient(gantry.url, { authorization: basicAuth(ADMIN.user, ADMIN.password) });
    for (const tag of ['old', 'new']) {
      await registry.pushImage('docker-dev-local/app', tag);
      await new Promise((done) => setTimeout(done, 5));
    }
    const res = await callApi(gantry.url, 'PATCH', '/repositories/docker-dev-local', {
      auth: basicAuth(ADMIN.user, ADMIN.password),
      body: { settings: { retention: { rules: [{ keep: 'last', count: 1 }] } } },
    });
    assert.equal(res.status, 200, res.text);
  });
  after(() => gantry.stop());

  it('a dry run lists what would go and removes nothing; a run removes it', async () => {
    const dry = await cli(['retention', 'run', 'docker-dev-local', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would remove\s+app\s+old\s+sha256:\S+\s+no keep rule matched/);
    assert.doesNotMatch(dry.stdout, /\bnew\b/);
    assert.match(dry.stdout, /dry run: would remove 1 tags and 0 manifests; nothing was removed/);
    const run = await cli(['retention', 'run', 'docker-dev-local']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /removed 1 tags and 0 manifests/);
    const again = await cli(['retention', 'run', 'docker-dev-local', '--dry-run', '--json']);
    const reply = JSON.parse(again.stdout) as { items: { tag?: string; action: string }[] };
    assert.deepEqual(
      reply.items.filter((i) => i.tag).map((i) => `${i.tag} ${i.action}`),
      ['new keep'],
    );
  });

  it('a repository without rules, or an unknown one, is refused (exit 1) with the fix', async () => {
    const none = await cli(['retention', 'run', 'docker-staging-local']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no retention rules; set settings\.retention/);
    const unknown = await cli(['retention', 'run', 'docker-nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /does not exist/);
  });

  it('running retention needs manage on the repository; usage shows only what the caller reads', async () => {
    await createRoles(gantry.url);
    const evaluate = (auth: string) =>
      callApi(gantry.url, 'POST', '/retention/docker-dev-local/evaluate', { auth, body: { dryRun: true } });
    await problem(evaluate(''), 401, /sign in to manage in repository docker-dev-local/);
    await problem(
      evaluate(basicAuth('dev', PASSWORD)),
      403,
      /may not manage in docker-dev-local|may not manage in repository docker-dev-local/,
    );
    const usage = await callApi(gantry.url, 'GET', '/usage', { auth: basicAuth('customer', PASSWORD) });
    assert.equal(usage.status, 200, usage.text);
    assert.deepEqual(
      usage.body.repositories.map((r: { key: string }) => r.key),
      ['docker-prod-local'],
      'customers read production only',
    );
  });

  it('gantry usage prints each repository and the total', async () => {
    const r = await cli(['usage']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /REPOSITORY\s+KIND\s+UNIQUE\s+LOGICAL\s+QUOTA\s+STATE/);
    assert.match(r.stdout, /docker-dev-local\s+local\s+\d/);
    assert.match(r.stdout, /^total\s+\d/m);
  });
});
