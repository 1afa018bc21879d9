import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RepositoryKind, RepositoryRecord } from '../../src/meta/records.ts';
import { checkVirtualSettings, repositoriesBehind } from '../../src/repos/virtual-settings.ts';

const repo = (
  key: string,
  kind: RepositoryKind,
  settings: Record<string, unknown> = {},
): RepositoryRecord => ({
  key,
  kind,
  description: '',
  settings,
  createdAt: '2026-01-01T00:00:00.000Z',
});

const world = new Map<string, RepositoryRecord>(
  [
    repo('dev', 'local'),
    repo('staging', 'local'),
    repo('prod', 'local'),
    repo('hub', 'remote'),
    repo('inner', 'virtual', { members: ['staging', 'dev'] }),
    repo('outer', 'virtual', { members: ['inner', 'prod'] }),
  ].map((r) => [r.key, r]),
);
const lookup = (key: string) => world.get(key);

describe('virtual repository settings', () => {
  it('accepts members in order and a local member as deployment repository', () => {
    const { settings, problems } = checkVirtualSettings(
      'docker',
      { members: ['dev', 'staging', 'hub'], deploymentRepository: 'dev', extra: 1 },
      lookup,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, { members: ['dev', 'staging', 'hub'], deploymentRepository: 'dev' });
  });

  it('names every problem: unknown and repeated members, a deployment repository that is not a local member', () => {
    const { problems } = checkVirtualSettings(
      'docker',
      { members: ['dev', 'nope', 'dev', 'gone'], deploymentRepository: 'prod' },
      lookup,
    );
    assert.deepEqual(problems, [
      'unknown members: nope, gone',
      'members listed twice: dev',
      'deployment repository prod must be a local repository listed in members',
    ]);
    assert.match(
      checkVirtualSettings('docker', { members: ['hub'], deploymentRepository: 'hub' }, lookup).problems[0] ??
        '',
      /hub must be a local repository/,
    );
    assert.deepEqual(checkVirtualSettings('docker', { members: 'dev' }, lookup).problems, [
      'settings.members must be a list of repository keys',
    ]);
  });

  it('finds cycles, also through other virtual repositories and through itself', () => {
    assert.deepEqual(checkVirtualSettings('inner', { members: ['outer'] }, lookup).problems, [
      'members form a cycle: inner -> outer -> inner',
    ]);
    assert.deepEqual(checkVirtualSettings('solo', { members: ['solo'] }, lookup).problems, [
      'members form a cycle: solo -> solo',
    ]);
    assert.deepEqual(checkVirtualSettings('fresh', { members: ['outer', 'inner'] }, lookup).problems, []);
  });

  it('resolves to the local and remote repositories behind, depth-first, each once', () => {
    const order = (key: string) => repositoriesBehind(world.get(key)!, lookup).map((r) => r.key);
    assert.deepEqual(order('outer'), ['staging', 'dev', 'prod']);
    assert.deepEqual(order('dev'), ['dev']);
    const mixed = repo('mixed', 'virtual', { members: ['dev', 'hub', 'inner', 'missing'] });
    assert.deepEqual(
      repositoriesBehind(mixed, lookup).map((r) => r.key),
      ['dev', 'hub', 'staging'],
    );
  });
});
