/**
 * Browsing for the web UI over /api/v1: repository stats, the images of a repository (paginated,
 * filtered to what the caller may read, a virtual repository as the union of its members), tags
 * with their kinds, one manifest in detail (masked secrets, an index's platforms, referrers,
 * properties, builds) and the pipeline view with the promotions waiting at each stage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from '../auth/support.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import type { RegistryClient, TestBlob } from '../support/http.ts';
import {
  configWith,
  type Json,
  type PushedSingle,
  promoted,
  pushIndex,
  pushSingle,
  registry,
  setProperties,
} from './promotion-support.ts';

const RM = basicAuth('rm', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const READER = basicAuth('reader', PASSWORD);
const CUSTOMER = basicAuth('customer', PASSWORD);
const ALICE = basicAuth('alice', PASSWORD);

describe('browsing API', () => {
  let gantry: RunningGantry;
  let url = '';
  let reg: RegistryClient;

  const get = async (path: string, auth: string | undefined = ADMIN_AUTH, status = 200): Promise<Json> => {
    const res = await api(url, 'GET', path, undefined, auth);
    assert.equal(res.status, status, `GET ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    url = gantry.url;
    reg = registry(url);
    await createRoles(url);
    await admin(url, 'POST', '/users', { name: 'alice', password: PASSWORD }, 201);
  });
  after(() => gantry?.stop());

  it('lists repositories with stats: images, distinct blob bytes, last push; virtual ones null', async () => {
    await admin(url, 'POST', '/repositories', { key: 'stats-local' }, 201);
    const config = configWith();
    const one = await pushSingle(reg, 'stats-local/one', '1', config);
    // The same config again under another image: its bytes count once.
    const two = await pushSingle(reg, 'stats-local/two', '1', config);
    const distinct = new Map<string, TestBlob>();
    for (const b of [...one.blobs, ...two.blobs]) distinct.set(b.digest, b);
    const bytes = [...distinct.values()].reduce((sum, b) => sum + b.bytes.length, 0);

    const { repositories } = await get('/repositories');
    const byKey = new Map((repositories as Json[]).map((r) => [r.key, r]));
    const stats = byKey.get('stats-local').stats;
    assert.equal(stats.imageCount, 2);
    assert.equal(stats.sizeBytes, bytes);
    assert.ok(Date.parse(stats.lastPushAt) > Date.now() - 60_000, stats.lastPushAt);
    assert.deepEqual(byKey.get('docker-staging-local').stats, {
      imageCount: 0,
      sizeBytes: 0,
      lastPushAt: null,
    });
    assert.deepEqual(byKey.get('docker-hub-remote').stats, { imageCount: 0, sizeBytes: 0, lastPushAt: null });
    assert.equal(byKey.get('docker').stats, null);
    assert.equal((await get('/repositories/stats-local')).stats.imageCount, 2);
  });

  it('says what the caller may do on each repository: the UI offers editing where it says manage', async () => {
    await admin(url, 'POST', '/repositories', { key: 'team-a-local' }, 201);
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'team-a-admins', repositories: ['team-a-*'], users: { alice: ['manage'] } },
      201,
    );
    const actionsOf = async (auth: string) =>
      Object.fromEntries(
        ((await get('/repositories', auth)).repositories as Json[]).map((r) => [r.key, r.actions]),
      );
    const alice = await actionsOf(ALICE);
    assert.deepEqual(alice['team-a-local'], [
      'read',
      'annotate',
      'deploy',
      'delete',
      'promote',
      'publish',
      'manage',
    ]);
    assert.equal(alice['docker-prod-local'], undefined, 'alice reads nothing else');
    const dev = await actionsOf(DEV);
    assert.deepEqual(dev['docker-dev-local'], ['read', 'annotate', 'deploy', 'delete']);
    assert.equal(dev['team-a-local'], undefined);
    assert.ok((await actionsOf(ADMIN_AUTH))['team-a-local'].includes('manage'));
    assert.deepEqual((await get('/repositories/team-a-local', ALICE)).actions.at(-1), 'manage');
    // …and the API agrees: alice may change team-a-local's settings, and nothing else's.
    const changed = await api(url, 'PATCH', '/repositories/team-a-local', { description: 'team A' }, ALICE);
    assert.equal(changed.status, 200, JSON.stringify(changed.json));
    const refused = await api(url, 'PATCH', '/repositories/docker-dev-local', { description: 'x' }, ALICE);
    assert.equal(refused.status, 403, JSON.stringify(refused.json));
  });

  it('pages through the images of a repository, only those the caller may read', async () => {
    await admin(url, 'POST', '/repositories', { key: 'pages-local' }, 201);
    for (const image of ['a', 'b/one', 'b/two', 'c', 'd'])
      await pushSingle(reg, `pages-local/${image}`, 'v1');
    await pushSingle(reg, 'pages-local/b/one', 'v2');

    const first = await get('/repositories/pages-local/images?n=2');
    assert.deepEqual(
      first.images.map((i: Json) => [i.image, i.tagCount]),
      [
        ['a', 1],
        ['b/one', 2],
      ],
    );
    assert.ok(Date.parse(first.images[0].lastPushAt) > 0);
    assert.equal(first.next, '/api/v1/repositories/pages-local/images?n=2&last=b%2Fone');
    const second = await get(first.next.slice('/api/v1'.length));
    assert.deepEqual(
      second.images.map((i: Json) => i.image),
      ['b/two', 'c'],
    );
    const third = await get(second.next.slice('/api/v1'.length));
    assert.deepEqual(
      third.images.map((i: Json) => i.image),
      ['d'],
    );
    assert.equal(third.next, undefined);

    // alice may read b/** only: the pages skip what she may not see.
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'alice-b', repositories: ['pages-local'], images: ['b/**'], users: { alice: ['read'] } },
      201,
    );
    const hers = await get('/repositories/pages-local/images?n=1', ALICE);
    assert.deepEqual(
      hers.images.map((i: Json) => i.image),
      ['b/one'],
    );
    const rest = await get(hers.next.slice('/api/v1'.length), ALICE);
    assert.deepEqual(
      rest.images.map((i: Json) => i.image),
      ['b/two'],
    );
    assert.equal(rest.next, undefined);

    await get('/repositories/stats-local/images', ALICE, 404);
    await get('/repositories/no-such-repo/images', ADMIN_AUTH, 404);
    await get('/repositories/pages-local/images?n=0', ADMIN_AUTH, 400);
  });

  it('filters the images of a repository by part of their name, across pages', async () => {
    for (const name of ['filter/alpha', 'filter/beta', 'filter/alphabet'])
      await pushSingle(reg, `docker-dev-local/${name}`, '1.0.0');
    const first = await get('/repositories/docker-dev-local/images?n=1&image=ALPHA');
    assert.deepEqual(
      first.images.map((i: Json) => i.image),
      ['filter/alpha'],
    );
    assert.ok(first.next.includes('image=ALPHA'), first.next);
    const second = await get(first.next.replace('/api/v1', ''));
    assert.deepEqual(
      second.images.map((i: Json) => i.image),
      ['filter/alphabet'],
    );
    assert.equal(second.next, undefined);
  });

  it('lists a virtual repository as the union of its members, each image once', async () => {
    await pushSingle(reg, 'docker-dev-local/union/app', 'dev');
    await pushSingle(reg, 'docker-dev-local/union/staged', 'v1');
    // The same image name in staging too (pushed there directly; promotion has its own tests).
    await pushSingle(reg, 'docker-staging-local/union/staged', 'other');
    const { images } = await get('/repositories/docker/images?n=1000', READER);
    const union = (images as Json[]).filter((i) => i.image.startsWith('union/'));
    assert.deepEqual(
      union.map((i) => [i.image, i.tagCount]),
      [
        ['union/app', 1],
        ['union/staged', 2],
      ],
    );
    // customers read docker-prod only: production is empty, and docker is not theirs.
    assert.deepEqual((await get('/repositories/docker-prod/images', CUSTOMER)).images, []);
    await get('/repositories/docker/images', CUSTOMER, 404);
  });

  it('lists tags with their kind under the repository rules', async () => {
    const image = 'kinds/app';
    const pushed = await pushSingle(reg, `docker-staging-local/${image}`, '1.4.2');
    await reg.pushManifest(`docker-staging-local/${image}`, 'custom', pushed.manifest);
    await reg.pushManifest(`docker-staging-local/${image}`, 'main-1a2b3c4-20261125120000', pushed.manifest);
    const { tags } = await get(`/repositories/docker-staging-local/images/${image}/tags`, READER);
    const byTag = new Map((tags as Json[]).map((t) => [t.tag, t]));
    assert.deepEqual(
      (tags as Json[]).map((t) => t.tag),
      ['1', '1.4', '1.4.2', 'custom', 'latest', 'main-1a2b3c4-20261125120000'],
    );
    assert.equal(byTag.get('1.4.2').kind, 'immutable');
    assert.equal(byTag.get('1.4.2').rule, 'semver');
    assert.equal(byTag.get('main-1a2b3c4-20261125120000').rule, 'build');
    for (const t of ['1', '1.4', 'latest']) assert.equal(byTag.get(t).kind, 'floating', t);
    assert.equal(byTag.get('custom').kind, 'mutable');
    assert.equal(byTag.get('custom').rule, undefined);
    for (const t of tags as Json[]) {
      assert.equal(t.digest, pushed.manifest.digest);
      assert.ok(Date.parse(t.updatedAt) > 0);
    }
    // Development has no floating tags: latest is an ordinary mutable tag there.
    await pushSingle(reg, `docker-dev-local/${image}`, 'latest');
    const dev = await get(`/repositories/docker-dev-local/images/${image}/tags`);
    assert.deepEqual(
      dev.tags.map((t: Json) => [t.tag, t.kind]),
      [['latest', 'mutable']],
    );
    // Through the virtual docker: the first member's tag wins.
    const through = await get(`/repositories/docker/images/${image}/tags`, READER);
    assert.equal(through.tags.find((t: Json) => t.tag === 'latest').kind, 'mutable');
    assert.equal(through.tags.find((t: Json) => t.tag === '1.4.2').kind, 'immutable');
    // Each says which member serves it (the UI reads its history there).
    assert.equal(through.tags.find((t: Json) => t.tag === 'latest').repository, 'docker-dev-local');
    assert.equal(through.tags.find((t: Json) => t.tag === '1.4.2').repository, 'docker-staging-local');
    assert.equal(byTag.get('custom').repository, 'docker-staging-local');

    await get(`/repositories/docker-staging-local/images/${image}/tags`, '', 401);
    await get(`/repositories/docker-staging-local/images/${image}/tags`, CUSTOMER, 403);
    await get('/repositories/docker-staging-local/images/nothing/here/tags', READER, 404);
  });

  it('shows a manifest in detail: config with masked secrets, layers, tags, properties, builds', async () => {
    const image = 'detail/app';
    const config = configWith({
      User: 'app:app',
      WorkingDir: '/srv',
      Entrypoint: ['/bin/app'],
      Cmd: ['--serve'],
      Env: ['PATH=/usr/bin', 'DB_PASSWORD=hunter2', 'GITHUB_TOKEN=ghp_x', 'EMPTY_SECRET=', 'MODE=prod'],
      Labels: { 'org.opencontainers.image.source': 'https://git.example/app' },
      Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000, Retries: 3 },
    });
    const pushed = await pushSingle(reg, `docker-dev-local/${image}`, '2.0.0', config);
    const digest = pushed.manifest.digest;
    await setProperties(url, { repository: 'docker-dev-local', image, digest }, { 'qa.status': ['passed'] });
    await admin(
      url,
      'PUT',
      '/builds/detail-app/7',
      {
        startedAt: '2026-11-25T10:00:00Z',
        vcs: { url: 'https://git.example/app', revision: 'abc123', branch: 'main' },
        artifacts: [{ digest, name: `${image}:2.0.0` }],
      },
      201,
    );
    const m = await get(`/repositories/docker-dev-local/images/${image}/manifests/${digest}`, READER);
    assert.equal(m.digest, digest);
    assert.equal(m.repository, 'docker-dev-local');
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.size, pushed.manifest.bytes.length);
    assert.deepEqual(m.tags, ['2.0.0']);
    assert.deepEqual(m.platforms, []);
    const layer = pushed.blobs[1] as TestBlob;
    assert.deepEqual(m.layers, [
      { digest: layer.digest, size: layer.bytes.length, mediaType: layer.mediaType },
    ]);
    assert.deepEqual(m.config.env, [
      'PATH=/usr/bin',
      'DB_PASSWORD=••••',
      'GITHUB_TOKEN=••••',
      'EMPTY_SECRET=••••',
      'MODE=prod',
    ]);
    assert.ok(!JSON.stringify(m).includes('hunter2'));
    assert.equal(m.config.user, 'app:app');
    assert.equal(m.config.workingDir, '/srv');
    assert.deepEqual(m.config.entrypoint, ['/bin/app']);
    assert.deepEqual(m.config.cmd, ['--serve']);
    assert.equal(m.config.os, 'linux');
    assert.equal(m.config.architecture, 'amd64');
    assert.equal(m.config.labels['org.opencontainers.image.source'], 'https://git.example/app');
    assert.deepEqual(m.config.healthcheck, { test: ['CMD', 'true'], interval: 30_000_000_000, retries: 3 });
    assert.deepEqual(m.annotations, {});
    assert.deepEqual(m.referrers, []);
    assert.deepEqual(m.properties, { 'qa.status': ['passed'] });
    assert.deepEqual(m.builds, [
      { name: 'detail-app', number: '7', vcsUrl: 'https://git.example/app', revision: 'abc123' },
    ]);

    // Through the virtual docker the first member holding the digest answers.
    const through = await get(`/repositories/docker/images/${image}/manifests/${digest}`, DEV);
    assert.equal(through.repository, 'docker-dev-local');
    assert.deepEqual(through.tags, ['2.0.0']);

    await get(`/repositories/docker-staging-local/images/${image}/manifests/${digest}`, READER, 404);
    await get(`/repositories/docker-dev-local/images/${image}/manifests/sha256:nope`, READER, 400);
    await get(`/repositories/docker-dev-local/images/${image}/manifests/${digest}`, CUSTOMER, 403);
  });

  it('shows an index with its platforms and referrers', async () => {
    const image = 'detail/multi';
    const pushed = await pushIndex(reg, `docker-dev-local/${image}`, '3.0.0');
    const m = await get(`/repositories/docker-dev-local/images/${image}/manifests/${pushed.index.digest}`);
    assert.equal(m.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(m.platforms, [
      { platform: 'linux/amd64', digest: pushed.children[0]?.manifest.digest },
      { platform: 'linux/arm64', digest: pushed.children[1]?.manifest.digest },
    ]);
    assert.deepEqual(m.layers, []);
    assert.equal(m.config, null);
    assert.deepEqual(m.tags, ['3.0.0']);
    const signature = pushed.referrers[0];
    assert.deepEqual(m.referrers, [
      {
        digest: signature?.digest,
        artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: signature?.bytes.length,
      },
    ]);
    const child = await get(
      `/repositories/docker-dev-local/images/${image}/manifests/${pushed.children[0]?.manifest.digest}`,
    );
    assert.equal(child.referrers.length, 1, 'the SBOM refers to the amd64 child');
    assert.equal(child.referrers[0].artifactType, 'application/spdx+json');
    assert.equal(child.config.architecture, 'amd64');
    // Images and indexes are runnable; a referrer says what it is and what it refers to (the UI
    // shows it as an artifact of its subject, never with pull and promote as if it ran).
    assert.equal(m.artifactType, null);
    assert.equal(m.subject, null);
    assert.equal(child.artifactType, null);
    const sig = await get(`/repositories/docker-dev-local/images/${image}/manifests/${signature?.digest}`);
    assert.equal(sig.artifactType, 'application/vnd.dev.cosign.artifact.sig.v1+json');
    assert.equal(sig.subject, pushed.index.digest);
  });

  it('shows the pipeline: an image waiting for staging until its gate passes', async () => {
    const image = 'pipe/app';
    const pushed = await pushSingle(reg, `docker-dev-local/${image}`, 'latest');
    const digest = pushed.manifest.digest;
    const find = async (auth: string, query = '') => {
      const view = await get(`/pipeline?n=100${query}`, auth);
      return { view, entry: (view.images as Json[]).find((i) => i.image === image) };
    };

    const { view, entry } = await find(RM);
    assert.deepEqual(
      view.stages.map((s: Json) => s.repository),
      ['docker-dev-local', 'docker-staging-local', 'docker-prod-local'],
    );
    assert.deepEqual(view.stages[1].gates, ['property qa.status = passed']);
    assert.deepEqual(view.stages[0].gates, []);
    const others = new Map((view.others as Json[]).map((o) => [o.repository, o]));
    assert.equal(others.get('docker').kind, 'virtual');
    assert.deepEqual(others.get('docker-prod').members, ['docker-prod-local']);
    assert.equal(others.get('docker-hub-remote').kind, 'remote');
    assert.ok(entry, `pipe/app in ${JSON.stringify(view.images.map((i: Json) => i.image))}`);
    assert.deepEqual(entry.stages, {
      'docker-dev-local': { digest, tags: ['latest'] },
      'docker-staging-local': null,
      'docker-prod-local': null,
    });
    assert.equal(entry.waiting.length, 1);
    const waiting = entry.waiting[0];
    assert.equal(waiting.from, 'docker-dev-local');
    assert.equal(waiting.to, 'docker-staging-local');
    assert.equal(waiting.digest, digest);
    assert.equal(waiting.promotable, false);
    assert.deepEqual(
      waiting.gates.map((g: Json) => [g.gate, g.passed]),
      [['property qa.status = passed', false]],
    );
    assert.match(waiting.gates[0].reason, /qa\.status is not set/);
    assert.equal(waiting.unavailable, 'waiting for this gate to pass: property qa.status = passed');
    assert.equal(waiting.mayApprove, false, 'staging has no approval gate');

    await setProperties(url, { repository: 'docker-dev-local', image, digest }, { 'qa.status': ['passed'] });
    const passed = (await find(RM)).entry;
    assert.equal(passed.waiting[0].promotable, true);
    assert.equal(passed.waiting[0].gates[0].passed, true);
    // A developer sees the same gates but may not promote into staging.
    const asDev = (await find(DEV)).entry;
    assert.equal(asDev.waiting[0].gates[0].passed, true);
    assert.equal(asDev.waiting[0].promotable, false);
    // …and is told so, not that a gate fails (the UI shows this reason).
    assert.equal(asDev.waiting[0].unavailable, 'dev may not promote into docker-staging-local');
    assert.equal(passed.waiting[0].unavailable, undefined);

    // Promoted with a version tag: staging holds it; prod's gates are next.
    await promoted(
      url,
      { source: `docker-dev-local/${image}:latest`, target: 'docker-staging-local', tags: ['1.4.2'] },
      RM,
    );
    const line = (await find(RM, '&tag=1.4')).entry;
    assert.equal(line.stages['docker-dev-local'], null, 'development has no 1.4.x tag');
    assert.deepEqual(line.stages['docker-staging-local'], { digest, tags: ['1', '1.4', '1.4.2', 'latest'] });
    assert.equal(line.waiting.length, 1);
    assert.equal(line.waiting[0].from, 'docker-staging-local');
    assert.equal(line.waiting[0].to, 'docker-prod-local');
    assert.equal(line.waiting[0].promotable, false);
    const verdicts = Object.fromEntries(line.waiting[0].gates.map((g: Json) => [g.type, g.passed]));
    assert.deepEqual(verdicts, { promotedFrom: true, approval: false, build: false });
    // The approval gate names release-managers: rm's approval would count, a developer's not.
    assert.equal(line.waiting[0].mayApprove, true);
    const devLine = (await find(DEV, '&tag=1.4')).entry;
    assert.equal(devLine.waiting[0].mayApprove, false);
    // latest: dev and staging hold the same digest, nothing waits between them.
    const latest = (await find(RM)).entry;
    assert.equal(latest.stages['docker-staging-local'].digest, digest);
    assert.deepEqual(
      latest.waiting.map((w: Json) => w.to),
      ['docker-prod-local'],
    );

    // A customer reads production only (the production target covers docker-prod-local, as
    // reading through docker-prod needs); pagination walks the rest.
    const customer = await get('/pipeline', CUSTOMER);
    assert.deepEqual(
      customer.stages.map((s: Json) => s.repository),
      ['docker-prod-local'],
    );
    for (const image of customer.images as Json[])
      assert.deepEqual(Object.keys(image.stages), ['docker-prod-local'], image.image);
    const first = await get('/pipeline?n=1', RM);
    assert.equal(first.images.length, 1);
    assert.ok(first.next.startsWith('/api/v1/pipeline?n=1&last='), first.next);
    const second = await get(first.next.slice('/api/v1'.length), RM);
    assert.ok(second.images[0].image > first.images[0].image);
    await get('/pipeline?tag=bad%20tag', RM, 400);
  });
  it('lists the other digests each stage holds, and filters by stage before paging', async () => {
    const pushedAt: string[] = [];
    let last: PushedSingle | undefined;
    for (let i = 0; i < 5; i++) {
      last = await pushSingle(reg, 'docker-dev-local/several/app', `1.0.${i}`);
      pushedAt.push(last.manifest.digest);
      // Distinct tag times, so "newest first" has one answer.
      await new Promise((done) => setTimeout(done, 5));
    }
    const newest = pushedAt[4] as string;
    assert.ok(last);
    assert.equal(
      (await reg.pushManifest('docker-dev-local/several/app', 'latest', last.manifest)).status,
      201,
    );
    await pushSingle(reg, 'docker-dev-local/several/other', 'latest');
    const view = await get('/pipeline?image=several/app', RM);
    const entry = (view.images as Json[]).find((i) => i.image === 'several/app');
    assert.deepEqual(entry.stages['docker-dev-local'], { digest: newest, tags: ['1.0.4', 'latest'] });
    const others = entry.otherDigests['docker-dev-local'];
    assert.deepEqual(
      others.digests.map((d: Json) => [d.digest, d.tags]),
      [
        [pushedAt[3], ['1.0.3']],
        [pushedAt[2], ['1.0.2']],
        [pushedAt[1], ['1.0.1']],
      ],
    );
    assert.equal(others.more, 1);
    assert.deepEqual(entry.otherDigests['docker-staging-local'], { digests: [], more: 0 });

    // The stage filter runs on the server, before paging: staging holds no several/* image at all.
    const inStaging = await get('/pipeline?image=several/&stage=docker-staging-local', RM);
    assert.deepEqual(inStaging.images, []);
    const inDev = await get('/pipeline?image=several/&stage=docker-dev-local&n=1', RM);
    assert.deepEqual(
      inDev.images.map((i: Json) => i.image),
      ['several/app'],
    );
    assert.match(inDev.next, /stage=docker-dev-local/);
    const second = await get(inDev.next.slice('/api/v1'.length), RM);
    assert.deepEqual(
      second.images.map((i: Json) => i.image),
      ['several/other'],
    );
    // An unknown stage and one the caller may not read answer alike, with the way out.
    for (const [stage, auth] of [
      ['nope', RM],
      ['docker-dev-local', CUSTOMER],
    ] as const) {
      const refused = await get(`/pipeline?stage=${stage}`, auth, 400);
      assert.match(refused.detail, /is not a pipeline stage you may read/);
    }
  });

  it('evaluates the checklist through a virtual repository, on the member that holds the digest', async () => {
    const pushed = await pushSingle(reg, 'docker-prod-local/check/app', '1.0.0');
    const path = (repo: string) =>
      `/repositories/${repo}/images/check/app/manifests/${pushed.manifest.digest}/checklist`;
    const direct = await get(path('docker-prod-local'));
    const through = await get(path('docker-prod'));
    assert.deepEqual(through.results, direct.results);
    assert.equal(through.repository, 'docker-prod');
    await get(path('docker-dev-local'), ADMIN_AUTH, 404);
  });
});
