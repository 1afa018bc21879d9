import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, admin } from '../auth/support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import type { RegistryClient } from '../support/http.ts';
import {
  digestAt,
  history,
  type Json,
  promoted,
  pushIndex,
  pushSingle,
  referrersOf,
  registry,
  setProperties,
} from './promotion-support.ts';

/** Promotions that take more than one tag along: Artifactory's whole image, and referrer tags on a move. */
describe('promoting an image with all its tags', () => {
  let gantry: RunningGantry;
  let reg: RegistryClient;
  let n = 0;
  const fresh = (prefix: string) => `${prefix}-${++n}`;
  const compat = (repoKey: string, body: unknown) =>
    fetch(`${gantry.url}/api/docker/${repoKey}/v2/promote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: ADMIN_AUTH },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Json }));

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    reg = registry(gantry.url);
    const local = (key: string, settings: Record<string, unknown> = {}) =>
      admin(gantry.url, 'POST', '/repositories', { key, kind: 'local', settings }, 201);
    await local('src-local');
    await local('plain-a');
    await local('gate-prop', { gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }] });
  });
  after(() => gantry?.stop());

  /** Three tags on two digests: 1.0 → first; 1.1 and stable → second. */
  async function twoVersions(image: string) {
    const first = (await pushSingle(reg, `src-local/${image}`, '1.0')).manifest.digest;
    const second = await pushSingle(reg, `src-local/${image}`, '1.1');
    await reg.pushManifest(`src-local/${image}`, 'stable', second.manifest);
    return { first, second: second.manifest.digest };
  }
  const tagsAt = async (name: string, tags: string[]) =>
    Object.fromEntries(await Promise.all(tags.map(async (t) => [t, await digestAt(reg, name, t)])));

  it('Artifactory promote without tag copies every tag of the image, one recorded promotion per digest', async () => {
    const image = fresh('whole-copy');
    const { first, second } = await twoVersions(image);
    const res = await compat('src-local', { targetRepo: 'plain-a', dockerRepository: image, copy: true });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.messages, [{ level: 'INFO', message: 'Promotion ended successfully' }]);
    assert.deepEqual(
      (res.json.promotions as Json[]).map((p) => [p.digest, p.tags.map((t: Json) => t.tag)]).sort(),
      [
        [first, ['1.0']],
        [second, ['1.1', 'stable']],
      ].sort(),
    );
    const all = { '1.0': first, '1.1': second, stable: second };
    assert.deepEqual(await tagsAt(`plain-a/${image}`, ['1.0', '1.1', 'stable']), all);
    assert.deepEqual(
      await tagsAt(`src-local/${image}`, ['1.0', '1.1', 'stable']),
      all,
      'copy keeps the source',
    );
    assert.equal((await history(gantry.url, { image, repository: 'plain-a' })).length, 2);
    assert.equal(await digestAt(reg, `plain-a/${image}`, 'latest'), undefined, 'no latest was invented');
  });

  it('Artifactory promote without tag and without copy moves the whole image', async () => {
    const image = fresh('whole-move');
    const { first, second } = await twoVersions(image);
    const res = await compat('src-local', {
      targetRepo: 'plain-a',
      dockerRepository: image,
      targetDockerRepository: `moved/${image}`,
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(await tagsAt(`plain-a/moved/${image}`, ['1.0', '1.1', 'stable']), {
      '1.0': first,
      '1.1': second,
      stable: second,
    });
    assert.deepEqual(await tagsAt(`src-local/${image}`, ['1.0', '1.1', 'stable']), {
      '1.0': undefined,
      '1.1': undefined,
      stable: undefined,
    });
  });

  it('a gate refusing one digest refuses the whole image: nothing is promoted', async () => {
    const image = fresh('whole-gate');
    const { first, second } = await twoVersions(image);
    await setProperties(
      gantry.url,
      { repository: 'src-local', image, digest: first },
      { 'qa.status': ['passed'] },
    );
    const res = await compat('src-local', { targetRepo: 'gate-prop', dockerRepository: image, copy: true });
    assert.equal(res.status, 409, JSON.stringify(res.json));
    assert.match(res.json.detail, /nothing was promoted/);
    assert.deepEqual(res.json.refused, [{ digest: second, failed: ['property qa.status = passed'] }]);
    assert.deepEqual(await tagsAt(`gate-prop/${image}`, ['1.0', '1.1']), {
      '1.0': undefined,
      '1.1': undefined,
    });
    const none = await compat('src-local', { targetRepo: 'plain-a', dockerRepository: fresh('no-such') });
    assert.equal(none.status, 404, JSON.stringify(none.json));
    const renamed = await compat('src-local', {
      targetRepo: 'plain-a',
      dockerRepository: image,
      targetTag: 'x',
    });
    assert.equal(renamed.status, 400, JSON.stringify(renamed.json));
  });

  it('promote --move carries the tags of referrers: set in the target, gone from the source', async () => {
    const image = fresh('move-referrers');
    const pushed = await pushIndex(reg, `src-local/${image}`, '2.0');
    const [signature, sbom] = pushed.referrers;
    assert.ok(signature && sbom);
    await reg.pushManifest(`src-local/${image}`, 'sbom', sbom);
    await reg.pushManifest(`src-local/${image}`, 'signature', signature);
    // The target already has "signature" for other content: that tag is not moved.
    const other = (await pushSingle(reg, `plain-a/${image}`, 'signature')).manifest.digest;
    await promoted(gantry.url, {
      source: `src-local/${image}:2.0`,
      target: 'plain-a',
      mode: 'move',
    });
    assert.deepEqual(await tagsAt(`plain-a/${image}`, ['2.0', 'sbom', 'signature']), {
      '2.0': pushed.index.digest,
      sbom: sbom.digest,
      signature: other,
    });
    assert.deepEqual(await tagsAt(`src-local/${image}`, ['2.0', 'sbom', 'signature']), {
      '2.0': undefined,
      sbom: undefined,
      signature: undefined,
    });
    assert.deepEqual(await referrersOf(reg, `plain-a/${image}`, pushed.index.digest), [signature.digest]);
    assert.equal(await digestAt(reg, `plain-a/${image}`, signature.digest), signature.digest);
  });
});
