/**
 * Webhooks end to end: a running Gantry, a real receiver on 127.0.0.1, pushes and promotions over
 * HTTP. Checks the signature, the CloudEvents attributes, order per subject, retries after the
 * receiver's own 500s and timeouts, replay, the address policy, and that a kill -9 between the
 * commit and the delivery loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configWith, pushSingle, registry } from '../api/promotion-support.ts';
import { ADMIN_AUTH, admin, api } from '../auth/support.ts';
import { runCli } from '../cli/support.ts';
import { ADMIN, basicAuth, startGantry } from '../support/gantry.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

const SECRET = 'a-webhook-secret-of-some-length';
const FAST_RETRIES = {
  GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8',
  GANTRY_WEBHOOK_RETRY_SECONDS: '0.2',
  GANTRY_WEBHOOK_TIMEOUT_SECONDS: '1',
};

type DeliveryRow = { status: string; attempts: number; responseStatus: number };

/** The subscription's deliveries once `count` of them are no longer pending. */
async function settled(url: string, id: string, count: number): Promise<DeliveryRow[]> {
  for (let i = 0; ; i++) {
    const res = await api(url, 'GET', `/webhooks/${id}/deliveries`);
    assert.equal(res.status, 200);
    const rows = res.json.deliveries as DeliveryRow[];
    if (rows.filter((d) => d.status !== 'pending').length >= count || i > 200) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function subscribe(url: string, body: Record<string, unknown>, auth = ADMIN_AUTH) {
  return api(url, 'POST', '/webhooks', { secret: SECRET, ...body }, auth);
}

describe('webhooks', () => {
  let gantry: Awaited<ReturnType<typeof startGantry>>;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await WebhookReceiver.start(SECRET);
    gantry = await startGantry({ env: FAST_RETRIES });
  });
  after(async () => {
    await gantry?.stop();
    await receiver?.close();
  });

  it('delivers signed CloudEvents in order per subject, retrying after 500s and timeouts', async () => {
    const created = await subscribe(gantry.url, {
      url: receiver.url,
      events: ['io.gantry.image.pushed', 'io.gantry.tag.moved'],
      repositories: ['docker-dev-local'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.secret, undefined, 'the secret is never returned');
    const id = created.json.id as string;
    // The first event fails with a 500, then hangs past the timeout, then is accepted.
    let firstId: string | undefined;
    receiver.answer = ({ n, event }) => {
      firstId ??= event.id;
      if (event.id !== firstId) return 200;
      return n === 0 ? 500 : n === 1 ? 'hang' : 200;
    };
    const client = registry(gantry.url);
    const pushed = [];
    for (const tag of ['v1', 'v2', 'v3'])
      pushed.push(await pushSingle(client, 'docker-dev-local/app', tag, configWith()));
    await receiver.until(() => receiver.accepted.length >= 6);

    const accepted = receiver.accepted;
    assert.deepEqual(
      accepted.map((r) => r.event.type),
      [
        'io.gantry.image.pushed',
        'io.gantry.tag.moved',
        'io.gantry.image.pushed',
        'io.gantry.tag.moved',
        'io.gantry.image.pushed',
        'io.gantry.tag.moved',
      ],
    );
    const sequence = accepted.map((r) => Number(r.event.gantrysequence));
    assert.deepEqual(
      sequence,
      [...sequence].sort((a, b) => a - b),
      'per-subject order kept across retries',
    );
    assert.deepEqual(
      accepted.filter((r) => r.event.type === 'io.gantry.image.pushed').map((r) => r.event.data.digest),
      pushed.map((p) => p.manifest.digest),
    );
    for (const r of receiver.received) {
      assert.ok(r.signed, `signature verifies: ${r.headers['gantry-signature']}`);
      assert.match(String(r.headers['content-type']), /^application\/cloudevents\+json/);
      assert.equal(r.event.specversion, '1.0');
      assert.equal(r.event.source, gantry.url);
      assert.equal(r.event.subject, 'docker-dev-local/app');
      assert.equal(r.event.datacontenttype, 'application/json');
      assert.ok(!Number.isNaN(Date.parse(r.event.time)));
    }
    const attemptsOfFirst = receiver.received.filter((r) => r.event.id === firstId).map((r) => r.answer);
    assert.deepEqual(attemptsOfFirst, [500, 'hang', 200]);
    assert.equal(receiver.accepted[0]?.event.id, firstId, 'nothing overtook the failing event');

    // Outcomes are recorded a moment after the receiver answered.
    const rows = await settled(gantry.url, id, 6);
    assert.equal(rows.length, 6);
    assert.ok(rows.every((d) => d.status === 'delivered' && d.responseStatus === 200));
    assert.equal(rows.at(-1)?.attempts, 3, 'the oldest delivery took three attempts');

    // Replay the whole range: the same events (same ids) arrive again, in order.
    const ids = accepted.map((r) => Number(r.event.gantrysequence));
    const before = receiver.accepted.length;
    const replay = await api(gantry.url, 'POST', `/webhooks/${id}/replay`, { from: ids[0], to: ids.at(-1) });
    assert.equal(replay.status, 202, JSON.stringify(replay.json));
    assert.equal(replay.json.queued, 6);
    await receiver.until(() => receiver.accepted.length >= before + 6);
    assert.deepEqual(
      receiver.accepted.slice(before).map((r) => r.event.id),
      accepted.map((r) => r.event.id),
    );
    const deleted = await api(gantry.url, 'DELETE', `/webhooks/${id}`);
    assert.equal(deleted.status, 204);
  });

  it('tells a promotion and its refusal with the failing gates', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const created = await subscribe(gantry.url, {
      url: receiver.url,
      events: ['io.gantry.promotion.done', 'io.gantry.promotion.refused'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const client = registry(gantry.url);
    const { manifest } = await pushSingle(client, 'docker-dev-local/promo', 'v1');
    const body = { source: 'docker-dev-local/promo:v1', target: 'docker-staging-local' };
    const refused = await api(gantry.url, 'POST', '/promotions', body);
    assert.ok(
      [201, 409, 422, 403].includes(refused.status),
      `${refused.status} ${JSON.stringify(refused.json)}`,
    );
    await receiver.until(() => receiver.accepted.length >= 1);
    const event = receiver.accepted[0]?.event;
    const expected = refused.status === 201 ? 'io.gantry.promotion.done' : 'io.gantry.promotion.refused';
    assert.equal(event.type, expected, JSON.stringify(refused.json));
    assert.equal(event.subject, 'docker-staging-local/promo');
    assert.equal(event.data.digest, manifest.digest);
    if (expected === 'io.gantry.promotion.refused') assert.ok(event.data.failedGates.length > 0);
    await api(gantry.url, 'DELETE', `/webhooks/${created.json.id}`);
  });

  it('gantry webhook create, list, deliveries, replay and delete', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GANTRY_USER: ADMIN.user,
      GANTRY_PASSWORD: ADMIN.password,
    };
    delete env.GANTRY_TOKEN;
    delete env.GANTRY_WEBHOOK_SECRET;
    const cli = (...args: string[]) => runCli(['--server', gantry.url, 'webhook', ...args], env);
    const made = await cli(
      'create',
      '--url',
      receiver.url,
      '--event',
      'io.gantry.tag.moved',
      '--repository',
      'docker-dev-local',
      '--json',
    );
    assert.equal(made.code, 0, made.stderr);
    const created = JSON.parse(made.stdout);
    assert.match(created.secret, /^[0-9a-f]{64}$/, 'a secret made up by the CLI is shown once');
    const listed = await cli('list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(created.id));
    await pushSingle(registry(gantry.url), 'docker-dev-local/cli', 'v1');
    await receiver.until(() => receiver.accepted.length >= 1);
    const deliveries = await cli('deliveries', created.id);
    assert.equal(deliveries.code, 0, deliveries.stderr);
    assert.match(deliveries.stdout, /io\.gantry\.tag\.moved\s+delivered/);
    const sequence = receiver.accepted[0]?.event.gantrysequence as string;
    const replayed = await cli('replay', created.id, '--from', sequence, '--to', sequence);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, /queued 1 deliveries/);
    await receiver.until(() => receiver.accepted.length >= 2);
    const shown = await cli('show', 'wh_nope');
    assert.equal(shown.code, 1, 'an unknown webhook is an error');
    const deleted = await cli('delete', created.id);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  it('refuses bad subscriptions with actionable problems', async () => {
    const noSecret = await api(gantry.url, 'POST', '/webhooks', { url: receiver.url });
    assert.equal(noSecret.status, 400);
    assert.match(String(noSecret.json.detail), /secret/);
    const badType = await subscribe(gantry.url, { url: receiver.url, events: ['io.gantry.nope'] });
    assert.equal(badType.status, 400);
    assert.match(String(badType.json.detail), /unknown event types/);
    const ftp = await subscribe(gantry.url, { url: 'ftp://example.com/x' });
    assert.equal(ftp.status, 400);
    const anonymous = await subscribe(
      gantry.url,
      { url: receiver.url, repositories: ['docker-dev-local'] },
      '',
    );
    assert.equal(anonymous.status, 401);
  });

  it('tells administrators that a garbage collection run finished', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const created = await subscribe(gantry.url, { url: receiver.url, events: ['io.gantry.gc.finished'] });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const started = await api(gantry.url, 'POST', '/gc', { dryRun: true, graceSeconds: 0 });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const runId = (started.json.run as { id: string }).id;
    await receiver.until(() => receiver.accepted.length >= 1, 20_000, 'gc.finished');
    const [event] = receiver.accepted.map((r) => r.event);
    assert.equal(event.type, 'io.gantry.gc.finished');
    assert.equal(event.subject, `gc/${runId}`);
    assert.equal(event.data.id, runId);
    assert.equal(event.data.state, 'finished');
    assert.equal(event.data.dryRun, true);
    assert.equal(event.data.trigger, 'manual');
    assert.equal((await api(gantry.url, 'DELETE', `/webhooks/${created.json.id}`)).status, 204);
  });
});

describe('webhooks and access', () => {
  it('need manage on every repository named, and carry only what the owner may read now', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    const gantry = await startGantry({ env: FAST_RETRIES, openAccess: false });
    try {
      const password = 'a-password-for-mgr-1';
      const mgr = basicAuth('mgr', password);
      await admin(gantry.url, 'POST', '/users', { name: 'mgr', password }, 201);
      const grant = { name: 'dev-team', repositories: ['docker-dev-local'], users: { mgr: ['manage'] } };
      await admin(gantry.url, 'POST', '/permissions', grant, 201);
      const everything = await subscribe(gantry.url, { url: receiver.url }, mgr);
      assert.equal(everything.status, 403, JSON.stringify(everything.json));
      const prod = await subscribe(
        gantry.url,
        { url: receiver.url, repositories: ['docker-prod-local'] },
        mgr,
      );
      assert.equal(prod.status, 403);
      const own = await subscribe(
        gantry.url,
        { url: receiver.url, repositories: ['docker-dev-local'], events: ['io.gantry.image.pushed'] },
        mgr,
      );
      assert.equal(own.status, 201, JSON.stringify(own.json));
      const listed = await api(gantry.url, 'GET', '/webhooks', undefined, mgr);
      assert.deepEqual(
        (listed.json.webhooks as { id: string }[]).map((w) => w.id),
        [own.json.id],
      );
      const client = registry(gantry.url);
      await pushSingle(client, 'docker-dev-local/app', 'v1');
      await receiver.until(() => receiver.accepted.length >= 1);
      // The owner loses read access: later events are not delivered to them.
      await admin(gantry.url, 'DELETE', '/permissions/dev-team', undefined, 204);
      const { manifest } = await pushSingle(client, 'docker-dev-local/app', 'v2');
      const { manifest: marker } = await pushSingle(client, 'docker-dev-local/other', 'v1');
      const adminHook = await subscribe(gantry.url, { url: receiver.url, events: ['io.gantry.tag.moved'] });
      assert.equal(adminHook.status, 201);
      await pushSingle(client, 'docker-dev-local/last', 'v1');
      await receiver.until(() => receiver.accepted.some((r) => r.event.type === 'io.gantry.tag.moved'));
      const digests = receiver.accepted.map((r) => r.event.data.digest);
      assert.ok(!digests.includes(manifest.digest), 'no event after the owner lost read access');
      assert.ok(!digests.includes(marker.digest));
    } finally {
      await gantry.stop();
      await receiver.close();
    }
  });
});

describe('webhooks that keep failing', () => {
  it('are dead-lettered once the event is older than the maximum age, with the last response', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    receiver.answer = () => 500;
    const gantry = await startGantry({ env: { ...FAST_RETRIES, GANTRY_WEBHOOK_MAX_AGE_SECONDS: '2' } });
    try {
      const created = await subscribe(gantry.url, {
        url: receiver.url,
        events: ['io.gantry.image.pushed'],
        repositories: ['docker-dev-local'],
      });
      assert.equal(created.status, 201);
      const id = created.json.id as string;
      const patched = await api(gantry.url, 'PATCH', `/webhooks/${id}`, { description: 'always failing' });
      assert.equal(patched.status, 200, JSON.stringify(patched.json));
      assert.equal(patched.json.description, 'always failing');
      assert.equal(patched.json.secret, undefined);
      await pushSingle(registry(gantry.url), 'docker-dev-local/failing', 'v1');
      const rows = await settled(gantry.url, id, 1);
      const [dead] = rows as (DeliveryRow & { responseBody: string })[];
      assert.equal(dead?.status, 'dead', JSON.stringify(rows));
      assert.equal(dead?.responseStatus, 500);
      assert.equal(dead?.responseBody, 'receiver failed');
      assert.ok((dead?.attempts ?? 0) > 2, `retried before giving up: ${dead?.attempts}`);
      const listed = await api(gantry.url, 'GET', `/webhooks/${id}/deliveries?status=dead`);
      assert.equal((listed.json.deliveries as unknown[]).length, 1);
    } finally {
      await gantry.stop();
      await receiver.close();
    }
  });
});

describe('webhooks and the upstream address policy', () => {
  it('refuses a loopback receiver unless GANTRY_UPSTREAM_ALLOW admits it', async () => {
    const gantry = await startGantry();
    try {
      const refused = await subscribe(gantry.url, { url: 'http://127.0.0.1:9/hook' });
      assert.equal(refused.status, 400, JSON.stringify(refused.json));
      assert.match(String(refused.json.detail), /loopback/);
    } finally {
      await gantry.stop();
    }
  });
});

describe('webhooks across a crash', () => {
  it('delivers after kill -9 what committed before it', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    // Every attempt hangs: the push commits, its delivery is in flight when the process dies.
    receiver.answer = () => 'hang';
    // The dead process keeps the dispatcher lease until it expires: short here.
    const env = { ...FAST_RETRIES, GANTRY_WEBHOOK_TIMEOUT_SECONDS: '60', GANTRY_WEBHOOK_LEASE_SECONDS: '2' };
    const first = await startGantry({ env });
    try {
      const created = await subscribe(first.url, {
        url: receiver.url,
        events: ['io.gantry.image.pushed'],
        repositories: ['docker-dev-local'],
      });
      assert.equal(created.status, 201);
      const { manifest } = await pushSingle(registry(first.url), 'docker-dev-local/crash', 'v1');
      await receiver.until(() => receiver.received.length >= 1, 20_000, 'the first attempt');
      await first.kill();
      receiver.answer = () => 200;
      const second = await startGantry({ env, dataDir: first.dataDir });
      try {
        await receiver.until(() => receiver.accepted.length >= 1, 20_000, 'the delivery after restart');
        assert.equal(receiver.accepted[0]?.event.data.digest, manifest.digest);
        assert.equal(
          receiver.accepted[0]?.event.id,
          receiver.received[0]?.event.id,
          'the same event, redelivered',
        );
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await receiver.close();
    }
  });
});

describe('webhooks with two processes on one database', () => {
  it('only the lease holder delivers; the other takes over after a kill -9', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    // Each event's first attempt hangs until the timeout: a second dispatcher polling meanwhile
    // would find the delivery still pending and send it too.
    const seen = new Set<string>();
    receiver.answer = ({ event }) => {
      if (seen.has(event.id)) return 200;
      seen.add(event.id);
      return 'hang';
    };
    const env = { ...FAST_RETRIES, GANTRY_WEBHOOK_LEASE_SECONDS: '2' };
    // `first` starts (and takes the lease) before `second` exists.
    const first = await startGantry({ env });
    const second = await startGantry({ env, dataDir: first.dataDir, openAccess: false });
    const acceptedIds = () => receiver.accepted.map((r) => r.event.id as string);
    try {
      const created = await subscribe(first.url, {
        url: receiver.url,
        events: ['io.gantry.image.pushed'],
        repositories: ['docker-dev-local'],
      });
      assert.equal(created.status, 201);
      await pushSingle(registry(first.url), 'docker-dev-local/pair', 'v1');
      await pushSingle(registry(second.url), 'docker-dev-local/pair', 'v2');
      await receiver.until(() => receiver.accepted.length >= 2, 20_000, 'two deliveries');
      // Both dispatchers poll every second: long enough for a second sender to show.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(receiver.accepted.length, 2, `each event once: ${receiver.summary()}`);
      assert.equal(new Set(acceptedIds()).size, 2);

      await first.kill();
      await pushSingle(registry(second.url), 'docker-dev-local/pair', 'v3');
      await receiver.until(() => receiver.accepted.length >= 3, 20_000, 'the delivery after takeover');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(receiver.accepted.length, 3, `each event once: ${receiver.summary()}`);
      assert.equal(new Set(acceptedIds()).size, 3);
    } finally {
      await second.stop();
      await first.stop();
      await receiver.close();
    }
  });
});
