import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushSingle, registry } from '../api/promotion-support.ts';
import { ADMIN, freePort, PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type CliResult, runCli } from './support.ts';

const CLEARED = /^GANTRY_/;

/** The documented exit codes: 0 done, 1 the answer was no, 2 usage error, 3 no answer. */
describe('gantry exit codes', () => {
  let gantry: RunningGantry;
  const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !CLEARED.test(k)));
  const cli = (args: string[]): Promise<CliResult> =>
    runCli(['--server', gantry.url, '--user', ADMIN.user, '--password', ADMIN.password, ...args], env());

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // No labels, no healthcheck, root: the checklist fails; no qa.status: staging's gate fails.
    await pushSingle(registry(gantry.url), 'docker-dev-local/team/app', '1.0');
  });
  after(() => gantry.stop());

  it('a failing checklist exits 1, after printing it', async () => {
    const r = await cli(['check', 'docker-dev-local/team/app:1.0']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /verdict: fail/);
    assert.equal(r.stderr, '');
  });

  it('a dry run the gates would refuse exits 1; one they pass exits 0', async () => {
    const refused = await cli([
      'promote',
      'docker-dev-local/team/app:1.0',
      '--to',
      'docker-staging-local',
      '--dry-run',
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stdout, /would be refused/);
    assert.equal((await cli(['props', 'set', 'docker-dev-local/team/app:1.0', 'qa.status=passed'])).code, 0);
    const passing = await cli([
      'promote',
      'docker-dev-local/team/app:1.0',
      '--to',
      'docker-staging-local',
      '--dry-run',
    ]);
    assert.equal(passing.code, 0, passing.stderr);
    assert.match(passing.stdout, /would promote/);
  });

  it('a request the server refuses exits 1', async () => {
    const r = await cli(['props', 'get', 'docker-dev-local/team/app:9.9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^gantry: 404 Not Found: /);
  });

  it('usage errors exit 2: unknown option, missing argument, contradicting options', async () => {
    const unknown = await cli(['repo', 'list', '--no-such-option']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--no-such-option'/);
    assert.equal((await cli(['promote', 'docker-dev-local/team/app:1.0'])).code, 2, 'no --to');
    assert.equal((await cli(['no-such-command'])).code, 2);
    const both = await cli([
      'tag',
      'rollback',
      'docker-dev-local/team/app:1.0',
      '--to',
      'sha256:00',
      '--steps',
      '1',
    ]);
    assert.equal(both.code, 2, both.stderr);
    assert.equal((await runCli(['--help'], env())).code, 0, 'help asked for is no error');
  });

  it('an unreachable server exits 3', async () => {
    const port = await freePort();
    const r = await runCli(['--server', `http://127.0.0.1:${port}`, 'repo', 'list'], env());
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^gantry: cannot reach Gantry at .*ECONNREFUSED/);
  });

  it('output into a reader that closed early ends quietly, without a stack trace', async () => {
    const gantryBin = join(PROJECT_ROOT, 'bin', 'gantry.js');
    for (const reader of ['head -1', 'true']) {
      const r = await shell(
        `"${process.execPath}" "${gantryBin}" --server ${gantry.url} --user ${ADMIN.user} --password ${ADMIN.password} repo list | ${reader}`,
      );
      assert.equal(r.stderr, '', `| ${reader}`);
      assert.equal(r.pipeStatus, '0', `| ${reader}: gantry's own exit code`);
    }
  });
});

/** Runs a pipeline in bash, reporting the first command's exit code (PIPESTATUS[0]) and stderr. */
function shell(pipeline: string): Promise<{ stderr: string; pipeStatus: string }> {
  const child = spawn('bash', ['-c', `${pipeline}; echo "status=\${PIPESTATUS[0]}" >&2`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  return new Promise((done) =>
    child.once('close', () => {
      const status = /status=(\d+)\n$/.exec(stderr)?.[1] ?? '?';
      done({ stderr: stderr.replace(/status=\d+\n$/, ''), pipeStatus: status });
    }),
  );
}
