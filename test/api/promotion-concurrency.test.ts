/**
 * Promotions racing each other on one server: 20 different images (each an index with two
 * platform children and referrers) at once, 20 promotions of the same image into the same
 * target at once, and 20 versions of one image at once into a repository with floating tags.
 * Afterwards every tag resolves, every manifest and blob is served through the target name,
 * the history holds exactly one record per promotion, and nothing is half promoted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin } from '../auth/support.ts';
import { type RunningGantry, startGantry } from '../support/gantry.ts';
import type { RegistryClient } from '../support/http.ts';
import {
  digestAt,
  expectBlobs,
  history,
  type Json,
  type PushedIndex,
  promote,
  pushIndex,
  pushSingle,
  referrersOf,
  registry,
} from './promotion-support.ts';

const N = 20;

describe('concurrent promotions', () => {
  let gantry: RunningGantry;
  let url = '';
  let reg: RegistryClient;

  before(
    async () => {
      // Open access: anonymous may do everything; permissions are not the point here.
      gantry = await startGantry();
      url = gantry.url;
      reg = registry(url, '');
      for (const key of ['race-src', 'race-many', 'race-same', 'race-float']) {
        await admin(
          url,
          'POST',
          '/repositories',
          { key, kind: 'local', settings: { tags: { floating: true } } },
          201,
        );
      }
    },
    { timeout: 60_000 },
  );
  after(() => gantry?.stop());

  /** Fires every promotion at once and returns the replies in order. */
  const all = (bodies: unknown[]) => Promise.all(bodies.map((b) => promote(url, b, '')));

  it(`${N} different indexes at once: all promoted whole, one record each`, {
    timeout: 120_000,
  }, async () => {
    const images: { name: string; pushed: PushedIndex }[] = [];
    for (let i = 0; i < N; i++) {
      const name = `team/many-${i}`;
      images.push({ name, pushed: await pushIndex(reg, `race-src/${name}`, '1.0.0') });
    }
    const replies = await all(
      images.map(({ name }) => ({ source: `race-src/${name}:1.0.0`, target: 'race-many' })),
    );
    replies.forEach((r, i) => {
      assert.equal(
        r.status,
        201,
        `promotion ${i} (${images[i]?.name}): ${r.status} ${JSON.stringify(r.json)}`,
      );
    });
    for (const [i, { name, pushed }] of images.entries()) {
      const reply = replies[i]?.json as Json;
      assert.equal(reply.digest, pushed.index.digest);
      assert.deepEqual([...reply.copied].sort(), [...pushed.all].sort(), `${name}: copied`);
      const target = `race-many/${name}`;
      assert.equal(await digestAt(reg, target, '1.0.0'), pushed.index.digest, `${target}:1.0.0`);
      for (const floating of ['1.0', '1', 'latest'])
        assert.equal(await digestAt(reg, target, floating), pushed.index.digest, `${target}:${floating}`);
      for (const digest of pushed.all)
        assert.equal(await digestAt(reg, target, digest), digest, `${target}@${digest}`);
      await expectBlobs(reg, target, pushed.blobs);
      assert.deepEqual(await referrersOf(reg, target, pushed.index.digest), [pushed.referrers[0]?.digest]);
      const records = await history(url, { digest: pushed.index.digest });
      assert.deepEqual(
        records.map((r) => [r.outcome, r.sourceImage, r.targetRepository, r.targetImage]),
        [['promoted', name, 'race-many', name]],
      );
    }
    const inTarget = await history(url, { repository: 'race-many', limit: '1000' });
    assert.equal(inTarget.filter((r) => r.outcome === 'promoted').length, N);
  });

  it(`the same index ${N} times at once into the same target: idempotent`, { timeout: 120_000 }, async () => {
    const name = 'team/same';
    const pushed = await pushIndex(reg, `race-src/${name}`, '2.0.0');
    const replies = await all(
      Array.from({ length: N }, (_, i) => ({
        source: `race-src/${name}:2.0.0`,
        target: 'race-same',
        comment: `try ${i}`,
      })),
    );
    replies.forEach((r, i) => {
      assert.equal(r.status, 201, `promotion ${i}: ${r.status} ${JSON.stringify(r.json)}`);
    });
    // Exactly one of them copied the manifests; the others found them there.
    const copied = replies.flatMap((r) => r.json.copied as string[]);
    assert.deepEqual(
      [...copied].sort(),
      [...pushed.all].sort(),
      'manifests copied more than once, or not at all',
    );
    const target = `race-same/${name}`;
    assert.equal(await digestAt(reg, target, '2.0.0'), pushed.index.digest);
    assert.equal(await digestAt(reg, target, 'latest'), pushed.index.digest);
    for (const digest of pushed.all) assert.equal(await digestAt(reg, target, digest), digest);
    await expectBlobs(reg, target, pushed.blobs);
    assert.deepEqual(await referrersOf(reg, target, pushed.index.digest), [pushed.referrers[0]?.digest]);
    const records = await history(url, { digest: pushed.index.digest, limit: '1000' });
    assert.equal(records.length, N);
    assert.ok(records.every((r) => r.outcome === 'promoted' && r.targetRepository === 'race-same'));
    assert.deepEqual(
      records.map((r) => r.comment).sort(),
      Array.from({ length: N }, (_, i) => `try ${i}`).sort(),
    );
    // The tag moved once: created by the first promotion, then only re-pointed at the same digest.
    const tagHistory = await admin(
      url,
      'GET',
      `/repositories/race-same/images/${name}/tags/2.0.0/history`,
      undefined,
      200,
    );
    const moves = (tagHistory.events as Json[]).filter((e) => e.oldDigest !== e.newDigest);
    assert.equal(moves.length, 1, JSON.stringify(tagHistory.events));
  });

  it(`${N} versions of one image at once into a floating repository: latest ends at the highest`, {
    timeout: 120_000,
  }, async () => {
    const name = 'team/float';
    const versions: { tag: string; digest: string; blobs: Parameters<typeof expectBlobs>[2] }[] = [];
    for (let i = 0; i < N; i++) {
      const tag = `3.0.${i}`;
      const { manifest, blobs } = await pushSingle(reg, `race-src/${name}`, tag);
      versions.push({ tag, digest: manifest.digest, blobs });
    }
    const replies = await all(
      versions.map(({ tag }) => ({ source: `race-src/${name}:${tag}`, target: 'race-float' })),
    );
    replies.forEach((r, i) => {
      assert.equal(r.status, 201, `promotion of 3.0.${i}: ${r.status} ${JSON.stringify(r.json)}`);
    });
    const target = `race-float/${name}`;
    for (const { tag, digest, blobs } of versions) {
      assert.equal(await digestAt(reg, target, tag), digest, `${target}:${tag}`);
      await expectBlobs(reg, target, blobs);
    }
    const highest = versions[N - 1]?.digest;
    assert.equal(await digestAt(reg, target, '3.0'), highest, '3.0 does not point at 3.0.19');
    assert.equal(await digestAt(reg, target, '3'), highest, '3 does not point at 3.0.19');
    assert.equal(await digestAt(reg, target, 'latest'), highest, 'latest does not point at 3.0.19');
    const records = await history(url, { repository: 'race-float', limit: '1000' });
    assert.equal(records.filter((r) => r.outcome === 'promoted').length, N);
  });
});
