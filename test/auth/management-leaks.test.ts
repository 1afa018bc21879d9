/**
 * The management API tells a caller nothing about what they may not read: approvals, promotion
 * history, promotion errors and repository statistics answer as for things that do not exist;
 * approvals are recorded only from someone whose approval can count; every refused change is
 * in the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type PushedImage, RegistryClient } from '../support/http.ts';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from './support.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

const DEV = basicAuth('dev', PASSWORD);
const RM = basicAuth('rm', PASSWORD);
const CUSTOMER = basicAuth('customer', PASSWORD);
const PAT = basicAuth('pat', PASSWORD);
const NOWHERE = `sha256:${'0'.repeat(64)}`;

describe('management API refusals reveal nothing', () => {
  let gantry: RunningGantry;
  let url = '';
  let staged: PushedImage;
  let hidden: PushedImage;
  let released: PushedImage;

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    url = gantry.url;
    await createRoles(url);
    // pat reads team-a/** in development, nothing else.
    await admin(url, 'POST', '/users', { name: 'pat', password: PASSWORD }, 201);
    await admin(
      url,
      'POST',
      '/permissions',
      {
        name: 'team-a-read',
        repositories: ['docker-dev-local'],
        images: ['team-a/**'],
        users: { pat: ['read'] },
      },
      201,
    );
    await admin(url, 'POST', '/repositories', { key: 'vault-local', kind: 'local' }, 201);
    await allowDirectWrites(url, 'docker-staging-local', 'docker-prod-local');
    const client = new RegistryClient(url, { Authorization: ADMIN_AUTH });
    staged = await client.pushImage('docker-staging-local/team/app', '1.0');
    hidden = await client.pushImage('vault-local/secret/app', '1.0');
    released = await client.pushImage('docker-prod-local/team/released', '1.0');
    await client.pushImage('docker-dev-local/team-a/app', '1.0');
    await client.pushImage('docker-dev-local/team-b/app', '1.0');
  });
  after(() => gantry?.stop());

  const approve = (auth: string, repository: string, digest: string) =>
    api(url, 'POST', '/approvals', { repository, digest }, auth);

  it('approving a digest one cannot read answers as for a digest held nowhere', async () => {
    const unreadable = await approve(RM, 'docker-prod-local', hidden.manifest.digest);
    const missing = await approve(RM, 'docker-prod-local', NOWHERE);
    assert.equal(unreadable.status, 404, JSON.stringify(unreadable.json));
    assert.equal(missing.status, 404, JSON.stringify(missing.json));
    assert.equal(
      String(unreadable.json.detail).replace(hidden.manifest.digest, 'D'),
      String(missing.json.detail).replace(NOWHERE, 'D'),
    );
  });

  it('approvals are recorded only where they can count, by someone they count from', async () => {
    const digest = staged.manifest.digest;
    // A customer cannot read staging at all: as if it did not exist.
    const customer = await approve(CUSTOMER, 'docker-staging-local', digest);
    const nowhere = await approve(CUSTOMER, 'no-such-local', digest);
    assert.equal(customer.status, 404, JSON.stringify(customer.json));
    assert.equal(nowhere.status, 404, JSON.stringify(nowhere.json));
    assert.equal(
      String(customer.json.detail).replace('docker-staging-local', 'R'),
      String(nowhere.json.detail).replace('no-such-local', 'R'),
    );
    // Not on the virtual key the customer reads production through.
    const virtual = await approve(CUSTOMER, 'docker-prod', released.manifest.digest);
    assert.equal(virtual.status, 400, JSON.stringify(virtual.json));
    assert.match(
      String(virtual.json.detail),
      /docker-prod is a virtual repository; approvals are for the local/,
    );
    // A developer reads production, but the gate counts only release managers.
    const dev = await approve(DEV, 'docker-prod-local', digest);
    assert.equal(dev.status, 403, JSON.stringify(dev.json));
    assert.match(
      String(dev.json.detail),
      /approvals for docker-prod-local count only from members of release-managers/,
    );
    const noGate = await approve(RM, 'docker-dev-local', digest);
    assert.equal(noGate.status, 403, JSON.stringify(noGate.json));
    assert.match(String(noGate.json.detail), /docker-dev-local has no approval gate/);
    const rm = await approve(RM, 'docker-prod-local', digest);
    assert.equal(rm.status, 201, JSON.stringify(rm.json));
  });

  it('a customer sees no refused production promotion, nor any from stages they cannot read', async () => {
    const refused = await api(url, 'POST', '/promotions', {
      source: 'docker-staging-local/team/app:1.0',
      target: 'docker-prod-local',
    });
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    const forAdmin = await api(url, 'GET', `/promotions?digest=${staged.manifest.digest}`);
    assert.equal((forAdmin.json.promotions as Json[]).length, 1, JSON.stringify(forAdmin.json));
    const forCustomer = await api(
      url,
      'GET',
      `/promotions?digest=${staged.manifest.digest}`,
      undefined,
      CUSTOMER,
    );
    assert.equal(forCustomer.status, 200);
    assert.deepEqual(forCustomer.json.promotions, [], 'refused promotion from staging into production');
  });

  it('promoting from a repository one cannot read answers as for one that does not exist', async () => {
    const body = (source: string) => ({ source, target: 'docker-prod-local' });
    const unreadable = await api(
      url,
      'POST',
      '/promotions',
      body('docker-staging-local/team/app:1.0'),
      CUSTOMER,
    );
    const missing = await api(url, 'POST', '/promotions', body('no-such-local/team/app:1.0'), CUSTOMER);
    assert.equal(unreadable.status, 404, JSON.stringify(unreadable.json));
    assert.equal(missing.status, 404, JSON.stringify(missing.json));
    assert.equal(
      String(unreadable.json.detail).replace('docker-staging-local', 'R'),
      String(missing.json.detail).replace('no-such-local', 'R'),
    );
  });

  it('repository statistics only for callers who read the whole repository', async () => {
    const res = await api(url, 'GET', '/repositories/docker-dev-local', undefined, PAT);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.stats, null, 'pat reads team-a only: no count of team-b images');
    const dev = await api(url, 'GET', '/repositories/docker-dev-local', undefined, DEV);
    assert.equal((dev.json.stats as Json).imageCount, 2);
  });

  it('every refused management change is audited as denied', async () => {
    const refused = await api(url, 'PATCH', '/repositories/docker-prod-local', { description: 'x' }, DEV);
    assert.equal(refused.status, 403, JSON.stringify(refused.json));
    let events: Json[] = [];
    for (let i = 0; i < 50 && events.length === 0; i++) {
      events = (await admin(url, 'GET', '/audit?action=api.refused&actor=dev', undefined, 200))
        .events as Json[];
      if (events.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const event = events.find((e) => e.target === 'PATCH /api/v1/repositories/docker-prod-local');
    assert.ok(event, JSON.stringify(events));
    assert.equal(event.outcome, 'denied');
    assert.equal(event.repository, 'docker-prod-local');
    assert.match(event.detail.reason, /may not manage/);
  });
});
