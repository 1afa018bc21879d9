import assert from 'node:assert/strict';
import type { WebhookSubscription } from '../../../src/meta/event-records.ts';
import { MissingReferencesError } from '../../../src/meta/metadata-store.ts';
import { type Define, ensureRepository, fakeDigest, manifestRecord, pushImage, T0 } from './harness.ts';

function subscription(id: string): WebhookSubscription {
  return {
    id,
    url: 'https://hooks.example.com/x',
    events: [],
    repositories: ['dev'],
    images: [],
    ownerId: 'u1',
    ownerName: 'alice',
    description: '',
    createdAt: T0,
  };
}

export function defineEventTests(define: Define): void {
  define(
    'outbox: a push writes image.pushed and tag.moved with it; a refused put writes none',
    async (store) => {
      await ensureRepository(store, 'dev');
      const start = await store.outbox.latestId();
      const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      const events = await store.outbox.after(start, 10);
      assert.deepEqual(
        events.map((e) => [e.type, e.subject, e.data.digest]),
        [
          ['io.gantry.image.pushed', 'dev/app', digest],
          ['io.gantry.tag.moved', 'dev/app', digest],
        ],
      );
      assert.ok((events[0] as { id: number }).id < (events[1] as { id: number }).id);
      const latest = await store.outbox.latestId();
      const record = manifestRecord('dev', 'app', fakeDigest('orphan'));
      const missing = [{ digest: fakeDigest('nowhere'), kind: 'blob' as const }];
      await assert.rejects(store.manifests.put({ record, references: missing }), MissingReferencesError);
      assert.equal(await store.outbox.latestId(), latest, 'a rolled-back write leaves no event');
    },
  );

  define('outbox: deletes, properties and repositories write their events', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
    const start = await store.outbox.latestId();
    await store.properties.set('dev', 'app', digest, { 'qa.status': ['passed'] });
    await store.manifests.delete('dev', 'app', digest, 'alice');
    await store.repositories.delete('dev');
    const types = (await store.outbox.after(start, 10)).map((e) => e.type);
    assert.deepEqual(types, [
      'io.gantry.property.changed',
      'io.gantry.tag.deleted',
      'io.gantry.manifest.deleted',
      'io.gantry.repository.deleted',
    ]);
  });

  define(
    'webhooks: later deliveries of a key wait for the pending first; fan-out moves the cursor',
    async (store) => {
      await ensureRepository(store, 'dev');
      await pushImage(store, { repository: 'dev', image: 'app', label: 'a', tag: 'v1' });
      await pushImage(store, { repository: 'dev', image: 'lib', label: 'b' });
      await store.webhooks.create(subscription('wh1'), 'sealed');
      const events = await store.outbox.after(0, 100);
      const deliveries = events.map((e) => ({ subscriptionId: 'wh1', eventId: e.id, orderKey: e.subject }));
      const last = events.at(-1)?.id ?? 0;
      await store.webhooks.fanOut('webhooks', last, deliveries);
      assert.equal(await store.outbox.cursor('webhooks'), last);
      const due = await store.webhooks.due('9999-01-01T00:00:00.000Z', 100);
      // One head per key: the first event of each subject.
      const heads = new Map<string, number>();
      for (const e of events) if (!heads.has(e.subject)) heads.set(e.subject, e.id);
      assert.deepEqual(
        due.map((d) => d.eventId),
        [...heads.values()],
      );
      const first = due.find((d) => d.orderKey === 'dev/app');
      assert.ok(first);
      const outcome = {
        status: 'delivered' as const,
        attempts: 1,
        nextAttemptAt: T0,
        responseStatus: 200,
        responseBody: 'ok',
        error: null,
        finishedAt: T0,
      };
      await store.webhooks.record([{ id: first.id, outcome }]);
      const next = await store.webhooks.due('9999-01-01T00:00:00.000Z', 100);
      assert.ok(!next.some((d) => d.id === first.id));
      assert.equal(next.length, due.length, 'the next of the delivered key is due now');
      assert.equal((await store.webhooks.get('wh1'))?.secret, 'sealed');
      assert.equal(await store.webhooks.delete('wh1'), true);
      assert.equal(await store.webhooks.pendingCount(), 0, 'deleting a subscription drops its deliveries');
    },
  );

  define(
    'webhooks: prune removes old events the fan-out read and nothing waits for, with their deliveries',
    async (store) => {
      const FUTURE = '9999-01-01T00:00:00.000Z';
      await ensureRepository(store, 'dev');
      await pushImage(store, { repository: 'dev', image: 'app', label: 'pa', tag: 'v1' });
      await pushImage(store, { repository: 'dev', image: 'lib', label: 'pb' });
      assert.equal(
        await store.webhooks.prune('webhooks', FUTURE, 100),
        0,
        'nothing before the first fan-out',
      );
      await store.webhooks.create(subscription('wh2'), 'sealed');
      const events = await store.outbox.after(0, 100);
      const app = events.filter((e) => e.subject === 'dev/app');
      const last = events.at(-1)?.id ?? 0;
      await store.webhooks.fanOut(
        'webhooks',
        last,
        app.map((e) => ({ subscriptionId: 'wh2', eventId: e.id, orderKey: e.subject })),
      );
      const [head] = await store.webhooks.due(FUTURE, 100);
      assert.ok(head);
      await store.webhooks.record([
        {
          id: head.id,
          outcome: {
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: T0,
            responseStatus: 200,
            responseBody: '',
            error: null,
            finishedAt: T0,
          },
        },
      ]);
      await pushImage(store, { repository: 'dev', image: 'lib', label: 'pc' });
      const unread = (await store.outbox.after(last, 100)).map((e) => e.id);
      assert.ok(unread.length > 0);
      assert.equal(
        await store.webhooks.prune('webhooks', '2000-01-01T00:00:00.000Z', 100),
        0,
        'none old enough',
      );

      const pendingBefore = await store.webhooks.pendingCount();
      // Delivered: the head; no subscriber: the lib events. Pending app events and unread ones stay.
      const expected = events
        .filter((e) => e.id === head.eventId || e.subject !== 'dev/app')
        .map((e) => e.id);
      assert.equal(await store.webhooks.prune('webhooks', FUTURE, 100), expected.length);
      const left = (await store.outbox.after(0, 100)).map((e) => e.id);
      assert.deepEqual(left, [...app.map((e) => e.id).filter((id) => id !== head.eventId), ...unread]);
      const listed = await store.webhooks.deliveries('wh2', { limit: 100 });
      assert.ok(!listed.some((d) => d.id === head.id), 'the delivered one went with its event');
      assert.equal(await store.webhooks.pendingCount(), pendingBefore);
      assert.equal(await store.outbox.latestId(), unread.at(-1), 'ids are never reused');
    },
  );
}
