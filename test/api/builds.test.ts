import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, createRoles, expectProblem, PASSWORD } from '../auth/support.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  imageManifest,
  makeBlob,
  makeConfig,
  RegistryClient,
  type TestBlob,
  type TestManifest,
} from '../support/http.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

const READER = basicAuth('reader', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const CUSTOMER = basicAuth('customer', PASSWORD);
const REVISION = '1a2b3c4d5e6f';

interface Image {
  blobs: TestBlob[];
  manifest: TestManifest;
}

function newImage(): Image {
  const blobs = [makeConfig(), makeBlob(300)];
  const [config, layer] = blobs as [TestBlob, TestBlob];
  return { blobs, manifest: imageManifest({ config, layers: [layer] }) };
}

/** Pushes the image to `name:tag` as the administrator. */
async function push(url: string, image: Image, name: string, tag: string): Promise<void> {
  const client = new RegistryClient(url, { authorization: ADMIN_AUTH });
  for (const blob of image.blobs) await client.pushBlob(name, blob);
  await client.pushManifest(name, tag, image.manifest);
}

describe('builds API and traceability', () => {
  let gantry: RunningGantry;
  let ciToken: string;
  const app = newImage();
  const unpushed = newImage();
  const build = (artifacts: unknown[] = [{ digest: app.manifest.digest, name: 'team/app:1.4.0' }]) => ({
    startedAt: '2026-11-25T10:00:00Z',
    durationMs: 93_000,
    vcs: { url: 'https://git.example/team/app', revision: REVISION, branch: 'main' },
    ciUrl: 'https://ci.example/team/app/17',
    artifacts,
    dependencies: [
      { name: 'debian', version: '12.5', digest: `sha256:${'a'.repeat(64)}` },
      { name: '@scope/lib', version: '2.0.1' },
    ],
    properties: { runner: 'linux-amd64' },
  });

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    // Content is put straight into staging and production here; promotion is tested elsewhere.
    await allowDirectWrites(gantry.url, 'docker-staging-local', 'docker-prod-local');
    ({ ciToken } = await createRoles(gantry.url));
    await push(gantry.url, app, 'docker-dev-local/team/app', '1.4.0');
  });
  after(() => gantry.stop());

  it('publishing needs the publish action (deploy and delete do not bring it); publishedBy is the caller', async () => {
    await expectProblem(
      api(gantry.url, 'PUT', '/builds/team-app/17', build(), ''),
      401,
      /sign in to publish/,
    );
    await expectProblem(
      api(gantry.url, 'PUT', '/builds/team-app/17', build(), READER),
      403,
      /reader may not publish builds: that needs the publish action/,
    );
    // A developer may delete images in development, and still not witness a CI build.
    await expectProblem(
      api(gantry.url, 'PUT', '/builds/team-app/17', build(), DEV),
      403,
      /dev may not publish builds/,
    );
    const created = await api(gantry.url, 'PUT', '/builds/team-app/17', build(), `Bearer ${ciToken}`);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.headers.get('location'), '/api/v1/builds/team-app/17');
    assert.equal(created.json.publishedBy, 'ci');
    assert.equal(created.json.publishedByToken, 'pipeline');
    assert.deepEqual(created.json.vcs, {
      url: 'https://git.example/team/app',
      revision: REVISION,
      branch: 'main',
    });
    assert.equal(created.json.startedAt, '2026-11-25T10:00:00.000Z');
    assert.deepEqual(created.json.dependencies, [
      { name: 'debian', version: '12.5', digest: `sha256:${'a'.repeat(64)}` },
      { name: '@scope/lib', version: '2.0.1', digest: null },
    ]);
    assert.deepEqual(created.json.properties, { runner: 'linux-amd64' });
  });

  it('a recorded build number never changes: the same record again is 200, anything else 409', async () => {
    const again = await api(gantry.url, 'PUT', '/builds/team-app/17', build(), `Bearer ${ciToken}`);
    assert.equal(again.status, 200, `a CI retry of the same record: ${JSON.stringify(again.json)}`);
    assert.equal(again.json.publishedByToken, 'pipeline');
    await expectProblem(
      api(
        gantry.url,
        'PUT',
        '/builds/team-app/17',
        build([{ digest: unpushed.manifest.digest }]),
        `Bearer ${ciToken}`,
      ),
      409,
      /build team-app #17 is recorded already \(published by ci at .*\); a recorded build never changes/,
    );
    // Not even an administrator overwrites it: the same content from another publisher is another record.
    await expectProblem(api(gantry.url, 'PUT', '/builds/team-app/17', build()), 409, /recorded already/);
    const kept = await admin(gantry.url, 'GET', '/builds/team-app/17', undefined, 200);
    assert.equal(kept.publishedBy, 'ci');
    assert.equal((kept.artifacts as Json[])[0].digest, app.manifest.digest);
  });

  it('says what is wrong with a build', async () => {
    const put = (path: string, body: unknown) => api(gantry.url, 'PUT', path, body);
    await expectProblem(put('/builds/team%2Fapp/1', build()), 400, /build name "team\/app" is invalid/);
    await expectProblem(put(`/builds/app/${'9'.repeat(65)}`, build()), 400, /build number .* is invalid/);
    await expectProblem(
      put('/builds/app/1', { ...build(), startedAt: undefined }),
      400,
      /startedAt is required/,
    );
    await expectProblem(
      put('/builds/app/1', { ...build(), startedAt: 'yesterday' }),
      400,
      /startedAt is required/,
    );
    await expectProblem(put('/builds/app/1', { ...build(), durationMs: -1 }), 400, /durationMs must be/);
    await expectProblem(
      put('/builds/app/1', { ...build(), commit: 'x' }),
      400,
      /unknown field commit; a build has/,
    );
    await expectProblem(
      put('/builds/app/1', build([{ digest: 'sha256:short' }])),
      400,
      /artifacts\[0\]\.digest must be a digest/,
    );
    await expectProblem(
      put('/builds/app/1', { ...build(), dependencies: [{ name: 'x' }] }),
      400,
      /dependencies\[0\] needs a name and a version/,
    );
    await expectProblem(put('/builds/app/1', [1]), 400, /send a JSON object/);
  });

  it('a build shows where each artifact is now: build → digests → current repositories', async () => {
    let b = await admin(gantry.url, 'GET', '/builds/team-app/17', undefined, 200);
    assert.deepEqual(b.artifacts, [
      {
        digest: app.manifest.digest,
        name: 'team/app:1.4.0',
        locations: [{ repository: 'docker-dev-local', image: 'team/app', tags: ['1.4.0'] }],
      },
    ]);
    // The same digest arrives in staging (as a promotion would put it there).
    await push(gantry.url, app, 'docker-staging-local/team/app', 'rc');
    b = await admin(gantry.url, 'GET', '/builds/team-app/17', undefined, 200);
    assert.deepEqual((b.artifacts as Json[])[0].locations, [
      { repository: 'docker-dev-local', image: 'team/app', tags: ['1.4.0'] },
      { repository: 'docker-staging-local', image: 'team/app', tags: ['rc'] },
    ]);
    // Customers read neither repository nor publish: the build does not exist for them.
    await expectProblem(
      api(gantry.url, 'GET', '/builds/team-app/17', undefined, CUSTOMER),
      404,
      /build team-app #17 does not exist/,
    );
    // Readers see it, with the locations they may read.
    const forReader = await api(gantry.url, 'GET', '/builds/team-app/17', undefined, READER);
    assert.equal(forReader.status, 200);
    await expectProblem(api(gantry.url, 'GET', '/builds/team-app/18'), 404, /does not exist/);
  });

  it('lists builds by name and by digest, newest first', async () => {
    await admin(gantry.url, 'PUT', '/builds/team-app/18', build(), 201);
    await admin(gantry.url, 'PUT', '/builds/other/1', build([{ digest: unpushed.manifest.digest }]), 201);
    const byName = await admin(gantry.url, 'GET', '/builds?name=team-app', undefined, 200);
    assert.deepEqual(
      (byName.builds as Json[]).map((b) => b.number),
      ['18', '17'],
    );
    const byDigest = await admin(
      gantry.url,
      'GET',
      `/builds?digest=${unpushed.manifest.digest}`,
      undefined,
      200,
    );
    assert.deepEqual(
      (byDigest.builds as Json[]).map((b) => `${b.name}#${b.number}`),
      ['other#1'],
    );
    const limited = await admin(gantry.url, 'GET', '/builds?limit=1', undefined, 200);
    assert.equal((limited.builds as Json[]).length, 1);
    await expectProblem(api(gantry.url, 'GET', '/builds?limit=0'), 400, /limit must be/);
    await expectProblem(api(gantry.url, 'GET', '/builds?digest=nope'), 400, /not a digest/);
    // A customer sees no build of images they may not read.
    const forCustomer = await api(gantry.url, 'GET', '/builds', undefined, CUSTOMER);
    assert.deepEqual(forCustomer.json.builds, []);
  });

  it('digest → builds → commit, and where the digest is now', async () => {
    const trace = await admin(gantry.url, 'GET', `/digests/${app.manifest.digest}`, undefined, 200);
    assert.equal(trace.digest, app.manifest.digest);
    assert.deepEqual(
      (trace.builds as Json[]).map((b) => b.number),
      ['18', '17'],
    );
    assert.deepEqual(trace.source, {
      build: 'team-app',
      number: '18',
      vcsUrl: 'https://git.example/team/app',
      revision: REVISION,
      branch: 'main',
    });
    assert.deepEqual(
      (trace.locations as Json[]).map((l) => l.repository),
      ['docker-dev-local', 'docker-staging-local'],
    );
    // Built but never pushed: the build still leads to its commit.
    const unheld = await admin(gantry.url, 'GET', `/digests/${unpushed.manifest.digest}`, undefined, 200);
    assert.deepEqual(unheld.locations, []);
    assert.equal((unheld.source as Json).revision, REVISION);
    await expectProblem(
      api(gantry.url, 'GET', `/digests/sha256:${'0'.repeat(64)}`),
      404,
      /not held anywhere you may read, and no build you may see produced it/,
    );
    await expectProblem(
      api(gantry.url, 'GET', `/digests/${app.manifest.digest}`, undefined, CUSTOMER),
      404,
      /not held/,
    );
  });

  it('deleting a build needs publish and delete on one repository, and is audited', async () => {
    await admin(gantry.url, 'PUT', '/builds/doomed/1', build(), 201);
    // A CI identity of the default ci group publishes, and may not take a record back.
    await admin(gantry.url, 'POST', '/users', { name: 'builder', robot: true, groups: ['ci'] }, 201);
    const builder = await admin(gantry.url, 'POST', '/tokens', { owner: 'builder', name: 'b' }, 201);
    await expectProblem(
      api(gantry.url, 'DELETE', '/builds/doomed/1', undefined, `Bearer ${builder.token}`),
      403,
      /builder may not delete build doomed #1: that needs publish and delete on one repository/,
    );
    await expectProblem(
      api(gantry.url, 'DELETE', '/builds/doomed/1', undefined, DEV),
      403,
      /dev may not delete build doomed/,
    );
    // A customer cannot see the build: the same answer as for one that does not exist.
    const hidden = await api(gantry.url, 'DELETE', '/builds/doomed/1', undefined, CUSTOMER);
    const missing = await api(gantry.url, 'DELETE', '/builds/doomed/404', undefined, CUSTOMER);
    assert.equal(hidden.status, 404, JSON.stringify(hidden.json));
    assert.equal(missing.status, 404, JSON.stringify(missing.json));
    assert.equal(
      String(hidden.json.detail).replace('#1', '#N'),
      String(missing.json.detail).replace('#404', '#N'),
    );
    assert.equal((await api(gantry.url, 'DELETE', '/builds/doomed/1')).status, 204);
    await expectProblem(api(gantry.url, 'GET', '/builds/doomed/1'), 404, /does not exist/);
    // The number is free again.
    await admin(gantry.url, 'PUT', '/builds/doomed/1', build(), 201);
    const deletions = await auditEvents('build.delete', 1);
    assert.equal(deletions[0].target, 'doomed#1');
    assert.equal(deletions[0].actor, 'admin');
    const refusals = await auditEvents('api.refused', 2);
    assert.ok(
      refusals.some(
        (e) =>
          e.actor === 'dev' && e.outcome === 'denied' && /DELETE \/api\/v1\/builds\/doomed\/1/.test(e.target),
      ),
      `refused deletion audited: ${JSON.stringify(refusals)}`,
    );
  });

  it('the build gate can require who published: a group member or one of given API tokens', async () => {
    await expectProblem(
      api(gantry.url, 'POST', '/repositories', {
        key: 'gated-local',
        kind: 'local',
        settings: { gates: [{ type: 'build', publishers: { groups: [] } }] },
      }),
      400,
      /gates\[0\]\.publishers names no group and no token/,
    );
    const tokens = await admin(gantry.url, 'GET', '/tokens?owner=ci', undefined, 200);
    const pipeline = (tokens.tokens as Json[]).find((t) => t.name === 'pipeline');
    await admin(
      gantry.url,
      'POST',
      '/repositories',
      {
        key: 'gated-local',
        kind: 'local',
        settings: { gates: [{ type: 'build', publishers: { groups: ['ci'] } }] },
      },
      201,
    );
    await admin(
      gantry.url,
      'POST',
      '/repositories',
      {
        key: 'token-gated-local',
        kind: 'local',
        settings: { gates: [{ type: 'build', publishers: { tokens: [pipeline.id] } }] },
      },
      201,
    );
    const image = newImage();
    await push(gantry.url, image, 'docker-dev-local/team/gated', '1.0');
    const dryRun = async (target: string) => {
      const res = await api(gantry.url, 'POST', '/promotions', {
        source: 'docker-dev-local/team/gated:1.0',
        target,
        dryRun: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return (res.json.gates as Json[])[0];
    };
    // The administrator may publish, but is not who the gate asks for.
    await admin(gantry.url, 'PUT', '/builds/gated/1', build([{ digest: image.manifest.digest }]), 201);
    let gate = await dryRun('gated-local');
    assert.equal(gate.gate, 'built by a recorded CI build published by a member of ci');
    assert.equal(gate.passed, false);
    assert.equal(
      gate.reason,
      'gated #1 (published by admin) do not count: this gate wants builds published by a member of ci',
    );
    assert.equal((await dryRun('token-gated-local')).passed, false);
    // The CI identity's build counts, through its group and through its token.
    const byCi = await api(
      gantry.url,
      'PUT',
      '/builds/gated/2',
      build([{ digest: image.manifest.digest }]),
      `Bearer ${ciToken}`,
    );
    assert.equal(byCi.status, 201, JSON.stringify(byCi.json));
    gate = await dryRun('gated-local');
    assert.equal(gate.passed, true, JSON.stringify(gate));
    assert.match(gate.reason, /built by gated #2 \(published by ci through API token pipeline\)/);
    assert.equal((await dryRun('token-gated-local')).passed, true);
    // Once ci leaves the group, its builds no longer count for the group gate.
    await admin(gantry.url, 'PATCH', '/users/ci', { groups: ['developers'] }, 200);
    assert.equal((await dryRun('gated-local')).passed, false);
    assert.equal((await dryRun('token-gated-local')).passed, true);
    await admin(gantry.url, 'PATCH', '/users/ci', { groups: ['developers', 'ci'] }, 200);
  });

  it('publishing is audited as build.publish', async () => {
    const events = await auditEvents('build.publish', 4);
    const mine = events.filter((e) => e.target === 'team-app#17' && e.actor === 'ci').reverse();
    assert.equal(mine.length, 2, JSON.stringify(events));
    const [first, again] = mine as [Json, Json];
    assert.equal(first.detail.revision, REVISION);
    assert.deepEqual(first.detail.artifacts, [app.manifest.digest]);
    assert.equal(first.detail.repeated, false);
    assert.equal(again.detail.repeated, true);
  });

  /** Audit events of an action, newest first, once at least `atLeast` are written (batched). */
  async function auditEvents(action: string, atLeast: number): Promise<Json[]> {
    let events: Json[] = [];
    for (let i = 0; i < 50; i++) {
      events = (await admin(gantry.url, 'GET', `/audit?action=${action}`, undefined, 200)).events as Json[];
      if (events.length >= atLeast) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return events;
  }
});
