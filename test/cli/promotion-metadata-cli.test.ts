import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { digestOf, imageManifest, MEDIA, makeBlob, RegistryClient, type TestBlob } from '../support/http.ts';
import { type CliResult, runCli } from './support.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

/** Variables of CI systems and Gantry's own, removed so the host's environment cannot leak in. */
const CLEARED = /^(GANTRY_|GITHUB_|GITLAB_|CI_|JENKINS_|GIT_|BUILD_|JOB_NAME$)/;

describe('gantry props, search, build and trace commands', () => {
  let gantry: RunningGantry;
  let digest: string;
  const SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CLEARED.test(k)));
    return runCli(['--server', gantry.url, '--user', ADMIN.user, '--password', ADMIN.password, ...args], {
      ...base,
      ...env,
    });
  }
  const ok = async (args: string[], env?: Record<string, string>) => {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `gantry ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[], env?: Record<string, string>): Promise<Json> =>
    JSON.parse(await ok([...args, '--json'], env));
  // A request the server refused (`gantry: 404 …`) exits 1; a mistake the CLI catches itself, 2.
  const failed = async (args: string[], message: RegExp) => {
    const r = await cli(args);
    assert.equal(r.code, /^gantry: 4\d\d /.test(r.stderr) ? 1 : 2, `stdout: ${r.stdout}`);
    assert.match(r.stderr, message);
  };

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    const client = new RegistryClient(gantry.url, {
      authorization: basicAuth(ADMIN.user, ADMIN.password),
    });
    const bytes = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Labels: { 'org.opencontainers.image.revision': SHA, nonce: randomBytes(4).toString('hex') },
        },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const config: TestBlob = { bytes, digest: digestOf(bytes), mediaType: MEDIA.ociConfig };
    const layer = makeBlob(200);
    for (const blob of [config, layer]) await client.pushBlob('docker-dev-local/team/app', blob);
    const manifest = imageManifest({ config, layers: [layer] });
    await client.pushManifest('docker-dev-local/team/app', '1.0', manifest);
    digest = manifest.digest;
  });
  after(() => gantry.stop());

  it('props set, get and delete, by tag or digest', async () => {
    const set = await ok([
      'props',
      'set',
      'docker-dev-local/team/app:1.0',
      'qa.status=passed',
      'jira=APP-1',
      'jira=APP-2',
    ]);
    assert.match(set, new RegExp(`docker-dev-local/team/app@${digest}`));
    assert.match(set, /qa\.status\s+passed/);
    const got = await json(['props', 'get', `docker-dev-local/team/app@${digest}`]);
    assert.deepEqual(got.properties, { jira: ['APP-1', 'APP-2'], 'qa.status': ['passed'] });
    const deleted = await json(['props', 'delete', 'docker-dev-local/team/app:1.0', '--key', 'jira']);
    assert.deepEqual(deleted.properties, { 'qa.status': ['passed'] });
    await failed(
      ['props', 'delete', 'docker-dev-local/team/app:1.0'],
      /name the keys to remove, or pass --all/,
    );
    await failed(['props', 'get', 'docker-dev-local/team/app'], /name a digest or a tag/);
    await failed(
      ['props', 'get', 'docker-dev-local/team/app:2.0'],
      /404 Not Found: docker-dev-local\/team\/app has no tag 2\.0/,
    );
    await failed(
      ['props', 'set', 'docker-dev-local/team/app:1.0', 'bad key=x'],
      /400 Bad Request: property key "bad key"/,
    );
  });

  it('search by property and label', async () => {
    const found = await json([
      'search',
      '--property',
      'qa.status=passed',
      '--label',
      `org.opencontainers.image.revision=${SHA}`,
    ]);
    assert.deepEqual(found.results, [
      {
        repository: 'docker-dev-local',
        image: 'team/app',
        digest,
        tags: ['1.0'],
        properties: { 'qa.status': ['passed'] },
      },
    ]);
    const table = await ok(['search', '--name', 'team/']);
    assert.match(table, /^REPOSITORY\s+IMAGE\s+DIGEST\s+TAGS\s+PROPERTIES$/m);
    assert.match(table, /docker-dev-local\s+team\/app\s+sha256:[0-9a-f]{12}\s+1\.0\s+qa\.status=passed/);
    const byDigestAndTag = await json(['search', '--digest', digest.slice(0, 15), '--tag', '1.0']);
    assert.deepEqual(
      (byDigestAndTag.results as { digest: string }[]).map((r) => r.digest),
      [digest],
    );
    // A key alone matches any value of it; a key nobody set matches nothing.
    const anyValue = await json(['search', '--property', 'qa.status']);
    assert.deepEqual(
      (anyValue.results as { digest: string }[]).map((r) => r.digest),
      [digest],
    );
    assert.deepEqual((await json(['search', '--property', 'nobody.set.this'])).results, []);
    await failed(['search'], /say what to look for/);
  });

  it('build publish from GitHub Actions variables, build show, build list and trace', async () => {
    const github = {
      GITHUB_ACTIONS: 'true',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_SHA: SHA,
      GITHUB_REF_NAME: 'main',
      GITHUB_RUN_ID: '555',
      GITHUB_RUN_NUMBER: '12',
      GITHUB_WORKFLOW: 'ci',
    };
    const published = await ok(
      ['build', 'publish', '--artifact', `${digest}=team/app:1.0`, '--dependency', 'debian@12.5'],
      github,
    );
    assert.match(published, /published build acme-app-ci #12 with 1 artifact/);

    const shown = await json(['build', 'show', 'acme-app-ci', '12']);
    assert.deepEqual(shown.vcs, { url: 'https://github.com/acme/app', revision: SHA, branch: 'main' });
    assert.equal(shown.ciUrl, 'https://github.com/acme/app/actions/runs/555');
    assert.equal(shown.publishedBy, 'admin');
    assert.deepEqual(shown.artifacts[0].locations, [
      { repository: 'docker-dev-local', image: 'team/app', tags: ['1.0'] },
    ]);
    const text = await ok(['build', 'show', 'acme-app-ci', '12']);
    assert.match(text, /now in: docker-dev-local\/team\/app:1\.0/);

    const list = await ok(['build', 'list', '--name', 'acme-app-ci']);
    assert.match(list, new RegExp(`acme-app-ci\\s+12\\s+\\S+\\s+${SHA}\\s+main\\s+1\\s+admin`));

    const trace = await ok(['trace', digest]);
    assert.match(trace, new RegExp(`source:\\s+https://github.com/acme/app ${SHA} \\(main\\)`));
    assert.match(trace, /builds:\s+acme-app-ci #12/);
    assert.match(trace, /now in:\s+docker-dev-local\/team\/app:1\.0/);

    await failed(['build', 'publish'], /give --name and --number: no CI environment says it/);
    await failed(
      ['build', 'publish', '--name', 'x', '--number', '1', '--artifact', 'team/app'],
      /--artifact team\/app/,
    );
  });

  it('approve, and withdraw the approval: the approval gate passes, then fails again', async () => {
    const approvals = async () => {
      const res = await fetch(
        `${gantry.url}/api/v1/approvals?digest=${digest}&repository=docker-prod-local`,
        { headers: { authorization: basicAuth(ADMIN.user, ADMIN.password) } },
      );
      return ((await res.json()) as Json).approvals.map((a: Json) => [a.approver, a.comment]);
    };
    // Approvals are recorded only from members of a group the gate names.
    await failed(
      ['approve', digest, '--for', 'docker-prod-local'],
      /403 Forbidden: approvals for docker-prod-local count only from members of release-managers/,
    );
    const joined = await fetch(`${gantry.url}/api/v1/users/admin`, {
      method: 'PATCH',
      headers: { authorization: basicAuth(ADMIN.user, ADMIN.password), 'content-type': 'application/json' },
      body: JSON.stringify({ groups: ['release-managers'] }),
    });
    assert.equal(joined.status, 200);
    const approved = await ok(['approve', digest, '--for', 'docker-prod-local', '--comment', 'go']);
    assert.equal(approved.trim(), `approved ${digest} for docker-prod-local`);
    assert.deepEqual(await approvals(), [['admin', 'go']]);

    const withdrawn = await ok(['approve', digest, '--for', 'docker-prod-local', '--withdraw']);
    assert.equal(withdrawn.trim(), `withdrew your approval of ${digest} for docker-prod-local`);
    assert.deepEqual(await approvals(), []);
    await failed(
      ['approve', digest, '--for', 'docker-prod-local', '--withdraw'],
      /404 Not Found: admin has not approved sha256:[0-9a-f]{64} for docker-prod-local/,
    );
    await failed(
      ['approve', digest, '--for', 'docker-prod-local', '--approver', 'rm'],
      /--approver goes with --withdraw/,
    );
  });
});
