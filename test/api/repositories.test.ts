import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';

const run = promisify(execFile);

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function gantryCli(server: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      join(PROJECT_ROOT, 'bin', 'gantry.js'),
      '--server',
      server,
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('repositories API and CLI', () => {
  let gantry: RunningGantry;
  const api = (path: string, init?: RequestInit) => fetch(`${gantry.url}/api/v1${path}`, init);
  const post = (body: unknown) =>
    api('/repositories', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    gantry = await startGantry();
  });
  after(() => gantry.stop());

  it('starts with the default pipeline: three locals and the virtual repositories over them', async () => {
    const body = await json(await api('/repositories'));
    const repos = body.repositories as { key: string; kind: string; settings: Record<string, unknown> }[];
    assert.deepEqual(
      repos.map((r) => [r.key, r.kind]),
      [
        ['docker', 'virtual'],
        ['docker-dev-local', 'local'],
        ['docker-hub-remote', 'remote'],
        ['docker-prod', 'virtual'],
        ['docker-prod-local', 'local'],
        ['docker-staging-local', 'local'],
      ],
    );
    assert.deepEqual(repos[0]?.settings, {
      members: ['docker-dev-local', 'docker-staging-local', 'docker-prod-local', 'docker-hub-remote'],
      deploymentRepository: 'docker-dev-local',
    });
    assert.deepEqual(repos[2]?.settings, {
      url: 'https://registry-1.docker.io',
      pathPrefix: 'library/',
      ttlSeconds: 300,
      offline: false,
    });
    assert.deepEqual(repos[3]?.settings, { members: ['docker-prod-local'] });
  });

  it('creates, reads and deletes a repository, and the registry serves it in between', async () => {
    const created = await post({ key: 'docker-qa-local', description: 'QA' });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/api/v1/repositories/docker-qa-local');
    assert.equal((await json(await api('/repositories/docker-qa-local'))).description, 'QA');
    const tags = await fetch(`${gantry.url}/v2/docker-qa-local/app/tags/list`);
    assert.equal(tags.status, 404);
    const { errors } = (await tags.json()) as { errors: { code: string; message: string }[] };
    assert.equal(errors[0]?.code, 'NAME_UNKNOWN');
    // Names the image inside the new repository, not `docker-qa-local/app` inside the default one.
    assert.equal(errors[0]?.message, 'nothing has been pushed to docker-qa-local/app');
    assert.equal((await api('/repositories/docker-qa-local', { method: 'DELETE' })).status, 204);
    assert.equal((await api('/repositories/docker-qa-local')).status, 404);
  });

  it('answers problems a person can act on', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ key: 'docker-dev-local' }, 409, /exists already/],
      [{ key: 'Bad Key' }, 400, /repository key "Bad Key" is invalid/],
      [{ key: 'x', kind: 'weird' }, 400, /kind must be one of local, remote, virtual/],
      [{ key: 'x', kind: 'remote' }, 400, /settings.url must be the upstream registry URL/],
      [{ key: 7 }, 400, /key must be a string/],
      [[1, 2], 400, /JSON object/],
    ];
    for (const [body, status, detail] of cases) {
      const res = await post(body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = await json(res);
      assert.equal(problem.status, status);
      assert.match(String(problem.detail), detail);
    }
    const malformed = await api('/repositories', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"key":',
    });
    assert.equal(malformed.status, 400);
    assert.equal((await json(malformed)).status, 400);
    const missing = await api('/repositories/nope', { method: 'DELETE' });
    assert.equal(missing.status, 404);
    assert.match(String((await json(missing)).detail), /repository nope does not exist/);
  });

  it('gantry repo list/create/delete work against the server and fail with a plain message', async () => {
    const created = await gantryCli(
      gantry.url,
      'repo',
      'create',
      'docker-cli-local',
      '--description',
      'from the CLI',
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created local repository docker-cli-local/);
    const listed = await gantryCli(gantry.url, 'repo', 'list');
    assert.match(listed.stdout, /docker-cli-local\s+local\s+from the CLI/);
    const again = await gantryCli(gantry.url, 'repo', 'create', 'docker-cli-local');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^gantry: 409 Conflict: repository docker-cli-local exists already\n$/);
    assert.equal((await gantryCli(gantry.url, 'repo', 'delete', 'docker-cli-local')).code, 0);
    const unreachable = await gantryCli('http://127.0.0.1:9', 'repo', 'list');
    assert.equal(unreachable.code, 3, 'no answer from the server');
    assert.match(unreachable.stderr, /cannot reach Gantry at http:\/\/127\.0\.0\.1:9/);
  });
});
