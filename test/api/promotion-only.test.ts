/**
 * Stages written around their gates (issue #11, findings 2 and 6), against a running Gantry with
 * access control as shipped:
 * - `writes: promotion-only` repositories (staging and production by default) refuse every way
 *   content arrives over the registry API (upload start, monolithic upload, PATCH and PUT of an
 *   open upload, mount, manifest PUT, a push through a virtual whose deployment repository is
 *   promotion-only) with DENIED naming the setting, administrators included; promotions still
 *   land; deletes stay with delete holders; turning the setting off is audited.
 * - a promotion that re-points an existing tag of the target needs delete there besides promote
 *   (dry runs and the Artifactory-compatible endpoint too); re-promoting the same digest is no
 *   move, and the floating tags the server moves afterwards are not the caller's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from '../auth/support.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { makeBlob, RegistryClient, type Reply } from '../support/http.ts';
import {
  digestAt,
  history,
  type Json,
  type PushedSingle,
  promote,
  promoted,
  pushSingle,
  registry,
} from './promotion-support.ts';

const RM = basicAuth('rm', PASSWORD);
const DEV = basicAuth('dev', PASSWORD);
const PM = basicAuth('pm', PASSWORD);

/** A registry reply that is 403 DENIED naming the promotion-only setting of `key`. */
function assertPromotionOnly(res: Reply, key: string, what: string): void {
  assert.equal(res.status, 403, `${what}: ${res.status} ${res.text()}`);
  const [error] = (JSON.parse(res.text()) as Json).errors;
  assert.equal(error.code, 'DENIED', what);
  assert.match(
    error.message,
    new RegExp(`${key} takes content only by promotion \\(setting writes: promotion-only\\)`),
  );
  assert.match(error.message, new RegExp(`promote into it: gantry promote .* --to ${key}`));
}

describe('promotion-only stages and tag moves', () => {
  let gantry: RunningGantry;
  let url = '';
  let adminReg: RegistryClient;
  /** An image pushed into development, tagged 1.0.0. */
  let image: PushedSingle;
  const source = 'docker-dev-local/team/app';

  const auditEvents = async (query: string): Promise<Json[]> => {
    // Audit events reach the database in batches every 25 ms.
    await sleep(100);
    const res = await api(url, 'GET', `/audit${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.events as Json[];
  };

  before(
    async () => {
      gantry = await startGantry({ openAccess: false });
      url = gantry.url;
      adminReg = registry(url);
      await createRoles(url);
      image = await pushSingle(adminReg, source, '1.0.0');
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await gantry?.stop();
  });

  it('the default pipeline makes staging and production promotion-only, development not', async () => {
    const writes = async (key: string) =>
      ((await admin(url, 'GET', `/repositories/${key}`, undefined, 200)).settings as Json).writes;
    assert.equal(await writes('docker-staging-local'), 'promotion-only');
    assert.equal(await writes('docker-prod-local'), 'promotion-only');
    assert.equal(await writes('docker-dev-local'), undefined);
    // No grant shows as deploy where nobody may push: rm has delete (which implies deploy) there.
    const actions = async (key: string) =>
      (await api(url, 'GET', `/repositories/${key}`, undefined, RM)).json.actions;
    assert.deepEqual(await actions('docker-prod-local'), ['read', 'annotate', 'delete', 'promote']);
    assert.deepEqual(await actions('docker-dev-local'), ['read', 'annotate', 'deploy', 'delete']);
  });

  it('refuses upload start, monolithic upload, mount and manifest PUT into production, for the administrator and a release manager', async () => {
    const name = 'docker-prod-local/team/app';
    const blob = makeBlob(256);
    for (const [who, auth] of [
      ['admin', ADMIN_AUTH],
      ['rm', RM],
    ] as const) {
      const reg = registry(url, auth);
      assertPromotionOnly(
        await reg.request('POST', `/v2/${name}/blobs/uploads/`),
        'docker-prod-local',
        `${who} POST`,
      );
      assertPromotionOnly(
        await reg.request('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
          headers: { 'content-type': 'application/octet-stream' },
          body: blob.bytes,
        }),
        'docker-prod-local',
        `${who} monolithic POST`,
      );
      const layer = image.blobs[1]?.digest ?? '?';
      assertPromotionOnly(
        await reg.request('POST', `/v2/${name}/blobs/uploads/?mount=${layer}&from=${source}`),
        'docker-prod-local',
        `${who} mount`,
      );
      assertPromotionOnly(
        await reg.putManifest(name, '9.9.9', image.manifest),
        'docker-prod-local',
        `${who} manifest PUT`,
      );
    }
    assert.equal(await digestAt(adminReg, name, '9.9.9'), undefined);
    assert.equal((await adminReg.request('HEAD', `/v2/${name}/blobs/${blob.digest}`)).status, 404);
    const denied = await auditEvents('?action=deploy.denied&repository=docker-prod-local');
    assert.ok(denied.some((e) => e.actor === 'rm' && e.detail.reason === 'writes: promotion-only'));
  });

  it('keeps the usual refusals for callers who may not write at all: a developer is denied, an anonymous caller challenged', async () => {
    const name = 'docker-prod-local/team/app';
    const dev = await registry(url, DEV).request('POST', `/v2/${name}/blobs/uploads/`);
    assert.equal(dev.status, 403);
    assert.match(
      dev.text(),
      /user dev may not push to docker-prod-local\/team\/app: no permission target grants deploy/,
    );
    const anonymous = await new RegistryClient(url).request('POST', `/v2/${name}/blobs/uploads/`);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.text(), /promotion-only/);
  });

  it('refuses PATCH and PUT of an upload opened before the setting was turned on', async () => {
    await admin(url, 'POST', '/repositories', { key: 'turning-local', kind: 'local' }, 201);
    const name = 'turning-local/team/app';
    const location = await adminReg.startUpload(name);
    await admin(url, 'PATCH', '/repositories/turning-local', { settings: { writes: 'promotion-only' } }, 200);
    const blob = makeBlob(128);
    const patched = await adminReg.request('PATCH', adminReg.uploadUrl(location), {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    assertPromotionOnly(patched, 'turning-local', 'PATCH');
    const finished = await adminReg.request('PUT', adminReg.uploadUrl(location, { digest: blob.digest }), {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    assertPromotionOnly(finished, 'turning-local', 'PUT');
  });

  it('refuses a push through a virtual repository whose deployment repository is promotion-only', async () => {
    await admin(
      url,
      'POST',
      '/repositories',
      {
        key: 'release',
        kind: 'virtual',
        settings: { members: ['docker-prod-local'], deploymentRepository: 'docker-prod-local' },
      },
      201,
    );
    const res = await adminReg.request('POST', '/v2/release/team/app/blobs/uploads/');
    assertPromotionOnly(res, 'docker-prod-local', 'POST through the virtual');
    assertPromotionOnly(
      await adminReg.putManifest('release/team/app', '1.0.0', image.manifest),
      'docker-prod-local',
      'manifest PUT through the virtual',
    );
  });

  it('lets content in by promotion, and deletes stay with delete holders', async () => {
    await api(
      url,
      'PATCH',
      `/repositories/docker-dev-local/images/team/app/manifests/${image.manifest.digest}/properties`,
      {
        properties: { 'qa.status': ['passed'] },
      },
    );
    await promoted(url, { source: `${source}:1.0.0`, target: 'docker-staging-local' }, RM);
    assert.equal(await digestAt(adminReg, 'docker-staging-local/team/app', '1.0.0'), image.manifest.digest);
    assert.equal(await digestAt(adminReg, 'docker-staging-local/team/app', 'latest'), image.manifest.digest);
    // Removing content is not content arriving: rm (delete on staging) may delete a mutable tag.
    const removed = await registry(url, RM).request(
      'DELETE',
      '/v2/docker-staging-local/team/app/manifests/latest',
    );
    assert.equal(removed.status, 202, removed.text());
  });

  it('validates the setting and audits turning it off', async () => {
    const bad = await api(url, 'PATCH', '/repositories/turning-local', { settings: { writes: 'never' } });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.detail), /writes must be "any" .* or "promotion-only"/);
    await admin(url, 'PATCH', '/repositories/turning-local', { settings: {} }, 200);
    const [update] = await auditEvents('?action=repository.update&repository=turning-local&limit=1');
    assert.deepEqual(update.detail.writes, { from: 'promotion-only', to: 'any' });
    assert.equal(update.actor, 'admin');
    // Off again: pushes land.
    await pushSingle(adminReg, 'turning-local/team/app', 'direct');
  });

  describe('tag moves by promotion', () => {
    let other: PushedSingle;
    let third: PushedSingle;

    before(async () => {
      other = await pushSingle(adminReg, source, '2.0.0');
      third = await pushSingle(adminReg, source, '1.1.0');
      await admin(url, 'POST', '/repositories', { key: 'moves-local', kind: 'local' }, 201);
      await admin(
        url,
        'POST',
        '/repositories',
        { key: 'floats-local', kind: 'local', settings: { tags: { floating: true } } },
        201,
      );
      await admin(url, 'POST', '/users', { name: 'pm', password: PASSWORD, groups: ['readers'] }, 201);
      await admin(
        url,
        'POST',
        '/permissions',
        { name: 'promoters', repositories: ['moves-local', 'floats-local'], users: { pm: ['promote'] } },
        201,
      );
    });

    it('sets a new tag with promote alone; moving it to another digest needs delete, dry run included', async () => {
      await promoted(url, { source: `${source}:1.0.0`, target: 'moves-local', tags: ['stable'] }, PM);
      // The same digest again is not a move.
      await promoted(url, { source: `${source}:1.0.0`, target: 'moves-local', tags: ['stable'] }, PM);
      for (const dryRun of [true, false]) {
        const res = await promote(
          url,
          { source: `${source}:2.0.0`, target: 'moves-local', tags: ['stable'], dryRun },
          PM,
        );
        assert.equal(res.status, 403, JSON.stringify(res.json));
        assert.match(
          String(res.json.detail),
          /user pm may not move the existing tag stable \(now sha256:[0-9a-f]{64}\) of moves-local\/team\/app: moving a tag needs delete on moves-local besides promote, and delete is missing/,
        );
        assert.equal(res.json.missing, 'delete');
      }
      assert.equal(await digestAt(adminReg, 'moves-local/team/app', 'stable'), image.manifest.digest);
      const refusals = (await history(url, { repository: 'moves-local' })).filter(
        (p) => p.outcome === 'refused',
      );
      assert.equal(refusals.length, 1, 'one refusal recorded: dry runs are not');
      assert.equal(refusals[0].digest, other.manifest.digest);
      assert.ok(refusals[0].gates.some((g: Json) => g.type === 'tag-move' && !g.passed));
      const audited = await auditEvents('?action=promotion.refused&repository=moves-local');
      assert.ok(audited.some((e) => e.actor === 'pm' && /needs delete/.test(e.detail.reason)));
    });

    it('the Artifactory-compatible endpoint is held to the same rule', async () => {
      const res = await fetch(`${url}/api/docker/docker-dev-local/v2/promote`, {
        method: 'POST',
        headers: { authorization: PM, 'content-type': 'application/json' },
        body: JSON.stringify({
          targetRepo: 'moves-local',
          dockerRepository: 'team/app',
          tag: '2.0.0',
          targetTag: 'stable',
          copy: true,
        }),
      });
      const body = (await res.json()) as Json;
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.match(body.detail, /needs delete on moves-local/);
    });

    it('with delete on the target the tag moves', async () => {
      await admin(
        url,
        'PUT',
        '/permissions/promoters',
        {
          name: 'promoters',
          repositories: ['moves-local', 'floats-local'],
          users: { pm: ['promote', 'delete'] },
        },
        200,
      );
      const done = await promoted(
        url,
        { source: `${source}:2.0.0`, target: 'moves-local', tags: ['stable'] },
        PM,
      );
      assert.deepEqual(done.tags, [{ tag: 'stable', previousDigest: image.manifest.digest }]);
      assert.equal(await digestAt(adminReg, 'moves-local/team/app', 'stable'), other.manifest.digest);
      await admin(
        url,
        'PUT',
        '/permissions/promoters',
        { name: 'promoters', repositories: ['moves-local', 'floats-local'], users: { pm: ['promote'] } },
        200,
      );
    });

    it('floating tags the server moves after a promotion need no delete', async () => {
      await promoted(url, { source: `${source}:1.0.0`, target: 'floats-local' }, PM);
      assert.equal(await digestAt(adminReg, 'floats-local/team/app', 'latest'), image.manifest.digest);
      const done = await promoted(url, { source: `${source}:1.1.0`, target: 'floats-local' }, PM);
      assert.deepEqual(done.floating.map((f: Json) => f.tag).sort(), ['1', '1.1', 'latest']);
      assert.equal(await digestAt(adminReg, 'floats-local/team/app', 'latest'), third.manifest.digest);
      assert.equal(await digestAt(adminReg, 'floats-local/team/app', '1'), third.manifest.digest);
      // Naming a floating tag oneself is the caller's move like any other.
      const named = await promote(
        url,
        { source: `${source}:1.0.0`, target: 'floats-local', tags: ['latest'] },
        PM,
      );
      assert.equal(named.status, 403, JSON.stringify(named.json));
    });
  });
});
