import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../auth/support.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type CliResult, runCli } from './support.ts';

/** `gantry repo create/update` with settings from a file and from options, for every kind. */
describe('gantry repo create/update with settings', () => {
  let gantry: RunningGantry;
  let dir: string;
  const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GANTRY_')));
  const cli = (args: string[], input?: string): Promise<CliResult> =>
    runCli(
      ['--server', gantry.url, '--user', ADMIN.user, '--password', ADMIN.password, ...args],
      env(),
      input,
    );
  const ok = async (args: string[], input?: string) => {
    const r = await cli(args, input);
    assert.equal(r.code, 0, `gantry ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const settingsOf = async (key: string): Promise<Record<string, unknown>> => {
    const res = await api(gantry.url, 'GET', `/repositories/${key}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.settings as Record<string, unknown>;
  };
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    dir = await mkdtemp(join(tmpdir(), 'gantry-repo-cli-'));
  });
  after(async () => {
    await gantry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a local repository with gates and tag rules from a YAML file; update replaces them from JSON', async () => {
    const yaml = await file(
      'qa.yaml',
      [
        'gates:',
        '  - { type: property, key: qa.status, equals: passed }',
        '  - { type: approval, group: release-managers }',
        'tags:',
        '  immutable: [semver]',
        '  floating: true',
        '',
      ].join('\n'),
    );
    assert.match(
      await ok(['repo', 'create', 'docker-qa-local', '--settings-file', yaml]),
      /created local repository/,
    );
    const created = await settingsOf('docker-qa-local');
    assert.deepEqual(created.gates, [
      { type: 'property', key: 'qa.status', equals: 'passed' },
      { type: 'approval', group: 'release-managers' },
    ]);
    assert.deepEqual(created.tags, { immutable: ['semver'], floating: true });
    const json = await file('build.json', JSON.stringify({ gates: [{ type: 'build' }] }));
    await ok(['repo', 'update', 'docker-qa-local', '--settings-file', json]);
    const updated = await settingsOf('docker-qa-local');
    assert.deepEqual(updated.gates, [{ type: 'build' }]);
    assert.equal(updated.tags, undefined, 'the file replaces the settings');
  });

  it('a remote repository with all its settings from options, the password from stdin', async () => {
    await ok(
      [
        'repo',
        'create',
        'quay-remote',
        '--kind',
        'remote',
        '--url',
        'https://quay.io',
        '--path-prefix',
        'library/',
        '--ttl',
        '600',
        '--offline',
        '--username',
        'robot',
        '--password-stdin',
      ],
      'upstream-secret\n',
    );
    assert.deepEqual(await settingsOf('quay-remote'), {
      url: 'https://quay.io',
      pathPrefix: 'library/',
      ttlSeconds: 600,
      offline: true,
      username: 'robot',
      password: '********',
    });
    await ok(['repo', 'update', 'quay-remote', '--ttl', '60']);
    const updated = await settingsOf('quay-remote');
    assert.equal(updated.ttlSeconds, 60);
    assert.equal(updated.password, '********', 'the stored password is kept');
  });

  it('a remote repository from a YAML file; options win over the file', async () => {
    const yaml = await file(
      'hub.yaml',
      'url: https://registry-1.docker.io\npathPrefix: library/\nttlSeconds: 300\n',
    );
    await ok(['repo', 'create', 'hub-remote', '--kind', 'remote', '--settings-file', yaml, '--ttl', '900']);
    assert.deepEqual(await settingsOf('hub-remote'), {
      url: 'https://registry-1.docker.io',
      pathPrefix: 'library/',
      ttlSeconds: 900,
      offline: false,
    });
  });

  it('a virtual repository from a file, its members changed by an option', async () => {
    const yaml = await file(
      'all.yaml',
      'members: [docker-dev-local, docker-staging-local]\ndeploymentRepository: docker-dev-local\n',
    );
    await ok(['repo', 'create', 'all-virtual', '--kind', 'virtual', '--settings-file', yaml]);
    assert.deepEqual(await settingsOf('all-virtual'), {
      members: ['docker-dev-local', 'docker-staging-local'],
      deploymentRepository: 'docker-dev-local',
    });
    await ok(['repo', 'update', 'all-virtual', '--members', 'docker-dev-local,quay-remote']);
    assert.deepEqual(await settingsOf('all-virtual'), {
      members: ['docker-dev-local', 'quay-remote'],
      deploymentRepository: 'docker-dev-local',
    });
  });

  it('mistakes: the CLI catches its own (exit 2), the server names what is wrong with the settings (exit 1)', async () => {
    const missing = await cli(['repo', 'create', 'x-local', '--settings-file', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^gantry: cannot read .*nope\.yaml/);
    const broken = await file('broken.yaml', 'gates: [unclosed\n');
    const unparsable = await cli(['repo', 'create', 'x-local', '--settings-file', broken]);
    assert.equal(unparsable.code, 2);
    assert.match(unparsable.stderr, /is neither YAML nor JSON/);
    const list = await file('list.yaml', '- a\n- b\n');
    assert.equal((await cli(['repo', 'create', 'x-local', '--settings-file', list])).code, 2);
    assert.equal((await cli(['repo', 'create', 'x-remote', '--kind', 'remote', '--ttl', 'soon'])).code, 2);
    assert.equal((await cli(['repo', 'update', 'docker-qa-local'])).code, 2, 'nothing to change');
    const noUrl = await cli(['repo', 'create', 'x-remote', '--kind', 'remote']);
    assert.equal(noUrl.code, 1);
    assert.match(
      noUrl.stderr,
      /^gantry: 400 Bad Request: invalid settings for x-remote: settings\.url must be/,
    );
    const badGate = await file('bad.json', JSON.stringify({ gates: [{ type: 'nonsense' }] }));
    const refused = await cli(['repo', 'create', 'x-local', '--settings-file', badGate]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^gantry: 400 Bad Request: invalid settings for x-local/);
    assert.equal((await api(gantry.url, 'GET', '/repositories/x-local')).status, 404, 'nothing was created');
  });
});
