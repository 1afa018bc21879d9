import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkQuota,
  checkRetention,
  type RetentionRule,
  retentionOf,
} from '../../src/lifecycle/lifecycle-settings.ts';
import { evaluateRetention, type RetentionItem } from '../../src/lifecycle/retention-engine.ts';
import type { InventoryManifest, InventoryTag, RetentionInventory } from '../../src/meta/lifecycle-store.ts';
import type { Digest } from '../../src/oci/digest.ts';
import { DEFAULT_TAG_RULES, immutableRule, isFloating } from '../../src/promote/tag-rules.ts';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const dg = (n: string) => `sha256:${n.padStart(64, '0')}` as Digest;

function manifest(
  digest: string,
  ageDays: number,
  extra: Partial<InventoryManifest> = {},
): InventoryManifest {
  return {
    image: 'app',
    digest: dg(digest),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    createdAt: daysAgo(ageDays),
    children: [],
    properties: {},
    ...extra,
  };
}
const tag = (name: string, digest: string, ageDays: number): InventoryTag => ({
  image: 'app',
  tag: name,
  digest: dg(digest),
  updatedAt: daysAgo(ageDays),
});

function run(
  rules: unknown[],
  inventory: Partial<RetentionInventory>,
  options: { floating?: boolean; snapshot?: string[] } = {},
): RetentionItem[] {
  const settings = retentionOf({
    key: 'r',
    kind: 'local',
    description: '',
    createdAt: NOW.toISOString(),
    settings: { retention: { rules } },
  });
  assert.ok(settings, `rules rejected: ${checkRetention({ rules }).join('; ')}`);
  return evaluateRetention({
    rules: settings.rules as RetentionRule[],
    inventory: { manifests: [], tags: [], elsewhere: new Map(), ...inventory },
    now: NOW,
    immutableRule: (t) => immutableRule(DEFAULT_TAG_RULES, t),
    floating: options.floating ?? false,
    isFloating,
    snapshotHeld: new Set((options.snapshot ?? []).map(dg)),
  });
}
const decision = (items: RetentionItem[], what: string) => {
  const item = items.find((i) => (i.tag ?? i.digest) === (what.startsWith('sha256:') ? what : what));
  assert.ok(item, `no decision for ${what}: ${JSON.stringify(items)}`);
  return `${item.action}: ${item.rule}`;
};

describe('retention rules: settings', () => {
  it('accepts the documented rules and names each problem with the fix', () => {
    assert.deepEqual(
      checkRetention({
        schedule: '0 3 * * *',
        rules: [
          { keep: 'last', count: 10, tags: 'v*', order: 'semver' },
          { keep: 'newer', days: 30 },
          { remove: 'untagged', days: 7 },
          { remove: 'not-pulled', days: 90, immutable: true },
        ],
      }),
      [],
    );
    const problems = checkRetention({
      schedule: 'every day',
      rules: [
        { keep: 'first', count: 1 },
        { keep: 'last', count: -1, order: 'alpha' },
        { remove: 'untagged' },
        'x',
      ],
      extra: 1,
    });
    assert.deepEqual(problems, [
      'retention.extra is not a setting (use rules, schedule)',
      'retention.schedule must be a cron expression of five fields (minute hour day month weekday), like "0 3 * * *"',
      'retention.rules[0] keep must be "last" or "newer"; got "first"',
      'retention.rules[1] count must be a whole number of tags from 0 to 100000',
      'retention.rules[1] order must be "pushed" (newest tag move first) or "semver" (highest version first)',
      'retention.rules[2] days must be a number of days from 0 to 36500',
      'retention.rules[3] must be an object like {"keep": "last", "count": 10} or {"remove": "untagged", "days": 7}',
    ]);
    assert.deepEqual(checkQuota({ bytes: 1000, warnAt: 0.5 }), []);
    assert.deepEqual(checkQuota({ bytes: '1G', warnAt: 2 }), [
      'quota.bytes must be a whole number of bytes (e.g. {"bytes": 10737418240, "warnAt": 0.8})',
      'quota.warnAt must be a share of the limit above 0 and at most 1 (e.g. 0.8)',
    ]);
  });
});

describe('retention rules: decisions', () => {
  it('keeps the last N tags by push time; the others go, and their manifests with remove untagged', () => {
    const items = run(
      [
        { keep: 'last', count: 2, tags: 'b-*' },
        { remove: 'untagged', days: 7 },
      ],
      {
        manifests: [manifest('1', 30), manifest('2', 20), manifest('3', 10), manifest('4', 3)],
        tags: [tag('b-1', '1', 30), tag('b-2', '2', 20), tag('b-3', '3', 10), tag('b-4', '4', 3)],
      },
    );
    assert.equal(decision(items, 'b-4'), 'keep: keep last 2 tags matching b-* by push time');
    assert.equal(decision(items, 'b-3'), 'keep: keep last 2 tags matching b-* by push time');
    assert.equal(decision(items, 'b-2'), 'remove: no keep rule matched');
    assert.equal(decision(items, dg('1')), 'remove: remove untagged manifests older than 7 days');
    assert.equal(decision(items, dg('2')), 'remove: remove untagged manifests older than 7 days');
    assert.equal(items.filter((i) => i.action === 'remove').length, 4);
  });

  it('semver order keeps the highest versions, not the newest pushes; keep-newer keeps recent tags', () => {
    const items = run(
      [
        { keep: 'last', count: 1, order: 'semver', tags: 'v*' },
        { keep: 'newer', days: 5 },
        { remove: 'untagged', days: 0, immutable: true },
      ],
      {
        manifests: [manifest('1', 30), manifest('2', 20), manifest('3', 10), manifest('4', 1)],
        tags: [tag('v2.0.0', '1', 30), tag('v1.9.0', '2', 20), tag('dev', '3', 10), tag('nightly', '4', 1)],
      },
    );
    assert.equal(decision(items, 'v2.0.0'), 'keep: keep last 1 tags matching v* by version');
    assert.equal(decision(items, 'nightly'), 'keep: keep tags newer than 5 days');
    assert.equal(decision(items, 'dev'), 'remove: no keep rule matched');
    // v1.9.0 is immutable (default rule semver) and no keep rule says immutable: true.
    assert.match(decision(items, 'v1.9.0'), /^keep: immutable tag \(rule semver\)/);
    assert.equal(
      decision(items, dg('3')),
      'remove: remove untagged manifests older than 0 days, immutable too',
    );
  });

  it('never removes floating targets, later-stage digests, held digests, snapshot digests', () => {
    const items = run(
      [
        { keep: 'last', count: 0, immutable: true },
        { remove: 'untagged', days: 0 },
      ],
      {
        manifests: [
          manifest('1', 30),
          manifest('2', 30),
          manifest('3', 30, { properties: { 'gantry.hold': ['true'] } }),
          manifest('4', 30),
          manifest('5', 30),
        ],
        tags: [
          tag('latest', '1', 30),
          tag('a', '2', 30),
          tag('b', '3', 30),
          tag('c', '4', 30),
          tag('d', '5', 30),
        ],
        elsewhere: new Map([[dg('2'), ['docker-prod-local']]]),
      },
      { floating: true, snapshot: ['4'] },
    );
    assert.equal(decision(items, 'latest'), 'keep: target of floating tag latest');
    assert.equal(decision(items, 'a'), 'keep: present in a later stage (docker-prod-local)');
    assert.equal(decision(items, 'b'), 'keep: held by property gantry.hold=true');
    assert.equal(decision(items, 'c'), 'keep: in a snapshot');
    assert.equal(decision(items, 'd'), 'remove: no keep rule matched');
    assert.deepEqual(
      items.filter((i) => i.action === 'remove').map((i) => i.tag ?? i.digest),
      ['d', dg('5')],
    );
  });

  it('keeps what a kept tag reaches: index children and referrers', () => {
    const items = run(
      [
        { keep: 'last', count: 1 },
        { remove: 'untagged', days: 0 },
      ],
      {
        manifests: [
          manifest('a', 5, {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            children: [dg('c1'), dg('c2')],
          }),
          manifest('c1', 5),
          manifest('c2', 5),
          manifest('s', 5, { subject: dg('a') }),
          manifest('old', 50),
        ],
        tags: [tag('1', 'a', 1), tag('x', 'old', 50)],
      },
    );
    assert.equal(decision(items, dg('c1')), `keep: referenced by kept index ${dg('a')}`);
    assert.equal(decision(items, dg('s')), `keep: referrer of kept ${dg('a')}`);
    assert.equal(decision(items, 'x'), 'remove: no keep rule matched');
    assert.equal(decision(items, dg('old')), 'remove: remove untagged manifests older than 0 days');
  });

  it('remove not-pulled goes by the last pull, or the push when never pulled', () => {
    const items = run([{ remove: 'not-pulled', days: 30 }], {
      manifests: [
        manifest('1', 90, { lastPulledAt: daysAgo(2) }),
        manifest('2', 90, { lastPulledAt: daysAgo(60) }),
        manifest('3', 10),
      ],
      tags: [tag('pulled', '1', 90), tag('stale', '2', 90), tag('fresh', '3', 10)],
    });
    assert.equal(decision(items, 'pulled'), 'keep: no rule removes it');
    assert.equal(decision(items, 'stale'), 'remove: remove images not pulled for 30 days');
    assert.equal(decision(items, dg('2')), 'remove: remove images not pulled for 30 days');
    assert.equal(decision(items, 'fresh'), 'keep: no rule removes it');
  });
});
