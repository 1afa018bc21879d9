import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { callApi, problem } from '../api/support.ts';
import { seedDirectly } from '../support/direct-writes.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type PushedImage, RegistryClient } from '../support/http.ts';

const AUTH = basicAuth(ADMIN.user, ADMIN.password);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Item {
  image: string;
  tag?: string;
  digest: string;
  action: 'keep' | 'remove';
  rule: string;
}

describe('retention: dry run, removal with cause retention, protections', () => {
  let gantry: RunningGantry;
  let registry: RegistryClient;
  const api = (method: string, path: string, body?: unknown) =>
    callApi(gantry.url, method, path, { auth: AUTH, ...(body === undefined ? {} : { body }) });
  const setSettings = async (key: string, changes: Record<string, unknown>) => {
    const current = await api('GET', `/repositories/${key}`);
    const res = await api('PATCH', `/repositories/${key}`, {
      settings: { ...current.body.settings, ...changes },
    });
    assert.equal(res.status, 200, res.text);
  };
  const evaluate = async (key: string, body: unknown) => {
    const res = await api('POST', `/retention/${key}/evaluate`, body);
    assert.equal(res.status, 200, res.text);
    return res.body as { items: Item[]; removed: { tags: number; manifests: number }; dryRun: boolean };
  };
  const status = async (name: string, ref: string) => (await registry.getManifest(name, ref)).status;

  before(async () => {
    gantry = await startGantry();
    registry = new RegistryClient(gantry.url, { authorization: AUTH });
  });
  after(() => gantry.stop());

  it('refuses bad rules with every problem named', async () => {
    await problem(
      api('PATCH', '/repositories/docker-dev-local', {
        settings: { retention: { rules: [{ keep: 'last' }, { remove: 'everything' }] } },
      }),
      400,
      /retention\.rules\[0\] count must be a whole number.*retention\.rules\[1\] remove must be "untagged" or "not-pulled"/s,
    );
    await problem(
      api('POST', '/retention/docker-dev-local/evaluate', {}),
      400,
      /has no retention rules; set settings\.retention/,
    );
    await problem(api('POST', '/retention/docker-nope/evaluate', {}), 404, /does not exist/);
    await problem(
      api('POST', '/retention/docker-dev-local/evaluate', {
        dryRun: false,
        rules: [{ keep: 'last', count: 1 }],
      }),
      400,
      /only with dryRun: true/,
    );
  });

  it('a dry run lists each decision; the run removes exactly that, in the tag history and the audit log', async () => {
    const key = 'docker-dev-local';
    const name = `${key}/app`;
    const builds: PushedImage[] = [];
    for (const n of [1, 2, 3, 4]) {
      builds.push(await registry.pushImage(name, `b-${n}`));
      await sleep(5);
    }
    const release = await registry.pushImage(name, '1.0.0'); // immutable by the default tag rules
    const held = await registry.pushImage(name, 'held');
    const setHold = await api(
      'PATCH',
      `/repositories/${key}/images/app/manifests/${held.manifest.digest}/properties`,
      {
        properties: { 'gantry.hold': 'true' },
      },
    );
    assert.equal(setHold.status, 200, setHold.text);
    const promoted = await registry.pushImage(name, 'promoted');
    await seedDirectly(gantry.url, ['docker-staging-local'], async () => {
      for (const blob of [promoted.config, ...promoted.layers])
        await registry.pushBlob('docker-staging-local/app', blob);
      await registry.pushManifest('docker-staging-local/app', 'rc', promoted.manifest);
    });
    await setSettings(key, {
      retention: {
        rules: [
          { keep: 'last', count: 2, tags: 'b-*' },
          { remove: 'untagged', days: 0 },
        ],
      },
    });

    const preview = await evaluate(key, {});
    assert.equal(preview.dryRun, true);
    const byTag = new Map(preview.items.filter((i) => i.tag).map((i) => [i.tag, `${i.action}: ${i.rule}`]));
    assert.deepEqual(Object.fromEntries(byTag), {
      '1.0.0': 'keep: immutable tag (rule semver); no rule says immutable: true',
      'b-1': 'remove: no keep rule matched',
      'b-2': 'remove: no keep rule matched',
      'b-3': 'keep: keep last 2 tags matching b-* by push time',
      'b-4': 'keep: keep last 2 tags matching b-* by push time',
      held: 'keep: held by property gantry.hold=true',
      promoted: 'keep: present in a later stage (docker-staging-local)',
    });
    const removedManifests = preview.items
      .filter((i) => !i.tag && i.action === 'remove')
      .map((i) => i.digest);
    assert.deepEqual(
      removedManifests.sort(),
      [builds[0]?.manifest.digest, builds[1]?.manifest.digest].sort(),
    );
    // A dry run removes nothing.
    assert.equal(await status(name, 'b-1'), 200);

    const run = await evaluate(key, { dryRun: false });
    assert.deepEqual(run.removed, { tags: 2, manifests: 2 });
    assert.equal(await status(name, 'b-1'), 404);
    assert.equal(await status(name, builds[0]?.manifest.digest ?? ''), 404);
    for (const kept of ['b-3', 'b-4', '1.0.0', 'held', 'promoted'])
      assert.equal(await status(name, kept), 200, kept);
    assert.equal(await status(name, release.manifest.digest), 200);

    const history = await api('GET', `/repositories/${key}/images/app/tags/b-1/history`);
    assert.equal(history.status, 200, history.text);
    assert.equal(history.body.events[0].cause, 'retention');
    assert.equal(history.body.events[0].actor, ADMIN.user);

    await sleep(100); // the audit log writes in batches
    const audit = await api('GET', `/audit?action=retention.remove&repository=${key}`);
    assert.equal(audit.status, 200, audit.text);
    const targets = audit.body.events.map((e: { target: string }) => e.target).sort();
    assert.deepEqual(
      targets,
      [`app:b-1`, `app:b-2`, `app@${builds[0]?.manifest.digest}`, `app@${builds[1]?.manifest.digest}`].sort(),
    );
    const runs = await api('GET', `/audit?action=retention.run&repository=${key}`);
    assert.equal(runs.body.events.length, 1);

    // A second run finds nothing more to remove.
    const again = await evaluate(key, { dryRun: false });
    assert.deepEqual(again.removed, { tags: 0, manifests: 0 });
  });

  it('previews unsaved rules without saving or removing anything', async () => {
    const preview = await evaluate('docker-dev-local', { rules: [{ keep: 'last', count: 0, tags: 'b-*' }] });
    const removed = preview.items.filter((i) => i.action === 'remove').map((i) => i.tag);
    assert.deepEqual(removed.sort(), ['b-3', 'b-4']);
    assert.equal(await status('docker-dev-local/app', 'b-3'), 200);
  });

  it('writes pull times in batches, not per pull: they reach the database at shutdown at the latest', async () => {
    const key = 'docker-dev-local';
    const pulled = await registry.pushImage(`${key}/pulled`, 'v');
    for (let i = 0; i < 20; i++) assert.equal(await status(`${key}/pulled`, 'v'), 200);
    // HEAD is a check, not a pull.
    const notPulled = await registry.pushImage(`${key}/checked`, 'v');
    await registry.request('HEAD', `/v2/${key}/checked/manifests/v`);
    await gantry.stop({ keepData: true });
    const db = new BetterSqlite3(join(gantry.dataDir, 'gantry.db'), { readonly: true });
    try {
      const rows = db.prepare('select digest from manifest_pulls where repository = ?').all(key) as {
        digest: string;
      }[];
      const digests = rows.map((r) => r.digest);
      assert.ok(digests.includes(pulled.manifest.digest), 'the pulled digest has a pull time');
      assert.ok(!digests.includes(notPulled.manifest.digest), 'a HEAD is not a pull');
    } finally {
      db.close();
    }
    gantry = await startGantry({ dataDir: gantry.dataDir });
    registry = new RegistryClient(gantry.url, { authorization: AUTH });
  });
});
