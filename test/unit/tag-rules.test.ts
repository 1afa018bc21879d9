import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTagRules,
  DEFAULT_TAG_RULES,
  floatingTargets,
  immutableRule,
  isFloating,
} from '../../src/promote/tag-rules.ts';
import { isStableVersion } from '../../src/promote/tag-service.ts';

const D = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

describe('immutable tag rules', () => {
  it('semver tags are immutable by default, with or without v, pre-releases included', () => {
    for (const tag of ['1.4.2', 'v1.4.2', '0.0.1', '2.0.0-rc.1', '10.20.30-beta'])
      assert.equal(immutableRule(DEFAULT_TAG_RULES, tag), 'semver', tag);
  });

  it('build tags <branch>-<sha>-<timestamp> are immutable by default', () => {
    for (const tag of ['main-1a2b3c4-20261125120000', 'feature.x-0123456789abcdef-20261125'])
      assert.equal(immutableRule(DEFAULT_TAG_RULES, tag), 'build', tag);
  });

  it('latest, floating lines, branch names and near-misses stay mutable', () => {
    for (const tag of ['latest', '1', '1.4', 'v1.4', 'main', 'dev', '1.4.2.1', '01.2.3', 'main-xyz1234-2026'])
      assert.equal(immutableRule(DEFAULT_TAG_RULES, tag), undefined, tag);
  });

  it('an empty list makes every tag mutable; globs name further tags', () => {
    assert.equal(immutableRule({ immutable: [], floating: false }, '1.4.2'), undefined);
    const rules = { immutable: ['release-*'], floating: false };
    assert.equal(immutableRule(rules, 'release-2026'), 'release-*');
    assert.equal(immutableRule(rules, '1.4.2'), undefined);
  });

  it('floating tags are never immutable, even when a glob covers them', () => {
    assert.equal(immutableRule({ immutable: ['*'], floating: true }, 'latest'), undefined);
    assert.equal(immutableRule({ immutable: ['*'], floating: true }, '1.2'), undefined);
    assert.equal(immutableRule({ immutable: ['*'], floating: true }, 'main'), '*');
  });

  it('isFloating: latest, X, X.Y (v allowed)', () => {
    for (const tag of ['latest', '1', '1.2', 'v1', 'v1.2']) assert.ok(isFloating(tag), tag);
    for (const tag of ['1.2.3', 'main', 'latest-dev', 'v']) assert.ok(!isFloating(tag), tag);
  });

  it('checkTagRules fills defaults and reports problems as sentences', () => {
    assert.deepEqual(checkTagRules(undefined).rules, DEFAULT_TAG_RULES);
    assert.deepEqual(checkTagRules({ floating: true }).rules, {
      immutable: ['semver', 'build'],
      floating: true,
    });
    assert.deepEqual(checkTagRules({ immutable: [] }).rules, { immutable: [], floating: false });
    assert.match(checkTagRules({ immutable: 'semver' }).problems.join(), /tags.immutable must be a list/);
    assert.match(checkTagRules({ floating: 'yes' }).problems.join(), /tags.floating must be true or false/);
    assert.match(checkTagRules({ mutable: [] }).problems.join(), /tags.mutable is not a setting/);
  });
});

describe('floating targets', () => {
  it('each line gets its highest stable version; latest the highest overall (numeric, not lexical)', () => {
    const targets = floatingTargets(
      new Map([
        ['1.2.0', D(1)],
        ['1.10.0', D(2)],
        ['1.3.5', D(3)],
        ['1.3.4', D(4)],
        ['0.9.0', D(5)],
      ]),
    );
    assert.deepEqual(Object.fromEntries(targets), {
      '0.9': D(5),
      '0': D(5),
      '1.2': D(1),
      '1.3': D(3),
      '1.10': D(2),
      '1': D(2),
      latest: D(2),
    });
  });

  it('pre-releases never count, not even when they are the only or highest version', () => {
    assert.equal(floatingTargets(new Map([['2.0.0-rc.1', D(1)]])).size, 0);
    const targets = floatingTargets(
      new Map([
        ['1.0.0', D(1)],
        ['2.0.0-rc.1', D(2)],
        ['1.1.0-beta', D(3)],
      ]),
    );
    assert.deepEqual(Object.fromEntries(targets), { '1.0': D(1), '1': D(1), latest: D(1) });
  });

  it('v-tags float v-lines; latest is the highest of both kinds', () => {
    const targets = floatingTargets(
      new Map([
        ['v1.2.3', D(1)],
        ['1.1.0', D(2)],
      ]),
    );
    assert.deepEqual(Object.fromEntries(targets), {
      'v1.2': D(1),
      v1: D(1),
      '1.1': D(2),
      '1': D(2),
      latest: D(1),
    });
  });

  it('other tags (floating ones, branches, build tags) are ignored', () => {
    const targets = floatingTargets(
      new Map([
        ['latest', D(9)],
        ['1.2', D(9)],
        ['main', D(9)],
        ['main-1a2b3c4-20261125120000', D(9)],
        ['1.2.1', D(1)],
      ]),
    );
    assert.deepEqual(Object.fromEntries(targets), { '1.2': D(1), '1': D(1), latest: D(1) });
  });

  it('isStableVersion: what a push must be to move floating tags', () => {
    for (const tag of ['1.2.0', 'v1.2.0', '0.0.1']) assert.ok(isStableVersion(tag), tag);
    for (const tag of ['2.0.0-rc.1', '1.2', 'latest', 'main', '01.2.3'])
      assert.ok(!isStableVersion(tag), tag);
  });
});
