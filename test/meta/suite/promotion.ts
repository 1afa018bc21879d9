import assert from 'node:assert/strict';
import {
  MetaConflictError,
  type MetadataStore,
  UnknownRepositoryError,
} from '../../../src/meta/metadata-store.ts';
import type {
  ApprovalRecord,
  BuildRecord,
  ContentFact,
  PromotionRecord,
} from '../../../src/meta/promotion-records.ts';
import { type PromoteInput, UnknownManifestError } from '../../../src/meta/promotion-store.ts';
import type { Digest } from '../../../src/oci/digest.ts';
import { type Define, ensureRepository, fakeDigest, pushImage, pushIndex, T0 } from './harness.ts';

const T1 = '2024-05-01T11:00:00.000Z';
const T2 = '2024-05-01T12:00:00.000Z';
const T3 = '2024-05-01T13:00:00.000Z';

const DEV_APP = { repository: 'dev', image: 'app' };
const PROD_APP = { repository: 'prod', image: 'app' };

function promotionRecord(extra: Partial<PromotionRecord> = {}): Omit<PromotionRecord, 'id'> {
  return {
    at: T0,
    actor: 'promoter',
    sourceRepository: 'dev',
    sourceImage: 'app',
    targetRepository: 'prod',
    targetImage: 'app',
    digest: fakeDigest('nothing'),
    tags: [],
    mode: 'copy',
    comment: 'release',
    gates: [{ gate: 'property qa.status = passed', type: 'property', passed: true, reason: 'passed' }],
    outcome: 'promoted',
    ...extra,
  };
}

/** A promotion of `digest` from dev/app to prod/app (unless told otherwise), copying. */
export function promoteInput(digest: Digest, extra: Partial<Omit<PromoteInput, 'digest' | 'record'>> = {}) {
  const source = extra.source ?? DEV_APP;
  const target = extra.target ?? PROD_APP;
  const tags = extra.tags ?? [];
  const mode = extra.mode ?? 'copy';
  const input: PromoteInput = {
    source,
    target,
    digest,
    tags,
    mode,
    actor: 'promoter',
    copyProperties: false,
    ...extra,
    record: promotionRecord({
      sourceRepository: source.repository,
      sourceImage: source.image,
      targetRepository: target.repository,
      targetImage: target.image,
      digest,
      tags: [...tags],
      mode,
    }),
  };
  return input;
}

/**
 * dev/app holds a two-platform index tagged 1.0, a signature of the index, an attestation of
 * the signature, an SBOM of one child (each referrer with blobs of its own), and an unrelated
 * image tagged `other` with its own signature. prod exists and is empty.
 */
export async function release(store: MetadataStore) {
  await ensureRepository(store, 'dev');
  await ensureRepository(store, 'prod');
  const amd64 = await pushImage(store, { ...DEV_APP, label: 'amd64' });
  const arm64 = await pushImage(store, { ...DEV_APP, label: 'arm64' });
  const index = await pushIndex(store, {
    ...DEV_APP,
    label: 'release',
    children: [amd64, arm64],
    tag: '1.0',
  });
  const signature = await pushImage(store, { ...DEV_APP, label: 'signature', subject: index });
  const attestation = await pushImage(store, { ...DEV_APP, label: 'attestation', subject: signature });
  const sbom = await pushImage(store, { ...DEV_APP, label: 'sbom', subject: amd64 });
  const other = await pushImage(store, { ...DEV_APP, label: 'other', tag: 'other' });
  const otherSignature = await pushImage(store, { ...DEV_APP, label: 'other signature', subject: other });
  const closure = [index, amd64, arm64, signature, attestation, sbom];
  /** Labels of the images in the closure, whose config and layer blobs go along. */
  const blobLabels = ['amd64', 'arm64', 'signature', 'attestation', 'sbom'];
  return { amd64, arm64, index, signature, attestation, sbom, other, otherSignature, closure, blobLabels };
}

function blobsOf(labels: readonly string[]): Digest[] {
  return labels.flatMap((l) => [fakeDigest(`config ${l}`), fakeDigest(`layer ${l}`)]);
}

const sorted = (digests: readonly Digest[]) => [...digests].sort();

export function definePromotionTests(define: Define): void {
  definePropertyTests(define);
  defineContentFactTests(define);
  defineBuildTests(define);
  defineApprovalTests(define);
  definePromoteTests(define);
  definePromotionHistoryTests(define);
  defineTagMoveTests(define);
}

function definePropertyTests(define: Define): void {
  define('properties: set sorts and deduplicates values, an empty list removes the key', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { ...DEV_APP, label: 'a' });
    assert.deepEqual(await store.properties.get('dev', 'app', digest), {});
    await store.properties.set('dev', 'app', digest, {
      'qa.status': ['passed'],
      owner: ['team-b', 'Team-A', 'team-b', 'team_c'],
      gone: ['x'],
    });
    assert.deepEqual(await store.properties.get('dev', 'app', digest), {
      'qa.status': ['passed'],
      owner: ['Team-A', 'team-b', 'team_c'],
      gone: ['x'],
    });
    await store.properties.set('dev', 'app', digest, { 'qa.status': ['failed'], gone: [] });
    assert.deepEqual(await store.properties.get('dev', 'app', digest), {
      'qa.status': ['failed'],
      owner: ['Team-A', 'team-b', 'team_c'],
    });
    assert.deepEqual(await store.properties.get('dev', 'other', digest), {}, 'per name');
  });

  define('properties: set on a digest the name does not hold throws UnknownManifestError', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { repository: 'dev', image: 'lib', label: 'a' });
    for (const [repository, image] of [
      ['dev', 'app'],
      ['ghost', 'lib'],
    ] as const) {
      const error = await store.properties.set(repository, image, digest, { k: ['v'] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof UnknownManifestError, String(error));
      assert.deepEqual(error.where, { repository, image, digest });
    }
    assert.deepEqual(await store.properties.find([{ key: 'k' }], { limit: 10 }), []);
  });

  define('properties: remove takes the given keys or every key, and counts keys', async (store) => {
    await ensureRepository(store, 'dev');
    const digest = await pushImage(store, { ...DEV_APP, label: 'a' });
    await store.properties.set('dev', 'app', digest, { a: ['1', '2'], b: ['1'], c: ['1'], d: ['1'] });
    assert.equal(await store.properties.remove('dev', 'app', digest, ['a', 'b', 'a', 'missing']), 2);
    assert.deepEqual(await store.properties.get('dev', 'app', digest), { c: ['1'], d: ['1'] });
    assert.equal(await store.properties.remove('dev', 'app', digest, []), 0);
    assert.equal(await store.properties.remove('dev', 'app', digest), 2);
    assert.deepEqual(await store.properties.get('dev', 'app', digest), {});
    assert.equal(await store.properties.remove('dev', 'app', digest), 0);
  });

  define('properties: find is the AND of conditions, within repositories, in byte order', async (store) => {
    // Byte order: 'a' < 'a-b' < 'a_b' for repositories; 'App' < 'app' < 'app-x' for images.
    const places = [
      { repository: 'a_b', image: 'app' },
      { repository: 'a', image: 'app-x' },
      { repository: 'a-b', image: 'app' },
      { repository: 'a', image: 'app' },
      { repository: 'a', image: 'App' },
    ];
    for (const { repository } of places) await ensureRepository(store, repository);
    const located = [];
    for (const place of places) {
      const digest = await pushImage(store, { ...place, label: 'same' });
      await store.properties.set(place.repository, place.image, digest, {
        'qa.status': ['passed'],
        owner: ['x', 'y'],
      });
      located.push({ ...place, digest });
    }
    const failed = await pushImage(store, { repository: 'a', image: 'app', label: 'failed' });
    await store.properties.set('a', 'app', failed, { 'qa.status': ['failed'], owner: ['x'] });
    const inOrder = [located[4], located[3], located[1], located[2], located[0]];

    const passedOwned = [{ key: 'qa.status', value: 'passed' }, { key: 'owner' }];
    assert.deepEqual(await store.properties.find(passedOwned, { limit: 10 }), inOrder);
    assert.deepEqual(await store.properties.find(passedOwned, { limit: 2 }), inOrder.slice(0, 2));
    assert.deepEqual(
      await store.properties.find([{ key: 'owner' }, { key: 'qa.status', value: 'passed' }], { limit: 10 }),
      inOrder,
      'the order of conditions does not matter',
    );
    assert.deepEqual(await store.properties.find([{ key: 'qa.status', value: 'failed' }], { limit: 10 }), [
      { repository: 'a', image: 'app', digest: failed },
    ]);
    assert.deepEqual(
      await store.properties.find([{ key: 'owner', value: 'y' }], { repositories: ['a-b', 'a'], limit: 10 }),
      [located[4], located[3], located[1], located[2]],
    );
    assert.deepEqual(
      await store.properties.find(
        [
          { key: 'owner', value: 'x' },
          { key: 'owner', value: 'z' },
        ],
        { limit: 10 },
      ),
      [],
    );
    assert.deepEqual(await store.properties.find([{ key: 'owner' }], { repositories: [], limit: 10 }), []);
  });

  define('properties: manifest delete and repository delete remove them', async (store) => {
    await ensureRepository(store, 'dev');
    await ensureRepository(store, 'prod');
    const digest = await pushImage(store, { ...DEV_APP, label: 'a' });
    const kept = await pushImage(store, { ...DEV_APP, label: 'b' });
    await pushImage(store, { ...PROD_APP, label: 'a' });
    for (const [repository, d] of [
      ['dev', digest],
      ['dev', kept],
      ['prod', digest],
    ] as const) {
      await store.properties.set(repository, 'app', d, { k: ['v'] });
    }

    assert.ok(await store.manifests.delete('dev', 'app', digest, 'alice'));
    assert.deepEqual(await store.properties.get('dev', 'app', kept), { k: ['v'] });
    await pushImage(store, { ...DEV_APP, label: 'a' });
    assert.deepEqual(await store.properties.get('dev', 'app', digest), {}, 'pushed again: none');

    assert.equal(await store.repositories.delete('dev'), true);
    assert.deepEqual(await store.properties.find([{ key: 'k' }], { limit: 10 }), [
      { repository: 'prod', image: 'app', digest },
    ]);
    await ensureRepository(store, 'dev');
    await pushImage(store, { ...DEV_APP, label: 'b' });
    assert.deepEqual(await store.properties.get('dev', 'app', kept), {});
  });
}

function defineContentFactTests(define: Define): void {
  define('content facts: record is idempotent, get sorts by source, key, value', async (store) => {
    const digest = fakeDigest('manifest a');
    const facts: ContentFact[] = [
      { source: 'label', key: 'maintainer', value: 'team' },
      { source: 'annotation', key: 'org.opencontainers.image.version', value: '1.0' },
      { source: 'annotation', key: 'org.opencontainers.image.source', value: 'https://git.example/app' },
      { source: 'label', key: 'maintainer', value: 'Team' },
    ];
    await store.contentFacts.record(digest, facts);
    await store.contentFacts.record(digest, [facts[0] as ContentFact]);
    await store.contentFacts.record(digest, []);
    assert.deepEqual(await store.contentFacts.get(digest), [facts[2], facts[1], facts[3], facts[0]]);
    assert.deepEqual(await store.contentFacts.get(fakeDigest('other')), []);
  });

  define('content facts: find lists where digests with every fact are held, in byte order', async (store) => {
    for (const key of ['dev', 'dev-b', 'prod']) await ensureRepository(store, key);
    const web = await pushImage(store, { repository: 'prod', image: 'web', label: 'web' });
    await pushImage(store, { repository: 'dev-b', image: 'web', label: 'web' });
    await pushImage(store, { repository: 'dev', image: 'web', label: 'web' });
    await pushImage(store, { repository: 'dev', image: 'site', label: 'web' });
    const api = await pushImage(store, { repository: 'dev', image: 'api', label: 'api' });
    const unheld = fakeDigest('manifest never pushed');
    const version = { source: 'annotation', key: 'org.opencontainers.image.version' } as const;
    await store.contentFacts.record(web, [
      { ...version, value: '1.0' },
      { source: 'label', key: 'tier', value: 'frontend' },
    ]);
    await store.contentFacts.record(api, [{ ...version, value: '2.0' }]);
    await store.contentFacts.record(unheld, [{ ...version, value: '1.0' }]);

    const webAt = (repository: string, image: string) => ({ repository, image, digest: web });
    const everyWeb = [webAt('dev', 'site'), webAt('dev', 'web'), webAt('dev-b', 'web'), webAt('prod', 'web')];
    assert.deepEqual(await store.contentFacts.find([{ ...version, value: '1.0' }], { limit: 10 }), everyWeb);
    assert.deepEqual(
      await store.contentFacts.find(
        [
          { source: 'label', key: 'tier' },
          { ...version, value: '1.0' },
        ],
        { limit: 3 },
      ),
      everyWeb.slice(0, 3),
    );
    assert.deepEqual(
      await store.contentFacts.find(
        [
          { source: 'label', key: 'tier' },
          { ...version, value: '2.0' },
        ],
        {
          limit: 10,
        },
      ),
      [],
    );
    assert.deepEqual(
      await store.contentFacts.find([version], { repositories: ['prod', 'dev-b'], limit: 10 }),
      [webAt('dev-b', 'web'), webAt('prod', 'web')],
    );
    assert.deepEqual(
      await store.contentFacts.find([{ source: 'label', key: 'org.opencontainers.image.version' }], {
        limit: 10,
      }),
      [],
      'the source matters',
    );
    assert.deepEqual(await store.contentFacts.find([{ ...version, value: '2.0' }], { limit: 10 }), [
      { repository: 'dev', image: 'api', digest: api },
    ]);
  });
}

function buildRecord(name: string, number: string, publishedAt: string, extra: Partial<BuildRecord> = {}) {
  const record: BuildRecord = {
    name,
    number,
    startedAt: T0,
    durationMs: 93_000,
    vcsUrl: 'https://git.example/app.git',
    vcsRevision: '1a2b3c',
    branch: 'main',
    ciUrl: `https://ci.example/${name}/${number}`,
    artifacts: [{ digest: fakeDigest(`manifest ${name} ${number}`), name: `team/${name}:${number}` }],
    dependencies: [],
    properties: { runner: 'linux-large' },
    publishedBy: 'ci',
    publishedById: 'id-ci',
    publishedToken: { id: 'tok1', name: 'github-actions' },
    publishedAt,
    ...extra,
  };
  return record;
}

function defineBuildTests(define: Define): void {
  define(
    'builds: put and get keep every field and the order of artifacts and dependencies',
    async (store) => {
      const full = buildRecord('app', '42', T1, {
        artifacts: [
          { digest: fakeDigest('z image'), name: 'team/app:main-z' },
          { digest: fakeDigest('a image'), name: 'team/app:main-a' },
          { digest: fakeDigest('z image'), name: 'team/app:latest' },
        ],
        dependencies: [
          { name: 'zlib', version: '1.3', digest: null },
          { name: 'base', version: '12', digest: fakeDigest('base image') },
          { name: 'alpha', version: '0.1', digest: null },
        ],
        properties: { runner: 'r1', env: 'ci' },
      });
      const bare = buildRecord('app', '43', T2, {
        durationMs: null,
        vcsUrl: null,
        vcsRevision: null,
        branch: null,
        ciUrl: null,
        artifacts: [],
        properties: {},
      });
      await store.builds.create(full);
      await store.builds.create(bare);
      assert.deepEqual(await store.builds.get('app', '42'), full);
      assert.deepEqual(await store.builds.get('app', '43'), bare);
      assert.equal(await store.builds.get('app', '44'), undefined);
      assert.equal(await store.builds.get('ap', '42'), undefined);
    },
  );

  define('builds: a recorded number is never replaced; delete frees it with its children', async (store) => {
    const first = buildRecord('app', '1', T1, {
      artifacts: [
        { digest: fakeDigest('old'), name: 'old' },
        { digest: fakeDigest('kept'), name: 'kept' },
      ],
      dependencies: [{ name: 'dep', version: '1', digest: null }],
      publishedById: null,
      publishedToken: null,
    });
    await store.builds.create(first);
    const second = buildRecord('app', '1', T2, { artifacts: [{ digest: fakeDigest('kept'), name: 'kept' }] });
    await assert.rejects(store.builds.create(second), MetaConflictError);
    assert.deepEqual(await store.builds.get('app', '1'), first, 'the first record stays whole');
    assert.equal(await store.builds.delete('app', '1'), true);
    assert.equal(await store.builds.delete('app', '1'), false);
    assert.equal(await store.builds.get('app', '1'), undefined);
    await store.builds.create(second);
    assert.deepEqual(await store.builds.get('app', '1'), second);
    assert.deepEqual(await store.builds.byDigest(fakeDigest('old')), []);
    assert.deepEqual(await store.builds.byDigest(fakeDigest('kept')), [second]);
    assert.deepEqual(await store.builds.list({ limit: 10 }), [second]);
  });

  define('builds: list newest first (ties by name, number), by name, limited; byDigest', async (store) => {
    const shared = fakeDigest('shared image');
    const a1 = buildRecord('app', '1', T0, { artifacts: [{ digest: shared, name: 'app:1' }] });
    const a2 = buildRecord('app', '2', T2);
    const a10 = buildRecord('app', '10', T2, { artifacts: [{ digest: shared, name: 'app:10' }] });
    const b1 = buildRecord('Lib', '1', T2);
    const w1 = buildRecord('web', '1', T1, { artifacts: [{ digest: shared, name: 'web:1' }] });
    for (const build of [a2, w1, b1, a1, a10]) await store.builds.create(build);
    // Byte order: 'Lib' < 'app'; '10' < '2'.
    assert.deepEqual(await store.builds.list({ limit: 10 }), [b1, a10, a2, w1, a1]);
    assert.deepEqual(await store.builds.list({ limit: 2 }), [b1, a10]);
    assert.deepEqual(await store.builds.list({ name: 'app', limit: 10 }), [a10, a2, a1]);
    assert.deepEqual(await store.builds.list({ name: 'app', limit: 1 }), [a10]);
    assert.deepEqual(await store.builds.list({ name: 'nope', limit: 10 }), []);
    assert.deepEqual(await store.builds.byDigest(shared), [a10, w1, a1]);
    assert.deepEqual(await store.builds.byDigest(fakeDigest('manifest web 1')), []);
  });
}

function approval(digest: Digest, repository: string, approver: string, extra: Partial<ApprovalRecord> = {}) {
  return { digest, repository, approver, comment: `ok by ${approver}`, at: T1, ...extra };
}

function defineApprovalTests(define: Define): void {
  define(
    'approvals: add, list oldest first per digest and repository, replace per approver',
    async (store) => {
      await ensureRepository(store, 'prod');
      await ensureRepository(store, 'staging');
      const digest = fakeDigest('manifest a');
      const carol = approval(digest, 'prod', 'carol', { at: T2 });
      const bob = approval(digest, 'prod', 'bob', { at: T1 });
      const alice = approval(digest, 'prod', 'alice', { at: T1 });
      for (const record of [carol, bob, alice]) await store.approvals.add(record);
      await store.approvals.add(approval(digest, 'staging', 'dave'));
      await store.approvals.add(approval(fakeDigest('manifest b'), 'prod', 'erin'));
      assert.deepEqual(await store.approvals.list(digest, 'prod'), [alice, bob, carol]);

      const again = { ...alice, comment: 'still ok', at: T3 };
      await store.approvals.add(again);
      assert.deepEqual(await store.approvals.list(digest, 'prod'), [bob, carol, again]);
      assert.deepEqual(await store.approvals.list(digest, 'dev'), []);
    },
  );

  define('approvals: withdrawn one approver, one digest, one repository at a time', async (store) => {
    await ensureRepository(store, 'prod');
    await ensureRepository(store, 'staging');
    const digest = fakeDigest('manifest a');
    const alice = approval(digest, 'prod', 'alice');
    const bob = approval(digest, 'prod', 'bob');
    for (const record of [alice, bob, approval(digest, 'staging', 'alice')])
      await store.approvals.add(record);
    await store.approvals.add(approval(fakeDigest('manifest b'), 'prod', 'alice'));
    assert.equal(await store.approvals.remove(digest, 'prod', 'alice'), true);
    assert.equal(await store.approvals.remove(digest, 'prod', 'alice'), false);
    assert.equal(await store.approvals.remove(digest, 'prod', 'carol'), false);
    assert.deepEqual(await store.approvals.list(digest, 'prod'), [bob]);
    assert.equal((await store.approvals.list(digest, 'staging')).length, 1);
    assert.equal((await store.approvals.list(fakeDigest('manifest b'), 'prod')).length, 1);
  });

  define('approvals: for an unknown repository throw; repository delete removes them', async (store) => {
    const digest = fakeDigest('manifest a');
    await assert.rejects(store.approvals.add(approval(digest, 'ghost', 'alice')), UnknownRepositoryError);
    await ensureRepository(store, 'prod');
    await ensureRepository(store, 'staging');
    await store.approvals.add(approval(digest, 'prod', 'alice'));
    await store.approvals.add(approval(digest, 'staging', 'alice'));
    assert.equal(await store.repositories.delete('prod'), true);
    await ensureRepository(store, 'prod');
    assert.deepEqual(await store.approvals.list(digest, 'prod'), []);
    assert.equal((await store.approvals.list(digest, 'staging')).length, 1);
  });
}

function definePromoteTests(define: Define): void {
  define(
    'promote: copies an index with its children, referrers and their blobs; source stays',
    async (store) => {
      const r = await release(store);
      const previous = await pushImage(store, { ...PROD_APP, label: 'previous', tag: 'latest' });
      const input = promoteInput(r.index, { tags: ['1.0', 'latest'] });

      const result = await store.promotions.promote(input);

      assert.equal(result.copied[0], r.index, 'root first');
      assert.deepEqual(sorted(result.copied), sorted(r.closure));
      assert.deepEqual(result.tags, [{ tag: '1.0' }, { tag: 'latest', previousDigest: previous }]);
      for (const digest of r.closure) {
        const copy = await store.manifests.get('prod', 'app', digest);
        const original = await store.manifests.get('dev', 'app', digest);
        assert.ok(copy && original, digest);
        assert.deepEqual({ ...copy, createdAt: '' }, { ...original, ...PROD_APP, createdAt: '' });
      }
      for (const digest of [r.other, r.otherSignature]) {
        assert.equal(await store.manifests.get('prod', 'app', digest), undefined, 'not in the closure');
      }
      for (const blob of blobsOf(r.blobLabels)) assert.equal(await store.blobs.get('prod', 'app', blob), 100);
      for (const blob of blobsOf(['other', 'other signature'])) {
        assert.equal(await store.blobs.get('prod', 'app', blob), undefined);
      }
      assert.deepEqual(
        (await store.manifests.referrers('prod', 'app', r.index)).map((m) => m.digest),
        [r.signature],
      );
      assert.deepEqual(
        (await store.manifests.referrers('prod', 'app', r.amd64)).map((m) => m.digest),
        [r.sbom],
      );
      // The copies keep their references: promoting on from prod finds the same closure.
      await ensureRepository(store, 'release');
      const onwards = await store.promotions.promote(
        promoteInput(r.index, { source: PROD_APP, target: { repository: 'release', image: 'app' } }),
      );
      assert.deepEqual(sorted(onwards.copied), sorted(r.closure));
      for (const blob of blobsOf(r.blobLabels))
        assert.equal(await store.blobs.get('release', 'app', blob), 100);

      assert.equal(await store.tags.resolve('prod', 'app', '1.0'), r.index);
      assert.equal(await store.tags.resolve('prod', 'app', 'latest'), r.index);
      const [moved] = await store.tags.history('prod', 'app', 'latest');
      assert.deepEqual(moved && { ...moved, at: '' }, {
        ...{ ...PROD_APP, tag: 'latest', oldDigest: previous, newDigest: r.index },
        ...{ actor: 'promoter', cause: 'promotion', at: '' },
      });
      const [created, ...none] = await store.tags.history('prod', 'app', '1.0');
      assert.deepEqual(none, []);
      assert.equal(created?.cause, 'promotion');

      // Copy: the source keeps everything.
      for (const digest of [...r.closure, r.other])
        assert.ok(await store.manifests.get('dev', 'app', digest));
      assert.deepEqual(await store.tags.list('dev', 'app', {}), ['1.0', 'other']);
      assert.equal((await store.tags.history('dev', 'app', '1.0')).length, 1);

      const [, recorded, ...older] = await store.promotions.list({ limit: 10 });
      assert.deepEqual(older, []);
      assert.ok(recorded && typeof recorded.id === 'number');
      assert.deepEqual(recorded, { ...input.record, id: recorded.id });
    },
  );

  define(
    'promote: move removes the manifests and their tags from the source, not blob links',
    async (store) => {
      const r = await release(store);
      await store.tagMoves.move('dev', 'app', 'amd64-only', r.amd64, 'ci', 'floating');
      await store.properties.set('dev', 'app', r.index, { 'qa.status': ['passed'] });
      await store.properties.set('dev', 'app', r.other, { 'qa.status': ['failed'] });

      const result = await store.promotions.promote(promoteInput(r.index, { mode: 'move', tags: ['1.0'] }));

      assert.deepEqual(sorted(result.copied), sorted(r.closure));
      for (const digest of r.closure) {
        assert.equal(await store.manifests.get('dev', 'app', digest), undefined, digest);
        assert.ok(await store.manifests.get('prod', 'app', digest), digest);
      }
      assert.deepEqual(await store.tags.list('dev', 'app', {}), ['other']);
      for (const [tag, digest] of [
        ['1.0', r.index],
        ['amd64-only', r.amd64],
      ] as const) {
        const [removed] = await store.tags.history('dev', 'app', tag);
        assert.deepEqual(removed && { ...removed, at: '' }, {
          ...{ ...DEV_APP, tag, oldDigest: digest, actor: 'promoter', cause: 'promotion', at: '' },
        });
      }
      assert.equal(await store.tags.resolve('prod', 'app', '1.0'), r.index);
      assert.deepEqual(await store.properties.get('dev', 'app', r.index), {});
      assert.deepEqual(await store.properties.get('prod', 'app', r.index), {}, 'copyProperties was false');
      assert.deepEqual(await store.properties.get('dev', 'app', r.other), { 'qa.status': ['failed'] });
      // What was not promoted stays, and the blob links stay for garbage collection.
      assert.ok(await store.manifests.get('dev', 'app', r.other));
      assert.ok(await store.manifests.get('dev', 'app', r.otherSignature));
      for (const blob of blobsOf(r.blobLabels)) assert.equal(await store.blobs.get('dev', 'app', blob), 100);
      assert.deepEqual(await store.promotions.locate(r.index), [PROD_APP]);
      assert.deepEqual(await store.promotions.locate(r.other), [DEV_APP]);
    },
  );

  define('promote: move leaves a manifest that another index of the source still needs', async (store) => {
    const r = await release(store);
    const other = await pushIndex(store, {
      ...DEV_APP,
      label: 'amd64 only',
      children: [r.amd64],
      tag: 'slim',
    });
    await store.promotions.promote(promoteInput(r.index, { mode: 'move' }));
    assert.ok(await store.manifests.get('dev', 'app', other));
    assert.ok(await store.manifests.get('dev', 'app', r.amd64), 'still referenced by the other index');
    assert.equal(await store.manifests.get('dev', 'app', r.arm64), undefined);
    assert.equal(await store.manifests.get('dev', 'app', r.index), undefined);
    assert.equal(await store.manifests.get('dev', 'app', r.signature), undefined);
    assert.deepEqual(await store.tags.list('dev', 'app', {}), ['other', 'slim']);
  });

  define('promote: the same promotion again copies nothing and only records', async (store) => {
    const r = await release(store);
    const input = promoteInput(r.index, { tags: ['1.0'], copyProperties: true });
    await store.properties.set('dev', 'app', r.index, { 'qa.status': ['passed'] });
    await store.promotions.promote(input);
    const before = await Promise.all(r.closure.map((d) => store.manifests.get('prod', 'app', d)));

    const again = await store.promotions.promote(input);

    assert.deepEqual(again, { copied: [], tags: [{ tag: '1.0', previousDigest: r.index }] });
    assert.deepEqual(await Promise.all(r.closure.map((d) => store.manifests.get('prod', 'app', d))), before);
    assert.equal((await store.tags.history('prod', 'app', '1.0')).length, 1, 'no second event');
    assert.deepEqual(await store.properties.get('prod', 'app', r.index), { 'qa.status': ['passed'] });
    assert.deepEqual(
      (await store.manifests.referrers('prod', 'app', r.index)).map((m) => m.digest),
      [r.signature],
    );
    assert.equal((await store.promotions.list({ limit: 10 })).length, 2);

    // A promotion of what the target already holds in part copies only the rest.
    await ensureRepository(store, 'release');
    await pushImage(store, { repository: 'release', image: 'app', label: 'arm64' });
    const partial = await store.promotions.promote(
      promoteInput(r.index, { target: { repository: 'release', image: 'app' } }),
    );
    assert.deepEqual(sorted(partial.copied), sorted(r.closure.filter((d) => d !== r.arm64)));
  });

  define('promote: copyProperties copies every promoted digest’s properties, key by key', async (store) => {
    const r = await release(store);
    await store.properties.set('dev', 'app', r.index, { 'qa.status': ['passed'], owner: ['a', 'b'] });
    await store.properties.set('dev', 'app', r.amd64, { scanned: ['yes'] });
    await store.properties.set('dev', 'app', r.other, { 'qa.status': ['passed'] });
    await ensureRepository(store, 'release');

    await store.promotions.promote(
      promoteInput(r.index, { target: { repository: 'release', image: 'app' } }),
    );
    assert.deepEqual(await store.properties.get('release', 'app', r.index), {}, 'not asked to');

    // prod already holds the index with properties of its own.
    await pushImage(store, { ...PROD_APP, label: 'amd64' });
    await pushImage(store, { ...PROD_APP, label: 'arm64' });
    await pushIndex(store, { ...PROD_APP, label: 'release', children: [r.amd64, r.arm64] });
    await store.properties.set('prod', 'app', r.index, { 'qa.status': ['pending'], 'prod.only': ['x'] });
    await store.promotions.promote(promoteInput(r.index, { copyProperties: true }));
    assert.deepEqual(await store.properties.get('prod', 'app', r.index), {
      'qa.status': ['passed'],
      owner: ['a', 'b'],
      'prod.only': ['x'],
    });
    assert.deepEqual(await store.properties.get('prod', 'app', r.amd64), { scanned: ['yes'] });
    assert.deepEqual(await store.properties.get('prod', 'app', r.other), {});
    assert.deepEqual(await store.properties.get('dev', 'app', r.index), {
      'qa.status': ['passed'],
      owner: ['a', 'b'],
    });
  });

  define(
    'promote: a digest the source does not hold throws UnknownManifestError, changes nothing',
    async (store) => {
      const r = await release(store);
      const elsewhere = await pushImage(store, { repository: 'dev', image: 'lib', label: 'lib' });
      const previous = await pushImage(store, { ...PROD_APP, label: 'previous', tag: 'latest' });
      const error = await store.promotions
        .promote(promoteInput(elsewhere, { tags: ['latest'], mode: 'move', copyProperties: true }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof UnknownManifestError, String(error));
      assert.deepEqual(error.where, { ...DEV_APP, digest: elsewhere });
      assert.equal(await store.tags.resolve('prod', 'app', 'latest'), previous);
      assert.equal(await store.manifests.get('prod', 'app', elsewhere), undefined);
      assert.deepEqual(await store.promotions.list({ limit: 10 }), []);

      // A target repository that does not exist: nothing copied anywhere, nothing recorded.
      await assert.rejects(
        store.promotions.promote(promoteInput(r.index, { target: { repository: 'ghost', image: 'app' } })),
        UnknownRepositoryError,
      );
      assert.deepEqual(await store.promotions.locate(r.index), [DEV_APP]);
      assert.deepEqual(await store.promotions.list({ limit: 10 }), []);
    },
  );

  define('promote: within one name only moves tags, even in move mode', async (store) => {
    const r = await release(store);
    const result = await store.promotions.promote(
      promoteInput(r.index, { target: DEV_APP, mode: 'move', tags: ['stable'] }),
    );
    assert.deepEqual(result, { copied: [], tags: [{ tag: 'stable' }] });
    for (const digest of r.closure) assert.ok(await store.manifests.get('dev', 'app', digest));
    assert.deepEqual(await store.tags.list('dev', 'app', {}), ['1.0', 'other', 'stable']);
  });
}

function definePromotionHistoryTests(define: Define): void {
  define(
    'promotions: list newest first, filtered by digest, repository, image, outcome, beforeId',
    async (store) => {
      const d1 = fakeDigest('one');
      const d2 = fakeDigest('two');
      const records = [
        promotionRecord({ digest: d1, outcome: 'refused' }),
        promotionRecord({ digest: d2, sourceImage: 'lib', outcome: 'refused' }),
        promotionRecord({
          ...{ digest: d1, sourceRepository: 'prod', targetRepository: 'release', outcome: 'refused' },
          gates: [{ gate: 'approvals 2', type: 'approval', passed: false, reason: 'one approval of 2' }],
        }),
        promotionRecord({ digest: d2, targetRepository: 'staging', targetImage: 'web', outcome: 'refused' }),
      ];
      for (const record of records) await store.promotions.recordRefusal(record);
      const all = await store.promotions.list({ limit: 10 });
      const ids = all.map((p) => p.id as number);
      assert.deepEqual(
        all,
        [...records].reverse().map((record, i) => ({ ...record, id: ids[i] })),
      );
      assert.ok(
        ids.every((id, i) => i === 0 || id < (ids[i - 1] as number)),
        'ids grow',
      );
      const [id1, id2, id3, id4] = [...ids].reverse();

      const idsOf = async (query: Parameters<MetadataStore['promotions']['list']>[0]) =>
        (await store.promotions.list(query)).map((p) => p.id);
      assert.deepEqual(await idsOf({ limit: 2 }), [id4, id3]);
      assert.deepEqual(await idsOf({ limit: 10, beforeId: id3 }), [id2, id1]);
      assert.deepEqual(await idsOf({ limit: 10, digest: d1 }), [id3, id1]);
      assert.deepEqual(await idsOf({ limit: 10, repository: 'dev' }), [id4, id2, id1]);
      assert.deepEqual(await idsOf({ limit: 10, repository: 'prod' }), [id3, id2, id1]);
      assert.deepEqual(await idsOf({ limit: 10, image: 'lib' }), [id2]);
      assert.deepEqual(await idsOf({ limit: 10, image: 'web' }), [id4]);
      assert.deepEqual(await idsOf({ limit: 10, repository: 'dev', image: 'app' }), [id4, id1]);
      assert.deepEqual(await idsOf({ limit: 10, repository: 'prod', image: 'app' }), [id3, id2, id1]);
      assert.deepEqual(await idsOf({ limit: 10, outcome: 'promoted' }), []);
      assert.deepEqual(await idsOf({ limit: 10, outcome: 'refused', digest: d2, beforeId: id4 }), [id2]);
    },
  );

  define('promotions: refusals change nothing else; history outlives the repositories', async (store) => {
    const r = await release(store);
    await store.promotions.recordRefusal(
      promotionRecord({ digest: r.index, tags: ['1.0'], outcome: 'refused' }),
    );
    assert.deepEqual(await store.promotions.locate(r.index), [DEV_APP]);
    assert.deepEqual(await store.tags.list('prod', 'app', {}), []);
    await store.promotions.promote(promoteInput(r.index));
    assert.equal(await store.repositories.delete('prod'), true);
    assert.equal(await store.repositories.delete('dev'), true);
    const outcomes = (await store.promotions.list({ limit: 10 })).map((p) => p.outcome);
    assert.deepEqual(outcomes, ['promoted', 'refused']);
    assert.deepEqual(await store.promotions.locate(r.index), []);
  });

  define('promotions: locate lists the names holding the digest, in byte order', async (store) => {
    for (const key of ['a_b', 'a-b', 'a']) await ensureRepository(store, key);
    const names = [
      { repository: 'a_b', image: 'app' },
      { repository: 'a', image: 'app-x' },
      { repository: 'a-b', image: 'app' },
      { repository: 'a', image: 'app' },
      { repository: 'a', image: 'app/sub' },
      { repository: 'a', image: 'App' },
    ];
    let digest: Digest | undefined;
    for (const name of names) digest = await pushImage(store, { ...name, label: 'same' });
    await pushImage(store, { repository: 'a', image: 'other', label: 'different' });
    assert.ok(digest);
    assert.deepEqual(await store.promotions.locate(digest), [
      { repository: 'a', image: 'App' },
      { repository: 'a', image: 'app' },
      { repository: 'a', image: 'app-x' },
      { repository: 'a', image: 'app/sub' },
      { repository: 'a-b', image: 'app' },
      { repository: 'a_b', image: 'app' },
    ]);
    assert.deepEqual(await store.promotions.locate(fakeDigest('nowhere')), []);
  });
}

function defineTagMoveTests(define: Define): void {
  define(
    'tag moves: point a tag at a held digest with the cause, return the previous digest',
    async (store) => {
      await ensureRepository(store, 'dev');
      const first = await pushImage(store, { ...DEV_APP, label: 'a', tag: 'stable' });
      const second = await pushImage(store, { ...DEV_APP, label: 'b' });
      assert.deepEqual(await store.tagMoves.move('dev', 'app', 'stable', second, 'alice', 'rollback'), {
        previousDigest: first,
      });
      assert.deepEqual(await store.tagMoves.move('dev', 'app', 'new', first, 'bob', 'floating'), {});
      assert.equal(await store.tags.resolve('dev', 'app', 'stable'), second);
      assert.equal(await store.tags.resolve('dev', 'app', 'new'), first);
      const [moved] = await store.tags.history('dev', 'app', 'stable');
      assert.deepEqual(moved && { ...moved, at: '' }, {
        ...{
          ...DEV_APP,
          tag: 'stable',
          oldDigest: first,
          newDigest: second,
          actor: 'alice',
          cause: 'rollback',
        },
        at: '',
      });
    },
  );

  define('tag moves: a digest the name does not hold throws UnknownManifestError', async (store) => {
    await ensureRepository(store, 'dev');
    const first = await pushImage(store, { ...DEV_APP, label: 'a', tag: 'stable' });
    const elsewhere = await pushImage(store, { repository: 'dev', image: 'lib', label: 'b' });
    const error = await store.tagMoves.move('dev', 'app', 'stable', elsewhere, 'alice', 'floating').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnknownManifestError, String(error));
    assert.deepEqual(error.where, { ...DEV_APP, digest: elsewhere });
    assert.equal(await store.tags.resolve('dev', 'app', 'stable'), first);
    assert.equal((await store.tags.history('dev', 'app', 'stable')).length, 1);
  });
}
