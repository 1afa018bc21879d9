/**
 * POST /api/v1/promotions and friends against a running Gantry with access control as shipped:
 * every gate type passing and failing with its reason, dry runs that write nothing, copy and
 * move, an index with its children and referrers, idempotent repeats, permission refusals,
 * validation, the Artifactory-compatible endpoint and the history with its filters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from '../auth/support.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import type { RegistryClient } from '../support/http.ts';
import {
  configWith,
  digestAt,
  expectBlobs,
  history,
  type Json,
  promote,
  promoted,
  pushIndex,
  pushSingle,
  referrersOf,
  registry,
  setProperties,
} from './promotion-support.ts';

const RM = basicAuth('rm', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const READER = basicAuth('reader', PASSWORD);
const PM = basicAuth('pm', PASSWORD);
const SHORT = /sha256:[0-9a-f]{12}…/;

describe('promotions API', () => {
  let gantry: RunningGantry;
  let url = '';
  let reg: RegistryClient;
  let ciToken = '';
  let n = 0;
  /** A fresh image name under src-local. */
  const fresh = (prefix: string) => `${prefix}-${++n}`;

  const refusal = async (body: unknown, auth: string | undefined = ADMIN_AUTH) => {
    const res = await promote(url, body, auth);
    assert.equal(
      res.status,
      409,
      `expected 409 for ${JSON.stringify(body)}, got ${res.status} ${JSON.stringify(res.json)}`,
    );
    return res.json as Json;
  };
  const problem = async (
    body: unknown,
    status: number,
    detail: RegExp,
    auth: string | undefined = ADMIN_AUTH,
  ) => {
    const res = await promote(url, body, auth);
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.json)}`);
    assert.match(String(res.json.detail), detail);
    return res.json as Json;
  };

  before(
    async () => {
      gantry = await startGantry({ openAccess: false });
      url = gantry.url;
      reg = registry(url);
      ({ ciToken } = await createRoles(url));
      const local = (key: string, settings: Record<string, unknown> = {}) =>
        admin(url, 'POST', '/repositories', { key, kind: 'local', settings }, 201);
      await local('src-local');
      await local('plain-a');
      await local('plain-b');
      await local('plain-c');
      await local('gate-prop', { gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }] });
      await local('gate-exists', { gates: [{ type: 'property', key: 'jira' }] });
      await local('gate-approval', {
        gates: [{ type: 'approval', group: 'release-managers', notByPromoter: true }],
      });
      await local('gate-from', { gates: [{ type: 'promotedFrom', repository: 'plain-b' }] });
      await local('gate-checklist', {
        gates: [{ type: 'checklist', checks: ['non-root-user', 'healthcheck'] }],
      });
      await local('gate-build', { gates: [{ type: 'build' }] });
      await local('gate-multi', {
        gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }, { type: 'build' }],
      });
      // Release managers may promote into the test repositories; developers read them (to approve).
      await admin(
        url,
        'POST',
        '/permissions',
        {
          name: 'test-gates',
          repositories: ['src-local', 'plain-*', 'gate-*'],
          groups: { 'release-managers': ['delete', 'promote'], developers: ['read'] },
        },
        201,
      );
      // pm: reads the source, promotes into plain-* and may delete nothing.
      await admin(url, 'POST', '/users', { name: 'pm', password: PASSWORD }, 201);
      await admin(
        url,
        'POST',
        '/permissions',
        { name: 'test-pm', repositories: ['src-local', 'plain-*'], users: { pm: ['read', 'promote'] } },
        201,
      );
    },
    { timeout: 60_000 },
  );
  after(() => gantry?.stop());

  describe('gates', () => {
    it('property with equals: not set, wrong value, then the right value', async () => {
      const image = fresh('prop');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-prop' };
      const where = { repository: 'src-local', image, digest: manifest.digest };

      let r = await refusal(body);
      assert.deepEqual(r.failed, ['property qa.status = passed']);
      assert.deepEqual(r.gates, [
        {
          gate: 'property qa.status = passed',
          type: 'property',
          passed: false,
          reason: 'property qa.status is not set; set it with gantry props set',
        },
      ]);
      assert.match(r.detail, /refused: property qa\.status is not set/);
      assert.ok(String(r.detail).includes(manifest.digest), r.detail);

      await setProperties(url, where, { 'qa.status': ['failed'] });
      r = await refusal(body);
      assert.equal(r.gates[0].reason, 'property qa.status is "failed", gate wants "passed"');
      assert.match(r.detail, /property qa\.status is "failed", gate wants "passed"/);
      assert.equal(
        await digestAt(reg, `gate-prop/${image}`, '1.0.0'),
        undefined,
        'a refusal wrote the target',
      );

      await setProperties(url, where, { 'qa.status': ['passed'] });
      const ok = await promoted(url, body);
      assert.equal(ok.digest, manifest.digest);
      assert.deepEqual(ok.gates, [
        {
          gate: 'property qa.status = passed',
          type: 'property',
          passed: true,
          reason: 'property qa.status is "passed"',
        },
      ]);
      assert.equal(await digestAt(reg, `gate-prop/${image}`, '1.0.0'), manifest.digest);
      // Properties travel with the image (copyProperties defaults to true).
      const props = await api(
        url,
        'GET',
        `/repositories/gate-prop/images/${image}/manifests/${manifest.digest}/properties`,
      );
      assert.equal(props.status, 200, JSON.stringify(props.json));
      assert.deepEqual((props.json as Json).properties['qa.status'], ['passed']);
    });

    it('property without equals: missing, then any value passes', async () => {
      const image = fresh('exists');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-exists' };
      const r = await refusal(body);
      assert.deepEqual(r.failed, ['property jira exists']);
      assert.equal(r.gates[0].reason, 'property jira is not set; set it with gantry props set');
      await setProperties(
        url,
        { repository: 'src-local', image, digest: manifest.digest },
        { jira: ['APP-1', 'APP-2'] },
      );
      const ok = await promoted(url, body);
      assert.equal(ok.gates[0].passed, true);
      assert.equal(ok.gates[0].reason, 'property jira is "APP-1", "APP-2"');
    });

    it('approval by a group member other than the promoter', async () => {
      const image = fresh('approval');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-approval' };
      const gate = 'approval by a member of release-managers other than the promoter';

      let r = await refusal(body, RM);
      assert.deepEqual(r.failed, [gate]);
      assert.match(
        r.gates[0].reason,
        new RegExp(
          `^no approval of ${SHORT.source} for gate-approval by a member of release-managers other than the promoter; ask one to run gantry approve$`,
        ),
      );

      const approve = (auth: string) =>
        api(
          url,
          'POST',
          '/approvals',
          { repository: 'gate-approval', digest: manifest.digest, comment: 'ok' },
          auth,
        );
      // A developer's approval could not count (not in release-managers): it is not recorded.
      const byDev = await approve(DEV);
      assert.equal(byDev.status, 403, JSON.stringify(byDev.json));
      assert.match(
        String(byDev.json.detail),
        /approvals for gate-approval count only from members of release-managers; dev is not one/,
      );

      // rm approves, and rm promotes: the promoter's own approval does not count.
      assert.equal((await approve(RM)).status, 201);
      const listed = await api(
        url,
        'GET',
        `/approvals?digest=${manifest.digest}&repository=gate-approval`,
        undefined,
        RM,
      );
      assert.equal(listed.status, 200, JSON.stringify(listed.json));
      assert.deepEqual((listed.json as Json).approvals.map((a: Json) => a.approver).sort(), ['rm']);
      r = await refusal(body, RM);
      assert.match(r.gates[0].reason, /\(approvals by rm do not count\)/);

      // Anybody else (the administrator) may promote on rm's approval.
      const ok = await promoted(url, body);
      // Who approved, counting or not: what the web UI offers a Withdraw button by.
      assert.deepEqual(ok.gates, [
        { gate, type: 'approval', passed: true, reason: 'approved by rm', approvers: ['rm'] },
      ]);
      assert.equal(await digestAt(reg, `gate-approval/${image}`, '1.0.0'), manifest.digest);
    });

    it('an approval withdrawn by its approver, or by a manager, counts no more', async () => {
      const image = fresh('withdraw');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-approval', dryRun: true };
      const query = (extra = '') => `/approvals?digest=${manifest.digest}&repository=gate-approval${extra}`;
      const given = { repository: 'gate-approval', digest: manifest.digest };
      assert.equal((await api(url, 'POST', '/approvals', given, RM)).status, 201);
      assert.equal((await promote(url, body)).json.gates[0].passed, true);

      // Her own approval: rm withdraws it, and the gate fails again.
      assert.equal((await api(url, 'DELETE', query(), undefined, RM)).status, 204);
      const after = await promote(url, body);
      assert.equal(after.json.gates[0].passed, false, JSON.stringify(after.json));
      const again = await api(url, 'DELETE', query(), undefined, RM);
      assert.equal(again.status, 404);
      assert.match(String(again.json.detail), /^rm has not approved sha256:[0-9a-f]{64} for gate-approval$/);

      // Somebody else's: needs manage on the repository (the administrator has it, dev has not).
      assert.equal((await api(url, 'POST', '/approvals', given, RM)).status, 201);
      const byDev = await api(url, 'DELETE', query('&approver=rm'), undefined, DEV);
      assert.equal(byDev.status, 403, JSON.stringify(byDev.json));
      assert.match(String(byDev.json.detail), /user dev may not manage in repository gate-approval/);
      assert.equal((await api(url, 'DELETE', query('&approver=rm'), undefined, '')).status, 401);
      assert.equal(
        (await api(url, 'DELETE', '/approvals?repository=gate-approval', undefined, RM)).status,
        400,
      );
      assert.equal((await api(url, 'DELETE', query('&approver=rm'))).status, 204);
      const listed = await api(url, 'GET', query(), undefined, RM);
      assert.deepEqual((listed.json as Json).approvals, []);

      const audit = await api(url, 'GET', '/audit?action=approval.withdraw');
      assert.deepEqual(
        (audit.json as Json).events
          .filter((e: Json) => e.target === manifest.digest)
          .map((e: Json) => [e.actor, e.detail?.approver ?? null])
          .sort(),
        [
          ['admin', 'rm'],
          ['rm', null],
        ],
      );
    });

    it('approvals need a signed-in caller and a digest someone holds', async () => {
      const anonymous = await api(
        url,
        'POST',
        '/approvals',
        { repository: 'plain-a', digest: `sha256:${'a'.repeat(64)}` },
        '',
      );
      assert.equal(anonymous.status, 401, JSON.stringify(anonymous.json));
      const unknown = await api(url, 'POST', '/approvals', {
        repository: 'plain-a',
        digest: `sha256:${'a'.repeat(64)}`,
      });
      assert.equal(unknown.status, 404, JSON.stringify(unknown.json));
      const bad = await api(url, 'POST', '/approvals', { repository: 'plain-a', digest: 'sha256:nope' });
      assert.equal(bad.status, 400, JSON.stringify(bad.json));
    });

    it('promotedFrom: never there, then promoted there first', async () => {
      const image = fresh('from');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-from' };
      const r = await refusal(body);
      assert.deepEqual(r.failed, ['promoted from plain-b']);
      assert.match(
        r.gates[0].reason,
        new RegExp(`^${SHORT.source} has never been in plain-b; promote it there first$`),
      );
      await promoted(url, { source: `src-local/${image}:1.0.0`, target: 'plain-b' });
      const ok = await promoted(url, body);
      assert.equal(ok.gates[0].passed, true);
      assert.match(ok.gates[0].reason, new RegExp(`^${SHORT.source} has been in plain-b$`));
      assert.equal(await digestAt(reg, `gate-from/${image}`, '1.0.0'), manifest.digest);
    });

    it('checklist: root without a healthcheck fails both checks; a non-root user with one passes', async () => {
      const bad = fresh('check');
      await pushSingle(reg, `src-local/${bad}`, '1.0.0');
      const r = await refusal({ source: `src-local/${bad}:1.0.0`, target: 'gate-checklist' });
      assert.deepEqual(r.failed, ['checklist: non-root-user, healthcheck']);
      assert.match(
        r.gates[0].reason,
        /non-root-user: runs as root \(no USER set\); add USER with a non-root user/,
      );
      assert.match(r.gates[0].reason, /healthcheck: no HEALTHCHECK/);

      const good = fresh('check');
      const { manifest } = await pushSingle(
        reg,
        `src-local/${good}`,
        '1.0.0',
        configWith({ User: 'app', Healthcheck: { Test: ['CMD', 'true'] } }),
      );
      const ok = await promoted(url, { source: `src-local/${good}:1.0.0`, target: 'gate-checklist' });
      assert.deepEqual(ok.gates, [
        {
          gate: 'checklist: non-root-user, healthcheck',
          type: 'checklist',
          passed: true,
          reason: 'checks pass: non-root-user, healthcheck',
        },
      ]);
      assert.equal(await digestAt(reg, `gate-checklist/${good}`, '1.0.0'), manifest.digest);
      // The checklist endpoint says the same about each check.
      const list = await api(
        url,
        'GET',
        `/repositories/src-local/images/${good}/manifests/${manifest.digest}/checklist`,
      );
      assert.equal(list.status, 200, JSON.stringify(list.json));
      const byCheck = Object.fromEntries((list.json as Json).results.map((c: Json) => [c.check, c.status]));
      assert.equal(byCheck['non-root-user'], 'pass');
      assert.equal(byCheck.healthcheck, 'pass');
    });

    it('build: no recorded build, then one published with the digest', async () => {
      const image = fresh('build');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const body = { source: `src-local/${image}:1.0.0`, target: 'gate-build' };
      const r = await refusal(body);
      assert.deepEqual(r.failed, ['built by a recorded CI build']);
      assert.match(
        r.gates[0].reason,
        new RegExp(
          `^no recorded CI build produced ${SHORT.source}; publish build info from CI \\(gantry build publish\\)$`,
        ),
      );
      const build = await api(url, 'PUT', `/builds/app-ci/${n}`, {
        startedAt: '2026-11-25T10:00:00Z',
        vcs: { url: 'https://git.example/team/app', revision: 'abc1234', branch: 'main' },
        artifacts: [{ digest: manifest.digest, name: `${image}:1.0.0` }],
      });
      assert.equal(build.status, 201, JSON.stringify(build.json));
      const ok = await promoted(url, body);
      assert.deepEqual(ok.gates[0], {
        gate: 'built by a recorded CI build',
        type: 'build',
        passed: true,
        reason: `built by app-ci #${n} (published by admin)`,
      });
    });

    it('several failing gates: the 409 names each, with every reason in the detail', async () => {
      const image = fresh('multi');
      await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const r = await refusal({ source: `src-local/${image}:1.0.0`, target: 'gate-multi' });
      assert.deepEqual(r.failed, ['property qa.status = passed', 'built by a recorded CI build']);
      assert.equal(r.gates.length, 2);
      assert.match(
        r.detail,
        /property qa\.status is not set; set it with gantry props set; no recorded CI build produced/,
      );
    });
  });

  describe('dry runs', () => {
    it('a failing dry run answers 200 with the verdict and records nothing', async () => {
      const image = fresh('dry');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const res = await promote(url, {
        source: `src-local/${image}:1.0.0`,
        target: 'gate-prop',
        dryRun: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.dryRun, true);
      assert.equal(res.json.promoted, false);
      assert.equal(res.json.digest, manifest.digest);
      assert.equal(res.json.gates[0].passed, false);
      assert.equal(res.json.gates[0].reason, 'property qa.status is not set; set it with gantry props set');
      assert.deepEqual(res.json.copied, []);
      assert.deepEqual(await history(url, { digest: manifest.digest }), [], 'a dry run was recorded');
      assert.equal(await digestAt(reg, `gate-prop/${image}`, '1.0.0'), undefined);
    });

    it('a passing dry run says it would promote, and changes neither target nor history', async () => {
      const image = fresh('dry');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const res = await promote(url, {
        source: `src-local/${image}:1.0.0`,
        target: 'plain-a',
        tags: ['1.0.0', 'stable'],
        mode: 'move',
        dryRun: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.promoted, true);
      assert.equal(res.json.dryRun, true);
      assert.equal(res.json.mode, 'move');
      assert.deepEqual(res.json.tags, [{ tag: '1.0.0' }, { tag: 'stable' }]);
      assert.deepEqual(res.json.copied, []);
      assert.deepEqual(await history(url, { digest: manifest.digest }), []);
      assert.equal(await digestAt(reg, `plain-a/${image}`, manifest.digest), undefined, 'the dry run copied');
      assert.equal(await digestAt(reg, `plain-a/${image}`, 'stable'), undefined);
      // …and a dry-run move leaves the source as it was.
      assert.equal(await digestAt(reg, `src-local/${image}`, '1.0.0'), manifest.digest);
    });
  });

  describe('copy and move', () => {
    it('copy: both names hold the image, under the requested tags', async () => {
      const image = fresh('copy');
      const { manifest, blobs } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const ok = await promoted(url, {
        source: `src-local/${image}:1.0.0`,
        target: 'plain-c',
        tags: ['1.0.0', 'candidate'],
        comment: 'for the demo',
      });
      assert.equal(ok.mode, 'copy');
      assert.deepEqual(ok.copied, [manifest.digest]);
      assert.deepEqual(ok.tags, [{ tag: '1.0.0' }, { tag: 'candidate' }]);
      assert.deepEqual(ok.source, { repository: 'src-local', image });
      assert.deepEqual(ok.target, { repository: 'plain-c', image });
      assert.equal(await digestAt(reg, `src-local/${image}`, '1.0.0'), manifest.digest);
      assert.equal(await digestAt(reg, `plain-c/${image}`, '1.0.0'), manifest.digest);
      assert.equal(await digestAt(reg, `plain-c/${image}`, 'candidate'), manifest.digest);
      await expectBlobs(reg, `plain-c/${image}`, blobs);
    });

    it('copy into another image name with {repository, image} and a source digest', async () => {
      const image = fresh('rename');
      const { manifest, blobs } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const ok = await promoted(url, {
        source: { repository: 'src-local', image, digest: manifest.digest },
        target: { repository: 'plain-c', image: `released/${image}` },
        tags: ['1.0.0'],
      });
      assert.deepEqual(ok.target, { repository: 'plain-c', image: `released/${image}` });
      assert.equal(await digestAt(reg, `plain-c/released/${image}`, '1.0.0'), manifest.digest);
      await expectBlobs(reg, `plain-c/released/${image}`, blobs);
    });

    it('move: the source loses tag and manifest; the target serves the manifest and its blobs', async () => {
      const image = fresh('move');
      const { manifest, blobs } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const ok = await promoted(url, { source: `src-local/${image}:1.0.0`, target: 'plain-c', mode: 'move' });
      assert.equal(ok.mode, 'move');
      assert.equal(await digestAt(reg, `plain-c/${image}`, '1.0.0'), manifest.digest);
      await expectBlobs(reg, `plain-c/${image}`, blobs);
      assert.equal(
        await digestAt(reg, `src-local/${image}`, '1.0.0'),
        undefined,
        'the source tag is still there after a move',
      );
      assert.equal(
        await digestAt(reg, `src-local/${image}`, manifest.digest),
        undefined,
        'the source manifest is still there after a move',
      );
      const tags = await reg.tags(`src-local/${image}`);
      if (tags.status === 200) assert.deepEqual(tags.json<{ tags: string[] | null }>().tags ?? [], []);
      else assert.equal(tags.status, 404);
    });

    it('move out of a floating repository: its latest, X and X.Y fall back to what stays', async () => {
      const settings = { tags: { floating: true } };
      await admin(url, 'POST', '/repositories', { key: 'float-src', kind: 'local', settings }, 201);
      const image = fresh('float-move');
      const { manifest: stays } = await pushSingle(reg, `float-src/${image}`, '1.0.0');
      const { manifest: leaves } = await pushSingle(reg, `float-src/${image}`, '1.1.0');
      assert.equal(await digestAt(reg, `float-src/${image}`, 'latest'), leaves.digest);
      await promoted(url, { source: `float-src/${image}:1.1.0`, target: 'plain-c', mode: 'move' });
      for (const tag of ['latest', '1', '1.0'])
        assert.equal(await digestAt(reg, `float-src/${image}`, tag), stays.digest, tag);
      assert.equal(await digestAt(reg, `float-src/${image}`, '1.1'), undefined);
    });
  });

  describe('an index with platform children and referrers', () => {
    it('promotes the index, both children and the referrers; a second promotion is harmless', async () => {
      const image = fresh('multiarch');
      const pushed = await pushIndex(reg, `src-local/${image}`, '2.0.0');
      const ok = await promoted(url, { source: `src-local/${image}:2.0.0`, target: 'plain-a' });
      assert.equal(ok.digest, pushed.index.digest);
      assert.deepEqual([...ok.copied].sort(), [...pushed.all].sort(), 'copied is not the whole closure');
      assert.equal(ok.copied[0], pushed.index.digest, 'the root comes first in copied');
      const name = `plain-a/${image}`;
      assert.equal(await digestAt(reg, name, '2.0.0'), pushed.index.digest);
      for (const digest of pushed.all)
        assert.equal(await digestAt(reg, name, digest), digest, `${digest} missing in ${name}`);
      await expectBlobs(reg, name, pushed.blobs);
      assert.deepEqual(await referrersOf(reg, name, pushed.index.digest), [pushed.referrers[0]?.digest]);
      assert.deepEqual(await referrersOf(reg, name, pushed.children[0]?.manifest.digest as string), [
        pushed.referrers[1]?.digest,
      ]);

      const again = await promoted(url, { source: `src-local/${image}:2.0.0`, target: 'plain-a' });
      assert.deepEqual(again.copied, [], 'a second promotion copied again');
      assert.equal(again.tags[0].tag, '2.0.0');
      assert.equal(await digestAt(reg, name, '2.0.0'), pushed.index.digest);
      assert.deepEqual(await referrersOf(reg, name, pushed.index.digest), [pushed.referrers[0]?.digest]);
      const records = await history(url, { digest: pushed.index.digest, repository: 'plain-a' });
      assert.deepEqual(
        records.map((r) => [r.outcome, r.targetRepository]),
        [
          ['promoted', 'plain-a'],
          ['promoted', 'plain-a'],
        ],
      );
    });

    it('move of an index takes children and referrers out of the source', async () => {
      const image = fresh('multiarch-move');
      const pushed = await pushIndex(reg, `src-local/${image}`, '2.0.0');
      await promoted(url, { source: `src-local/${image}:2.0.0`, target: 'plain-b', mode: 'move' });
      for (const digest of pushed.all) {
        assert.equal(await digestAt(reg, `plain-b/${image}`, digest), digest);
        assert.equal(
          await digestAt(reg, `src-local/${image}`, digest),
          undefined,
          `${digest} left in the source`,
        );
      }
      await expectBlobs(reg, `plain-b/${image}`, pushed.blobs);
    });
  });

  describe('permissions', () => {
    let image = '';
    let digest = '';
    before(async () => {
      image = fresh('perm');
      digest = (await pushSingle(reg, `docker-dev-local/${image}`, '1.0.0')).manifest.digest;
      await setProperties(
        url,
        { repository: 'docker-dev-local', image, digest },
        { 'qa.status': ['passed'] },
      );
    });
    const body = () => ({ source: `docker-dev-local/${image}:1.0.0`, target: 'docker-staging-local' });

    it('anonymous: 401', async () => {
      const res = await promote(url, body(), '');
      assert.equal(res.status, 401, JSON.stringify(res.json));
    });

    it('reader and dev may not promote into staging: 403 naming the action; nothing written or recorded', async () => {
      await problem(body(), 403, /user reader may not (read|promote)/, READER);
      await problem(
        body(),
        403,
        new RegExp(`user dev may not promote in docker-staging-local/${image}`),
        DEV,
      );
      // The CI token is scoped to development: staging is not there for it.
      await problem(
        body(),
        404,
        /target repository docker-staging-local does not exist or you may not read it/,
        `Bearer ${ciToken}`,
      );
      assert.equal(await digestAt(reg, `docker-staging-local/${image}`, '1.0.0'), undefined);
      assert.deepEqual(await history(url, { digest }), []);
    });

    it('a move needs delete on the source: pm may copy but not move', async () => {
      const own = fresh('pm');
      const pushed = await pushSingle(reg, `src-local/${own}`, '1.0.0');
      await problem(
        { source: `src-local/${own}:1.0.0`, target: 'plain-a', mode: 'move' },
        403,
        new RegExp(`user pm may not delete in src-local/${own}`),
        PM,
      );
      assert.equal(await digestAt(reg, `src-local/${own}`, '1.0.0'), pushed.manifest.digest);
      const ok = await promoted(url, { source: `src-local/${own}:1.0.0`, target: 'plain-a' }, PM);
      assert.equal(ok.digest, pushed.manifest.digest);
      // …and promote is not a licence to write elsewhere: gate-prop is not pm's (pm cannot even
      // read it, so it answers as a repository that does not exist).
      await problem(
        { source: `src-local/${own}:1.0.0`, target: 'gate-prop' },
        404,
        /target repository gate-prop does not exist or you may not read it/,
        PM,
      );
    });

    it('rm may: 201, recorded with rm as the actor', async () => {
      const ok = await promoted(url, body(), RM);
      assert.equal(ok.digest, digest);
      const [record] = await history(url, { digest });
      assert.equal(record.actor, 'rm');
      assert.equal(record.outcome, 'promoted');
    });
  });

  describe('validation', () => {
    let image = '';
    before(async () => {
      image = fresh('valid');
      await pushSingle(reg, `src-local/${image}`, '1.0.0');
    });

    it('malformed requests: 400 saying what is wrong', async () => {
      await problem('not an object', 400, /send a JSON object/);
      await problem(
        { source: 'nonsense', target: 'plain-a' },
        400,
        /source must look like <repository>\/<image>:<tag>/,
      );
      await problem(
        { source: `src-local/${image}`, target: 'plain-a' },
        400,
        /source needs a tag or a digest/,
      );
      await problem({ source: `src-local/${image}@sha256:abc`, target: 'plain-a' }, 400, /is not a digest/);
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'src-local' },
        400,
        /source and target are the same/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'Not A Key' },
        400,
        /is not a repository key/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'plain-a', mode: 'teleport' },
        400,
        /mode must be/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'plain-a', tags: 'x' },
        400,
        /tags must be a list/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'plain-a', tags: ['no:colons'] },
        400,
        /is not a tag/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'plain-a', dryRun: 'yes' },
        400,
        /dryRun must be/,
      );
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'docker-prod' },
        400,
        /docker-prod is virtual; promotions go into local repositories/,
      );
      await problem(
        { source: `docker/${image}:1.0.0`, target: 'plain-a' },
        400,
        /docker is virtual; promote from the repository that holds the image/,
      );
    });

    it('unknown repositories, tags and digests: 404', async () => {
      await problem(
        { source: `src-local/${image}:1.0.0`, target: 'no-such-repo' },
        404,
        /target repository no-such-repo does not exist/,
      );
      await problem(
        { source: `no-such-repo/${image}:1.0.0`, target: 'plain-a' },
        404,
        /source repository no-such-repo does not exist/,
      );
      await problem(
        { source: `src-local/${image}:9.9.9`, target: 'plain-a' },
        404,
        new RegExp(`src-local/${image} has no tag 9\\.9\\.9`),
      );
      await problem(
        { source: `src-local/${image}@sha256:${'0'.repeat(64)}`, target: 'plain-a' },
        404,
        new RegExp(`src-local/${image} does not hold sha256:0{64}`),
      );
      assert.equal(await digestAt(reg, `plain-a/${image}`, '1.0.0'), undefined);
    });
  });

  describe('immutable tags in the target', () => {
    it('promoting another digest onto an existing version tag is refused naming the rule', async () => {
      const image = fresh('immutable');
      const first = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      await promoted(url, { source: `src-local/${image}:1.0.0`, target: 'plain-a' });
      const second = await pushSingle(reg, `src-local/${image}`, 'next');
      await problem(
        { source: `src-local/${image}:next`, target: 'plain-a', tags: ['1.0.0'] },
        409,
        new RegExp(`tag 1\\.0\\.0 of plain-a/${image} is immutable \\(rule semver\\)`),
      );
      assert.equal(await digestAt(reg, `plain-a/${image}`, '1.0.0'), first.manifest.digest);
      assert.equal(await digestAt(reg, `plain-a/${image}`, second.manifest.digest), undefined);
    });
  });

  describe('Artifactory-compatible promote', () => {
    const compat = (repoKey: string, body: unknown, auth: string | undefined = ADMIN_AUTH) =>
      fetch(`${url}/api/docker/${repoKey}/v2/promote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Json }));

    it('copy: true keeps the source; the reply says it succeeded', async () => {
      const image = fresh('art-copy');
      const { manifest } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const res = await compat('src-local', {
        targetRepo: 'plain-b',
        dockerRepository: image,
        tag: '1.0.0',
        copy: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json.messages, [{ level: 'INFO', message: 'Promotion ended successfully' }]);
      assert.equal(res.json.mode, 'copy');
      assert.equal(await digestAt(reg, `plain-b/${image}`, '1.0.0'), manifest.digest);
      assert.equal(await digestAt(reg, `src-local/${image}`, '1.0.0'), manifest.digest);
      const [record] = await history(url, { digest: manifest.digest });
      assert.equal(record.comment, 'Artifactory-compatible promotion');
      assert.equal(record.mode, 'copy');
    });

    it('copy defaults to false: a move, with targetTag and targetDockerRepository', async () => {
      const image = fresh('art-move');
      const { manifest, blobs } = await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const res = await compat('src-local', {
        targetRepo: 'plain-b',
        dockerRepository: image,
        tag: '1.0.0',
        targetTag: 'release',
        targetDockerRepository: `art/${image}`,
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.mode, 'move');
      assert.equal(await digestAt(reg, `plain-b/art/${image}`, 'release'), manifest.digest);
      await expectBlobs(reg, `plain-b/art/${image}`, blobs);
      assert.equal(
        await digestAt(reg, `src-local/${image}`, '1.0.0'),
        undefined,
        'Artifactory default (move) left the source tag',
      );
    });

    it('gates, permissions and validation apply as on /api/v1/promotions', async () => {
      const image = fresh('art-gate');
      await pushSingle(reg, `src-local/${image}`, '1.0.0');
      const gated = await compat('src-local', {
        targetRepo: 'gate-build',
        dockerRepository: image,
        tag: '1.0.0',
        copy: true,
      });
      assert.equal(gated.status, 409, JSON.stringify(gated.json));
      assert.deepEqual(gated.json.failed, ['built by a recorded CI build']);
      const reader = await compat(
        'src-local',
        { targetRepo: 'plain-b', dockerRepository: image, tag: '1.0.0', copy: true },
        READER,
      );
      // The reader cannot read src-local: as if it did not exist.
      assert.equal(reader.status, 404, JSON.stringify(reader.json));
      const anonymous = await compat(
        'src-local',
        { targetRepo: 'plain-b', dockerRepository: image, tag: '1.0.0', copy: true },
        '',
      );
      assert.equal(anonymous.status, 401, JSON.stringify(anonymous.json));
      const bad = await compat('src-local', { dockerRepository: image });
      assert.equal(bad.status, 400, JSON.stringify(bad.json));
      const badCopy = await compat('src-local', {
        targetRepo: 'plain-b',
        dockerRepository: image,
        copy: 'yes',
      });
      assert.equal(badCopy.status, 400, JSON.stringify(badCopy.json));
      assert.equal(await digestAt(reg, `plain-b/${image}`, '1.0.0'), undefined);
    });
  });

  describe('history', () => {
    it('filters by image, digest and repository; refusals are recorded with their gates', async () => {
      const a = fresh('hist');
      const b = fresh('hist');
      const da = (await pushSingle(reg, `src-local/${a}`, '1.0.0')).manifest.digest;
      const db = (await pushSingle(reg, `src-local/${b}`, '1.0.0')).manifest.digest;
      await promoted(url, { source: `src-local/${a}:1.0.0`, target: 'plain-a', comment: 'a to plain-a' });
      await refusal({ source: `src-local/${a}:1.0.0`, target: 'gate-build' }, RM);
      await promoted(url, { source: `src-local/${b}:1.0.0`, target: 'plain-b' }, RM);

      const byDigest = await history(url, { digest: da });
      assert.equal(byDigest.length, 2, JSON.stringify(byDigest));
      const [refused, ok] = byDigest; // newest first
      assert.equal(refused.outcome, 'refused');
      assert.equal(refused.actor, 'rm');
      assert.equal(refused.targetRepository, 'gate-build');
      assert.deepEqual(
        refused.gates.map((g: Json) => [g.type, g.passed]),
        [['build', false]],
      );
      assert.match(refused.gates[0].reason, /no recorded CI build produced/);
      assert.equal(ok.outcome, 'promoted');
      assert.equal(ok.actor, 'admin');
      assert.equal(ok.sourceRepository, 'src-local');
      assert.equal(ok.sourceImage, a);
      assert.equal(ok.targetRepository, 'plain-a');
      assert.equal(ok.targetImage, a);
      assert.equal(ok.digest, da);
      assert.deepEqual(ok.tags, ['1.0.0']);
      assert.equal(ok.mode, 'copy');
      assert.equal(ok.comment, 'a to plain-a');
      assert.deepEqual(ok.gates, []);
      assert.ok(typeof ok.id === 'number' && ok.id < refused.id, 'newest first by id');
      assert.ok(!Number.isNaN(Date.parse(ok.at)));

      const byImage = await history(url, { image: a });
      assert.deepEqual(
        byImage.map((r) => r.id),
        byDigest.map((r) => r.id),
      );
      const byImageB = await history(url, { image: b });
      assert.deepEqual(
        byImageB.map((r) => [r.digest, r.targetRepository, r.actor]),
        [[db, 'plain-b', 'rm']],
      );

      const byRepo = await history(url, { repository: 'plain-b' });
      assert.ok(byRepo.length > 0);
      for (const r of byRepo)
        assert.ok(r.sourceRepository === 'plain-b' || r.targetRepository === 'plain-b', JSON.stringify(r));
      assert.ok(byRepo.some((r) => r.digest === db));
      assert.ok(!byRepo.some((r) => r.digest === da));

      const bad = await api(url, 'GET', '/promotions?digest=sha256:nope');
      assert.equal(bad.status, 400, JSON.stringify(bad.json));
      // Only what the caller may read: customers read docker-prod only.
      assert.deepEqual(await history(url, { image: a }, basicAuth('customer', PASSWORD)), []);
    });
  });
});
