import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { ADMIN, basicAuth, PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  expectOciError,
  expectStatus,
  imageManifest,
  makeBlob,
  makeConfig,
  RegistryClient,
  type TestManifest,
  uniqueName,
} from '../support/http.ts';

const run = promisify(execFile);

interface HistoryReply {
  repository: string;
  image: string;
  tag: string;
  events: { oldDigest: string | null; newDigest: string | null; actor: string; cause: string; at: string }[];
}

describe('disciplined tags: immutable, floating, history and rollback', () => {
  let gantry: RunningGantry;
  let anon: RegistryClient;
  let admin: RegistryClient;
  const adminAuth = basicAuth(ADMIN.user, ADMIN.password);

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gantry.url}/api/v1${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** `/repositories/<repo>/images/<image>/tags/<tag>/<what>` for a full name `repo/image`. */
  const tagPath = (name: string, tag: string, what: string) => {
    const slash = name.indexOf('/');
    return `/repositories/${name.slice(0, slash)}/images/${name.slice(slash + 1)}/tags/${tag}/${what}`;
  };
  const history = async (name: string, tag: string, query = '') => {
    const res = await api('GET', `${tagPath(name, tag, 'history')}${query}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as HistoryReply;
  };
  const rollback = (name: string, tag: string, body?: unknown) =>
    api('POST', tagPath(name, tag, 'rollback'), body);

  /** A new image (config + layer) in `name`, its manifest not pushed yet. */
  async function prepare(client: RegistryClient, name: string): Promise<TestManifest> {
    const config = makeConfig();
    const layer = makeBlob(256);
    await client.pushBlob(name, config);
    await client.pushBlob(name, layer);
    return imageManifest({ config, layers: [layer] });
  }
  async function pushNew(client: RegistryClient, name: string, tag: string): Promise<TestManifest> {
    const manifest = await prepare(client, name);
    await client.pushManifest(name, tag, manifest);
    return manifest;
  }
  async function resolve(name: string, tag: string): Promise<string | null> {
    const res = await anon.request('HEAD', `/v2/${name}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    return res.status === 200 ? res.headers.get('docker-content-digest') : null;
  }

  before(async () => {
    gantry = await startGantry();
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    anon = new RegistryClient(gantry.url);
    admin = new RegistryClient(gantry.url, { Authorization: adminAuth });
  });
  after(() => gantry.stop());

  describe('immutable tags', () => {
    it('overwriting 1.4.2 is refused with DENIED naming the rule, even for the administrator', async () => {
      const name = uniqueName('imm');
      const first = await pushNew(admin, name, '1.4.2');
      const second = await prepare(admin, name);
      for (const client of [admin, anon]) {
        const res = await client.putManifest(name, '1.4.2', second);
        const error = expectOciError(res, 403, 'DENIED');
        assert.match(
          error?.message ?? '',
          /tag 1\.4\.2 of docker-dev-local\/imm-\w+ is immutable \(rule semver\)/,
        );
        assert.ok(error?.message.includes(first.digest), error?.message);
        assert.match(error?.message ?? '', /push a new version instead/);
      }
      assert.equal(await resolve(name, '1.4.2'), first.digest);
      // The same digest again is no move: allowed.
      await admin.pushManifest(name, '1.4.2', first);
      // The content can still go in by digest, or under a new version.
      await admin.pushManifest(name, '1.4.3', second);
    });

    it('latest and branch tags move freely', async () => {
      const name = uniqueName('mut');
      await pushNew(anon, name, 'latest');
      const second = await pushNew(anon, name, 'latest');
      assert.equal(await resolve(name, 'latest'), second.digest);
      await pushNew(anon, name, 'main');
      const main = await pushNew(anon, name, 'main');
      assert.equal(await resolve(name, 'main'), main.digest);
    });

    it('build tags <branch>-<sha>-<timestamp> are immutable', async () => {
      const name = uniqueName('build');
      const tag = 'main-1a2b3c4-20261125120000';
      await pushNew(admin, name, tag);
      const other = await prepare(admin, name);
      const error = expectOciError(await admin.putManifest(name, tag, other), 403, 'DENIED');
      assert.match(error?.message ?? '', /is immutable \(rule build\)/);
    });

    it('a repository whose settings say tags: {immutable: []} allows overwriting versions', async () => {
      const res = await api('POST', '/repositories', {
        key: 'mutable-local',
        kind: 'local',
        settings: { tags: { immutable: [] } },
      });
      assert.equal(res.status, 201, await res.text());
      const name = uniqueName('anything', 'mutable-local');
      await pushNew(anon, name, '1.4.2');
      const second = await pushNew(anon, name, '1.4.2');
      assert.equal(await resolve(name, '1.4.2'), second.digest);
      // Deleting the tag is allowed there too.
      expectStatus(await anon.request('DELETE', `/v2/${name}/manifests/1.4.2`), 202);
    });

    it('deleting an immutable tag is refused; deleting the manifest by digest withdraws it', async () => {
      const name = uniqueName('del');
      const image = await pushNew(admin, name, '2.0.0');
      const error = expectOciError(
        await admin.request('DELETE', `/v2/${name}/manifests/2.0.0`),
        403,
        'DENIED',
      );
      assert.match(error?.message ?? '', /tag 2\.0\.0 of .* is immutable \(rule semver\).*cannot be deleted/);
      assert.equal(await resolve(name, '2.0.0'), image.digest);
      expectStatus(await admin.request('DELETE', `/v2/${name}/manifests/${image.digest}`), 202);
      assert.equal(await resolve(name, '2.0.0'), null);

      // Withdrawn is not free: 2.0.0 never names other content, for the administrator neither.
      const other = await prepare(admin, name);
      const reuse = expectOciError(await admin.putManifest(name, '2.0.0', other), 403, 'DENIED');
      assert.equal(
        reuse?.message,
        `tag 2.0.0 of ${name} is immutable (rule semver) and was used for ${image.digest} before it was withdrawn; an immutable tag never names other content: push a new version instead`,
      );
      assert.equal(await resolve(name, '2.0.0'), null);
      // The same content may come back under it.
      await admin.pushManifest(name, '2.0.0', image);
      assert.equal(await resolve(name, '2.0.0'), image.digest);
    });
  });

  describe('floating tags, history and rollback in docker-staging-local', () => {
    const name = uniqueName('float', 'docker-staging-local');
    const v: Record<string, TestManifest> = {};

    before(async () => {
      for (const tag of ['1.2.0', '1.10.0', '1.3.5', '2.0.0-rc.1']) v[tag] = await pushNew(anon, name, tag);
    });

    it('X.Y, X and latest follow the highest stable versions; a pre-release moves nothing', async () => {
      const expected: Record<string, string> = {
        '1.2': v['1.2.0']?.digest as string,
        '1.10': v['1.10.0']?.digest as string,
        '1.3': v['1.3.5']?.digest as string,
        '1': v['1.10.0']?.digest as string,
        latest: v['1.10.0']?.digest as string,
      };
      for (const [tag, digest] of Object.entries(expected))
        assert.equal(await resolve(name, tag), digest, tag);
      assert.equal(await resolve(name, '2.0'), null);
      assert.equal(await resolve(name, '2'), null);
      const tags = (await anon.tags(name)).json<{ tags: string[] }>().tags;
      assert.deepEqual(tags, ['1', '1.10', '1.10.0', '1.2', '1.2.0', '1.3', '1.3.5', '2.0.0-rc.1', 'latest']);
    });

    it('withdrawing the highest version points latest, X and X.Y back at the next highest', async () => {
      const other = uniqueName('withdraw', 'docker-staging-local');
      const old = await pushNew(anon, other, '3.1.0');
      const newest = await pushNew(anon, other, '3.2.0');
      assert.equal(await resolve(other, 'latest'), newest.digest);
      expectStatus(await admin.request('DELETE', `/v2/${other}/manifests/${newest.digest}`), 202);
      for (const tag of ['latest', '3', '3.1']) assert.equal(await resolve(other, tag), old.digest, tag);
      assert.equal(await resolve(other, '3.2'), null);
      assert.deepEqual(
        (await history(other, 'latest')).events.map((e) => [e.cause, e.oldDigest, e.newDigest]),
        [
          ['floating', null, old.digest],
          ['delete', newest.digest, null],
          ['floating', old.digest, newest.digest],
          ['floating', null, old.digest],
        ],
      );
    });

    it('does not float in a repository without floating: true', async () => {
      const dev = uniqueName('nofloat');
      await pushNew(anon, dev, '1.0.0');
      assert.equal(await resolve(dev, 'latest'), null);
      assert.equal(await resolve(dev, '1.0'), null);
    });

    it('history shows pushes and floating moves, newest first, with causes', async () => {
      const pushed = await history(name, '1.10.0');
      assert.equal(pushed.repository, 'docker-staging-local');
      assert.equal(pushed.image, name.slice('docker-staging-local/'.length));
      assert.equal(pushed.tag, '1.10.0');
      assert.equal(pushed.events.length, 1);
      assert.deepEqual(
        { ...pushed.events[0], at: undefined },
        { oldDigest: null, newDigest: v['1.10.0']?.digest, actor: 'anonymous', cause: 'push', at: undefined },
      );
      const latest = await history(name, 'latest');
      assert.deepEqual(
        latest.events.map((e) => [e.cause, e.oldDigest, e.newDigest]),
        [
          ['floating', v['1.2.0']?.digest, v['1.10.0']?.digest],
          ['floating', null, v['1.2.0']?.digest],
        ],
      );
      assert.equal((await history(name, 'latest', '?limit=1')).events.length, 1);
      const missing = await api('GET', tagPath(name, 'nope', 'history'));
      assert.equal(missing.status, 404);
    });

    it('rolls back latest by steps and to a digest; recorded with cause rollback and audited', async () => {
      let res = await rollback(name, 'latest', { steps: 1 });
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), {
        tag: 'latest',
        from: v['1.10.0']?.digest,
        to: v['1.2.0']?.digest,
      });
      assert.equal(await resolve(name, 'latest'), v['1.2.0']?.digest);

      res = await rollback(name, 'latest', { to: v['1.3.5']?.digest });
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { tag: 'latest', from: v['1.2.0']?.digest, to: v['1.3.5']?.digest });

      // Two moves back from 1.3.5: 1.2.0 (before the last rollback), then 1.10.0.
      res = await rollback(name, 'latest', { steps: 2 });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await resolve(name, 'latest'), v['1.10.0']?.digest);

      const events = (await history(name, 'latest')).events;
      assert.deepEqual(
        events.slice(0, 3).map((e) => [e.cause, e.actor, e.newDigest]),
        [
          ['rollback', 'anonymous', v['1.10.0']?.digest],
          ['rollback', 'anonymous', v['1.3.5']?.digest],
          ['rollback', 'anonymous', v['1.2.0']?.digest],
        ],
      );

      res = await rollback(name, 'latest', { steps: 50 });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { detail: string }).detail, /earlier digests? to roll back to/);

      await new Promise((r) => setTimeout(r, 200));
      const audit = await api('GET', '/audit?action=tag.rollback', undefined, { authorization: adminAuth });
      const { events: logged } = (await audit.json()) as { events: { target: string; repository: string }[] };
      assert.ok(
        logged.some((e) => e.repository === 'docker-staging-local' && e.target === `${pushed(name)}:latest`),
        JSON.stringify(logged),
      );
    });

    it('rollback skips digests the image no longer holds', async () => {
      const other = uniqueName('skip', 'docker-staging-local');
      const a = await pushNew(anon, other, 'edge');
      const b = await pushNew(anon, other, 'edge');
      await anon.pushManifest(other, 'keep-b', b);
      const c = await pushNew(anon, other, 'edge');
      expectStatus(await anon.request('DELETE', `/v2/${other}/manifests/${b.digest}`), 202);
      const res = await rollback(other, 'edge');
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { tag: 'edge', from: c.digest, to: a.digest });
      const gone = await rollback(other, 'edge', { to: b.digest });
      assert.equal(gone.status, 404);
    });

    it('refuses to roll back an immutable tag, naming the rule', async () => {
      const res = await rollback(name, '1.2.0', { to: v['1.3.5']?.digest });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as { detail: string }).detail, /immutable \(rule semver\)/);
      assert.equal(await resolve(name, '1.2.0'), v['1.2.0']?.digest);
    });

    it('history and rollback need a local repository: 400 naming them', async () => {
      const image = name.slice('docker-staging-local/'.length);
      for (const [method, what] of [
        ['GET', 'history'],
        ['POST', 'rollback'],
      ] as const) {
        const res = await api(
          method,
          `/repositories/docker/images/${image}/tags/latest/${what}`,
          method === 'POST' ? {} : undefined,
        );
        assert.equal(res.status, 400);
        const { detail } = (await res.json()) as { detail: string };
        assert.match(detail, /docker is a virtual repository/);
        assert.match(detail, /docker-dev-local, docker-staging-local, docker-prod-local/);
      }
    });

    it('rejects bad rollback input', async () => {
      for (const body of [{ to: 'nope' }, { steps: 0 }, { steps: 1, to: v['1.2.0']?.digest }, { step: 1 }]) {
        const res = await rollback(name, 'latest', body);
        assert.equal(res.status, 400, JSON.stringify(body));
      }
    });

    it('gantry tag history and rollback round trip', async () => {
      const cli = async (...args: string[]) => {
        try {
          const { stdout } = await run(process.execPath, [
            join(PROJECT_ROOT, 'bin', 'gantry.js'),
            '--server',
            gantry.url,
            ...args,
          ]);
          return { code: 0, stdout, stderr: '' };
        } catch (e) {
          const failed = e as { code: number; stdout: string; stderr: string };
          return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
        }
      };
      const ref = `${name}:latest`;
      const before = await resolve(name, 'latest');
      let r = await cli('tag', 'rollback', ref, '--to', v['1.3.5']?.digest as string);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${before} -> ${v['1.3.5']?.digest}`));
      r = await cli('tag', 'rollback', ref, '--steps', '1');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await resolve(name, 'latest'), before);

      r = await cli('tag', 'history', ref, '--limit', '2', '--json');
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as HistoryReply;
      assert.deepEqual(
        json.events.map((e) => [e.cause, e.newDigest]),
        [
          ['rollback', before],
          ['rollback', v['1.3.5']?.digest],
        ],
      );
      r = await cli('tag', 'history', ref);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^TIME\s+CAUSE\s+ACTOR\s+FROM\s+TO/);
      assert.match(r.stdout, /floating\s+anonymous\s+-\s+sha256:/);

      r = await cli('tag', 'rollback', `${name}:1.2.0`, '--steps', '1');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /409 Conflict: .*immutable \(rule semver\)/);
      r = await cli('tag', 'history', 'no-tag-here');
      assert.equal(r.code, 2, 'a usage error');
      assert.match(r.stderr, /is not <repository>\/<image>:<tag>/);
    });
  });
});

/** The image part of a full name `repository/image`. */
function pushed(name: string): string {
  return name.slice(name.indexOf('/') + 1);
}
