// The promotion story of the default pipeline, end to end with real clients against a Gantry
// with access control as shipped:
//   CI (robot ci, API token) pushes team/app:main-<sha>-<ts> through the virtual docker with
//   skopeo and publishes build info; QA (dev) sets qa.status=passed; the release manager (rm)
//   promotes dev → staging as 1.4.2 (floating 1.4, 1, latest appear), is refused production until
//   the digest is approved, approves it, promotes staging → prod; an anonymous customer pulls
//   docker-prod/team/app:1.4.2 with a Docker engine (skopeo when no engine can run here) and gets
//   the digest CI pushed. Along the way the refusals: dev and rm pushing to production (rm: it
//   takes content only by promotion), overwriting 1.4.2 in staging, production without
//   approval; and rolling latest back in staging.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, api, createRoles, PASSWORD, publishProduction } from '../auth/support.ts';
import { isolatedClientEnv, withGantryLog } from '../support/client-env.ts';
import { expectFailure, type RunResult, run, sha256Of } from '../support/clients.ts';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { dockerdUnavailableReason, type RunningDockerd, startDockerd } from '../support/dockerd.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { imageManifest, makeBlob, makeConfig, RegistryClient } from '../support/http.ts';

const SKOPEO = '/usr/bin/skopeo';
const RM = basicAuth('rm', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const BUILD_TAG = 'main-3f2a9c1-20261125100000';
const NEXT_BUILD_TAG = 'main-77be01d-20261202093000';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

describe('promotion story: CI → QA → staging → approval → production → customer', () => {
  let gantry: RunningGantry | undefined;
  let fx: PreparedFixtures | undefined;
  let containerd: RunningContainerd | undefined;
  let dockerd: RunningDockerd | undefined;
  let engineNote = '';
  let work = '';
  let ciToken = '';
  let clientEnv: Record<string, string> = {};
  /** The digest CI pushed (the tiny fixture), and the second build's. */
  let digest = '';
  let nextDigest = '';
  const url = () => gantry?.url ?? '?';
  const host = () => gantry?.host ?? '?';
  const docker = (name: string) => `docker://${host()}/${name}`;

  /** Failures carry the end of the server's log. */
  const step = withGantryLog(() => gantry);
  const skopeo = (args: string[]): Promise<RunResult> =>
    run(SKOPEO, args, { timeoutMs: 120_000, env: clientEnv });
  const call = (method: string, path: string, body: unknown, auth: string | undefined) =>
    api(url(), method, path, body, auth) as Promise<{ status: number; json: Json }>;
  const expect = async (
    method: string,
    path: string,
    body: unknown,
    auth: string | undefined,
    status: number,
  ) => {
    const res = await call(method, path, body, auth);
    assert.equal(
      res.status,
      status,
      `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.json)}`,
    );
    return res.json;
  };
  /** Digest of a manifest as the administrator reads it over HTTP; undefined on 404. */
  const admin = () => new RegistryClient(url(), { authorization: ADMIN_AUTH });
  async function digestAt(name: string, reference: string): Promise<string | undefined> {
    const res = await admin().getManifest(name, reference);
    if (res.status === 404) return undefined;
    assert.equal(res.status, 200, `GET ${name}:${reference}: ${res.text()}`);
    return sha256Of(res.body);
  }

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'gantry-e2e-promotion-'));
      clientEnv = await isolatedClientEnv(work, { noDefaultCredentials: true });
      fx = await prepareFixtures(['tiny']);
      gantry = await startGantry({ openAccess: false });
      ({ ciToken } = await createRoles(gantry.url));
      const reason = containerdUnavailableReason() ?? dockerdUnavailableReason();
      if (reason) {
        engineNote = reason;
        return;
      }
      const started = Date.now();
      try {
        containerd = await startContainerd({ namespace: 'gantry-promotion-e2e' });
        dockerd = await startDockerd({ containerdSocket: containerd.socket });
        process.stderr.write(`# docker engine up in ${Date.now() - started} ms\n`);
      } catch (err) {
        engineNote = `the engine could not start: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
        process.stderr.write(`# ${engineNote}; the customer pulls with skopeo\n`);
      }
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await dockerd?.stop();
    await containerd?.stop();
    await gantry?.stop();
    await fx?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'CI pushes the build through docker with its API token and publishes build info',
    { timeout: 120_000 },
    step(async () => {
      digest = fx?.record('tiny').digest ?? '?';
      await skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--preserve-digests',
        '--dest-creds',
        `ci:${ciToken}`,
        fx?.ociRef('tiny') ?? '?',
        docker(`docker/team/app:${BUILD_TAG}`),
      ]);
      assert.equal(await digestAt('docker-dev-local/team/app', BUILD_TAG), digest);
      assert.equal(await digestAt('docker-staging-local/team/app', BUILD_TAG), undefined);
      const build = await expect(
        'PUT',
        '/builds/team-app/1042',
        {
          startedAt: '2026-11-25T10:00:00Z',
          vcs: { url: 'https://git.example/team/app', revision: '3f2a9c1', branch: 'main' },
          ciUrl: 'https://ci.example/team/app/1042',
          artifacts: [{ digest, name: `team/app:${BUILD_TAG}` }],
          dependencies: [],
        },
        `Bearer ${ciToken}`,
        201,
      );
      assert.equal(build.publishedBy, 'ci');

      // A second build (1.5.0 later), pushed over HTTP with the same token as the password.
      const ci = new RegistryClient(url(), { authorization: basicAuth('ci', ciToken) });
      const config = makeConfig();
      const layer = makeBlob(2048);
      for (const blob of [config, layer]) await ci.pushBlob('docker/team/app', blob);
      const manifest = imageManifest({ config, layers: [layer] });
      await ci.pushManifest('docker/team/app', NEXT_BUILD_TAG, manifest);
      nextDigest = manifest.digest;
      await expect(
        'PUT',
        '/builds/team-app/1043',
        {
          startedAt: '2026-12-02T09:30:00Z',
          vcs: { url: 'https://git.example/team/app', revision: '77be01d', branch: 'main' },
          artifacts: [{ digest: nextDigest, name: `team/app:${NEXT_BUILD_TAG}` }],
        },
        `Bearer ${ciToken}`,
        201,
      );
    }),
  );

  it(
    'a developer cannot push to production: denied, nothing lands',
    { timeout: 120_000 },
    step(async () => {
      const err = await expectFailure(
        skopeo([
          'copy',
          '--dest-tls-verify=false',
          '--preserve-digests',
          '--dest-creds',
          `dev:${PASSWORD}`,
          fx?.ociRef('tiny') ?? '?',
          docker('docker-prod-local/team/app:1.4.2'),
        ]),
      );
      assert.match(err.stderr, /denied: user dev may not .*docker-prod-local\/team\/app/);
      assert.equal(await digestAt('docker-prod-local/team/app', '1.4.2'), undefined);
    }),
  );

  it(
    'a release manager cannot push to production either: it takes content only by promotion',
    { timeout: 120_000 },
    step(async () => {
      const err = await expectFailure(
        skopeo([
          'copy',
          '--dest-tls-verify=false',
          '--preserve-digests',
          '--dest-creds',
          `rm:${PASSWORD}`,
          fx?.ociRef('tiny') ?? '?',
          docker('docker-prod-local/team/app:1.4.2'),
        ]),
      );
      assert.match(
        err.stderr,
        /denied: docker-prod-local takes content only by promotion \(setting writes: promotion-only\).*promote into it: gantry promote .* --to docker-prod-local/,
      );
      assert.equal(await digestAt('docker-prod-local/team/app', '1.4.2'), undefined);
    }),
  );

  it(
    'staging refuses the build until QA passes it; then rm promotes it as 1.4.2 and the floating tags follow',
    { timeout: 60_000 },
    step(async () => {
      const toStaging = {
        source: `docker-dev-local/team/app:${BUILD_TAG}`,
        target: 'docker-staging-local',
        tags: ['1.4.2'],
      };
      const early = await expect('POST', '/promotions', toStaging, RM, 409);
      assert.deepEqual(early.failed, ['property qa.status = passed']);
      assert.match(early.detail, /property qa\.status is not set/);

      // QA: the developer annotates the digest in development.
      const props = await expect(
        'PATCH',
        `/repositories/docker-dev-local/images/team/app/manifests/${digest}/properties`,
        { properties: { 'qa.status': ['passed'], 'qa.run': ['nightly-118'] } },
        DEV,
        200,
      );
      assert.deepEqual(props.properties['qa.status'], ['passed']);
      // …but may not promote.
      const byDev = await expect('POST', '/promotions', toStaging, DEV, 403);
      assert.match(byDev.detail, /user dev may not promote in docker-staging-local\/team\/app/);

      const done = await expect('POST', '/promotions', { ...toStaging, comment: 'QA green' }, RM, 201);
      assert.equal(done.promoted, true);
      assert.equal(done.digest, digest);
      assert.deepEqual(done.tags, [{ tag: '1.4.2' }]);
      assert.deepEqual(done.gates, [
        {
          gate: 'property qa.status = passed',
          type: 'property',
          passed: true,
          reason: 'property qa.status is "passed"',
        },
      ]);
      assert.deepEqual([...done.floating].map((f: Json) => [f.tag, f.digest]).sort(), [
        ['1', digest],
        ['1.4', digest],
        ['latest', digest],
      ]);
      for (const tag of ['1.4.2', '1.4', '1', 'latest'])
        assert.equal(await digestAt('docker-staging-local/team/app', tag), digest, `staging ${tag}`);
      // Promotion is a copy by default: development keeps its build tag.
      assert.equal(await digestAt('docker-dev-local/team/app', BUILD_TAG), digest);
      // Through the virtual docker, as skopeo sees it.
      const { stdout } = await skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        `rm:${PASSWORD}`,
        '--raw',
        docker('docker-staging-local/team/app:1.4'),
      ]);
      assert.equal(sha256Of(stdout), digest);
    }),
  );

  it(
    'overwriting 1.4.2 in staging is refused: a push because staging is promotion-only, a promotion naming the rule',
    { timeout: 60_000 },
    step(async () => {
      const rmRegistry = new RegistryClient(url(), { authorization: RM });
      const other = imageManifest({ config: makeConfig(), layers: [makeBlob(1024)] });
      const pushed = await rmRegistry.putManifest('docker-staging-local/team/app', '1.4.2', other);
      assert.equal(pushed.status, 403, pushed.text());
      const error = pushed.json<{ errors: { code: string; message: string }[] }>().errors[0];
      assert.equal(error?.code, 'DENIED');
      assert.match(error?.message ?? '', /docker-staging-local takes content only by promotion/);

      await expect(
        'PATCH',
        `/repositories/docker-dev-local/images/team/app/manifests/${nextDigest}/properties`,
        { properties: { 'qa.status': ['passed'] } },
        DEV,
        200,
      );
      const byPromotion = await expect(
        'POST',
        '/promotions',
        {
          source: `docker-dev-local/team/app:${NEXT_BUILD_TAG}`,
          target: 'docker-staging-local',
          tags: ['1.4.2'],
        },
        RM,
        409,
      );
      assert.match(
        byPromotion.detail,
        /tag 1\.4\.2 of docker-staging-local\/team\/app is immutable \(rule semver\)/,
      );
      assert.equal(await digestAt('docker-staging-local/team/app', '1.4.2'), digest);
      assert.equal(await digestAt('docker-staging-local/team/app', nextDigest), undefined);
    }),
  );

  it(
    "production refuses the digest without a release manager's approval; rm approves and promotes",
    { timeout: 60_000 },
    step(async () => {
      const toProd = { source: 'docker-staging-local/team/app:1.4.2', target: 'docker-prod-local' };
      const refused = await expect('POST', '/promotions', toProd, RM, 409);
      assert.deepEqual(refused.failed, ['approval by a member of release-managers']);
      assert.match(
        refused.detail,
        /no approval of sha256:[0-9a-f]{12}… for docker-prod-local by a member of release-managers; ask one to run gantry approve/,
      );
      const byGate = Object.fromEntries(refused.gates.map((g: Json) => [g.type, g.passed]));
      assert.deepEqual(byGate, { promotedFrom: true, approval: false, build: true });
      assert.equal(await digestAt('docker-prod-local/team/app', '1.4.2'), undefined);

      // A developer's approval could not count: it is refused, not recorded.
      const byDev = await expect(
        'POST',
        '/approvals',
        { repository: 'docker-prod-local', digest, comment: 'lgtm' },
        DEV,
        403,
      );
      assert.match(byDev.detail, /count only from members of release-managers/);

      const approval = await expect(
        'POST',
        '/approvals',
        { repository: 'docker-prod-local', digest, comment: 'release 1.4.2' },
        RM,
        201,
      );
      assert.equal(approval.approver, 'rm');
      const done = await expect('POST', '/promotions', { ...toProd, comment: 'release 1.4.2' }, RM, 201);
      assert.equal(done.digest, digest);
      assert.deepEqual(
        done.gates.map((g: Json) => [g.type, g.passed, g.reason]),
        [
          ['promotedFrom', true, `${digest.slice(0, 19)}… has been in docker-staging-local`],
          ['approval', true, 'approved by rm'],
          ['build', true, 'built by team-app #1042 (published by ci through API token pipeline)'],
        ],
      );
      for (const tag of ['1.4.2', '1.4', '1', 'latest'])
        assert.equal(await digestAt('docker-prod-local/team/app', tag), digest, `prod ${tag}`);
    }),
  );

  it(
    'a second image reaches staging but not production: 409 naming the approval gate',
    { timeout: 60_000 },
    step(async () => {
      const staged = await expect(
        'POST',
        '/promotions',
        {
          source: `docker-dev-local/team/app:${NEXT_BUILD_TAG}`,
          target: 'docker-staging-local',
          tags: ['1.5.0'],
        },
        RM,
        201,
      );
      assert.deepEqual([...staged.floating].map((f: Json) => [f.tag, f.digest]).sort(), [
        ['1', nextDigest],
        ['1.5', nextDigest],
        ['latest', nextDigest],
      ]);
      assert.equal(await digestAt('docker-staging-local/team/app', '1.4'), digest, '1.4 must stay on 1.4.2');
      const refused = await expect(
        'POST',
        '/promotions',
        { source: 'docker-staging-local/team/app:1.5.0', target: 'docker-prod-local' },
        RM,
        409,
      );
      assert.deepEqual(refused.failed, ['approval by a member of release-managers']);
      assert.match(refused.detail, /no approval of .* by a member of release-managers/);
      assert.equal(await digestAt('docker-prod-local/team/app', '1.5.0'), undefined);
      assert.equal(await digestAt('docker-prod-local/team/app', 'latest'), digest, 'prod latest moved');
    }),
  );

  it(
    'rolling latest back one step in staging points it at 1.4.2 again',
    { timeout: 60_000 },
    step(async () => {
      assert.equal(await digestAt('docker-staging-local/team/app', 'latest'), nextDigest);
      const denied = await call(
        'POST',
        '/repositories/docker-staging-local/images/team/app/tags/latest/rollback',
        { steps: 1 },
        DEV,
      );
      assert.equal(denied.status, 403, JSON.stringify(denied.json));
      const rolled = await expect(
        'POST',
        '/repositories/docker-staging-local/images/team/app/tags/latest/rollback',
        { steps: 1 },
        RM,
        200,
      );
      assert.deepEqual(rolled, { tag: 'latest', from: nextDigest, to: digest });
      assert.equal(await digestAt('docker-staging-local/team/app', 'latest'), digest);
      assert.equal(await digestAt('docker-staging-local/team/app', '1.5.0'), nextDigest);
      const { events } = await expect(
        'GET',
        '/repositories/docker-staging-local/images/team/app/tags/latest/history',
        undefined,
        RM,
        200,
      );
      assert.deepEqual(
        events.map((e: Json) => [e.cause, e.oldDigest, e.newDigest, e.actor]),
        [
          ['rollback', nextDigest, digest, 'rm'],
          ['floating', digest, nextDigest, 'rm'],
          ['floating', null, digest, 'rm'],
        ],
      );
      // 1.4.2 is immutable: no rollback.
      const immutable = await call(
        'POST',
        '/repositories/docker-staging-local/images/team/app/tags/1.4.2/rollback',
        {},
        RM,
      );
      assert.equal(immutable.status, 409, JSON.stringify(immutable.json));
      assert.match(immutable.json.detail, /immutable \(rule semver\)/);
    }),
  );

  it(
    'an anonymous customer pulls docker-prod/team/app:1.4.2 and gets the digest CI pushed',
    { timeout: 180_000 },
    step(async () => {
      await publishProduction(url());
      if (dockerd) {
        const { stdout } = await dockerd.docker(['pull', `${host()}/docker-prod/team/app:1.4.2`], {
          timeoutMs: 120_000,
          env: { DOCKER_CONFIG: join(work, 'customer-docker') },
        });
        assert.match(stdout.toString(), new RegExp(`Digest: ${digest}`));
        const inspected = await dockerd.docker([
          'image',
          'inspect',
          '--format',
          '{{json .RepoDigests}}',
          `${host()}/docker-prod/team/app:1.4.2`,
        ]);
        assert.ok(
          inspected.stdout.toString().includes(`docker-prod/team/app@${digest}`),
          inspected.stdout.toString(),
        );
        // Anonymous is refused everywhere but the published production.
        const err = await expectFailure(
          dockerd.docker(['pull', `${host()}/docker-staging-local/team/app:1.4.2`], {
            timeoutMs: 60_000,
            env: { DOCKER_CONFIG: join(work, 'customer-docker') },
          }),
        );
        assert.match(err.stderr, /denied|unauthorized/);
      } else {
        process.stderr.write(`# no docker engine (${engineNote}): the customer pulls with skopeo\n`);
        const { stdout } = await skopeo([
          'inspect',
          '--tls-verify=false',
          '--raw',
          docker('docker-prod/team/app:1.4.2'),
        ]);
        assert.equal(sha256Of(stdout), digest);
        await skopeo([
          'copy',
          '--src-tls-verify=false',
          docker('docker-prod/team/app:1.4.2'),
          `oci:${join(work, 'customer-layout')}:1.4.2`,
        ]);
      }
      const staging = await expectFailure(
        skopeo(['inspect', '--tls-verify=false', '--raw', docker('docker-staging-local/team/app:1.4.2')]),
      );
      assert.match(staging.stderr, /denied|unauthorized/);
    }),
  );

  it(
    'the history of the digest shows every step with actors and gate results',
    { timeout: 60_000 },
    step(async () => {
      const { promotions } = await expect('GET', `/promotions?digest=${digest}`, undefined, RM, 200);
      const steps = [...promotions]
        .reverse()
        .map((p: Json) => [p.actor, p.sourceRepository, p.targetRepository, p.outcome, p.tags, p.mode]);
      assert.deepEqual(steps, [
        ['rm', 'docker-dev-local', 'docker-staging-local', 'refused', ['1.4.2'], 'copy'],
        ['rm', 'docker-dev-local', 'docker-staging-local', 'promoted', ['1.4.2'], 'copy'],
        ['rm', 'docker-staging-local', 'docker-prod-local', 'refused', ['1.4.2'], 'copy'],
        ['rm', 'docker-staging-local', 'docker-prod-local', 'promoted', ['1.4.2'], 'copy'],
      ]);
      const gatesOf = (p: Json) => p.gates.map((g: Json) => `${g.type}:${g.passed}`).join(',');
      assert.deepEqual([...promotions].reverse().map(gatesOf), [
        'property:false',
        'property:true',
        'promotedFrom:true,approval:false,build:true',
        'promotedFrom:true,approval:true,build:true',
      ]);
      const last = promotions[0];
      assert.equal(last.comment, 'release 1.4.2');
      assert.equal(last.digest, digest);
      assert.equal(last.sourceImage, 'team/app');
      assert.equal(last.targetImage, 'team/app');
      // The second image's history: staged, then refused production.
      const next = await expect('GET', `/promotions?digest=${nextDigest}`, undefined, RM, 200);
      assert.deepEqual(
        next.promotions.map((p: Json) => [p.targetRepository, p.outcome]),
        [
          ['docker-prod-local', 'refused'],
          ['docker-staging-local', 'promoted'],
        ],
      );
      // The digest traces back to the commit CI built.
      const trace = await expect('GET', `/digests/${digest}`, undefined, RM, 200);
      assert.equal(trace.source.revision, '3f2a9c1');
      const where = trace.locations.map((l: Json) => l.repository).sort();
      assert.deepEqual(where, ['docker-dev-local', 'docker-prod-local', 'docker-staging-local']);
    }),
  );
});
