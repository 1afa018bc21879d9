import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  type Descriptor,
  descriptorOf,
  digestOf,
  expectOciError,
  expectStatus,
  imageManifest,
  indexManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  nextLink,
  type PushedImage,
  type RegistryClient,
  type TestBlob,
  type TestManifest,
  uniqueName,
} from '../support/http.ts';
import { type Target, useTarget } from './target.ts';

let target: Target;
let client: RegistryClient;

useTarget(async (t) => {
  target = t;
  client = t.client;
});

/** Follows `Link: rel="next"` from `first`, returning every page's items under `key`. */
async function collectPages(first: string, key: 'tags' | 'repositories', pageSize?: number) {
  const pages: string[][] = [];
  let path: string | undefined = first;
  while (path) {
    const res = await client.request('GET', path);
    expectStatus(res, 200, `GET ${path}`);
    const items = res.json<Record<string, string[] | null>>()[key] ?? [];
    if (pageSize !== undefined)
      assert.ok(items.length <= pageSize, `page of ${items.length} > n=${pageSize}`);
    pages.push(items);
    path = nextLink(res);
    assert.ok(pages.length < 100, 'pagination does not end');
  }
  return pages;
}

describe('tags list', () => {
  const tags = ['b', 'a', 'C', '1.0', 'latest', 'a-2', 'Z9'];
  const sorted = [...tags].sort();
  let image: PushedImage;

  before(async () => {
    image = await client.pushImage(uniqueName('tags'), tags[0]!);
    for (const tag of tags.slice(1)) await client.pushManifest(image.name, tag, image.manifest);
  });

  test('lists every tag in lexical order with the name', async () => {
    const res = await client.tags(image.name);
    expectStatus(res, 200);
    assert.deepEqual(res.json(), { name: image.name, tags: sorted });
  });

  test('n limits the page and Link points at the next one with n and last', async () => {
    const res = await client.tags(image.name, '?n=2');
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ tags: string[] }>().tags, sorted.slice(0, 2));
    const link = nextLink(res);
    assert.ok(link, `no Link rel="next" header: ${res.headers.get('link')}`);
    const next = new URL(link, target.url);
    assert.equal(next.pathname, `/v2/${image.name}/tags/list`);
    assert.equal(next.searchParams.get('n'), '2');
    assert.equal(next.searchParams.get('last'), sorted[1]);
  });

  test('following the links yields every tag once, and the last page has no Link', async () => {
    const pages = await collectPages(`/v2/${image.name}/tags/list?n=3`, 'tags', 3);
    assert.deepEqual(pages.flat(), sorted);
    assert.equal(pages.length, Math.ceil(sorted.length / 3));
  });

  test('last alone returns the tags after it', async () => {
    const res = await client.tags(image.name, `?last=${sorted[2]}`);
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ tags: string[] }>().tags, sorted.slice(3));
  });

  test('a last that is not itself a tag still starts after it in lexical order', async () => {
    const res = await client.tags(image.name, '?last=a0');
    expectStatus(res, 200);
    assert.deepEqual(
      res.json<{ tags: string[] }>().tags,
      sorted.filter((t) => t > 'a0'),
    );
  });

  test('n and last together', async () => {
    const res = await client.tags(image.name, `?n=2&last=${sorted[1]}`);
    assert.deepEqual(res.json<{ tags: string[] }>().tags, sorted.slice(2, 4));
  });

  test('n=0 returns an empty list', async () => {
    const res = await client.tags(image.name, '?n=0');
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ tags: unknown }>().tags, []);
  });

  test('a deleted tag leaves the list', async () => {
    const name = uniqueName('tags-del');
    const pushed = await client.pushImage(name, 'keep');
    await client.pushManifest(name, 'drop', pushed.manifest);
    expectStatus(await client.request('DELETE', `/v2/${name}/manifests/drop`), 202);
    assert.deepEqual((await client.tags(name)).json<{ tags: string[] }>().tags, ['keep']);
  });
});

describe('catalog', () => {
  const names: string[] = [];

  before(async () => {
    const stem = uniqueName('cat');
    for (const suffix of ['e', 'b', 'd', 'a', 'c']) {
      const name = `${stem}/${suffix}`;
      await client.pushImage(name, 'v1');
      names.push(name);
    }
    names.sort();
  });

  test('lists names in lexical order, ours included', async () => {
    const all = (await collectPages('/v2/_catalog', 'repositories')).flat();
    assert.deepEqual(all, [...all].sort(), 'catalog not in lexical order');
    assert.deepEqual(
      all.filter((n) => names.includes(n)),
      names,
    );
    assert.equal(new Set(all).size, all.length, 'catalog lists a name twice');
  });

  test('pages of n=2 via Link add up to the whole catalog', async () => {
    const all = (await collectPages('/v2/_catalog', 'repositories')).flat();
    const pages = await collectPages('/v2/_catalog?n=2', 'repositories', 2);
    assert.deepEqual(pages.flat(), all);
  });

  test('last skips to the names after it', async () => {
    const res = await client.request('GET', `/v2/_catalog?n=2&last=${names[1]}`);
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ repositories: string[] }>().repositories, names.slice(2, 4));
    assert.ok(nextLink(res), 'more names follow, but no Link header');
  });

  test('n=0 returns an empty list', async () => {
    const res = await client.request('GET', '/v2/_catalog?n=0');
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ repositories: unknown }>().repositories, []);
  });
});

describe('referrers', () => {
  const EMPTY: TestBlob = {
    bytes: Buffer.from('{}'),
    digest: digestOf(Buffer.from('{}')),
    mediaType: MEDIA.ociEmpty,
  };
  const SBOM = 'application/vnd.example.sbom.v1';
  const SIG = 'application/vnd.example.signature.v1';
  let name: string;
  let subject: PushedImage;
  let expected: Descriptor[];
  /** `OCI-Subject` of every PUT with a subject, checked by its own test so setup never fails on it. */
  const subjectHeaders: { sent: string; got: string | null }[] = [];

  /** An artifact manifest over the empty config, referring to `about`. */
  async function pushArtifact(
    into: string,
    about: Descriptor,
    artifactType: string | undefined,
    annotations?: Record<string, string>,
    config: TestBlob = EMPTY,
  ): Promise<TestManifest> {
    const layer = makeBlob(64, { mediaType: 'application/vnd.example.payload' });
    await client.pushBlob(into, config);
    await client.pushBlob(into, layer);
    const manifest = imageManifest({
      config,
      layers: [layer],
      subject: about,
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    });
    const res = await client.pushManifest(into, manifest.digest, manifest);
    subjectHeaders.push({ sent: about.digest, got: res.headers.get('oci-subject') });
    return manifest;
  }

  const referrers = (digest: string, query = '') =>
    client.request('GET', `/v2/${name}/referrers/${digest}${query}`);

  before(async () => {
    name = uniqueName('refs');
    subject = await client.pushImage(name, 'v1');
    const about = descriptorOf(subject.manifest);
    const sbom = await pushArtifact(name, about, SBOM, { 'org.example.kind': 'sbom' });
    const sig = await pushArtifact(name, about, SIG);
    const typedConfig = { ...makeConfig('application/vnd.example.config.v1+json') };
    const byConfig = await pushArtifact(name, about, undefined, undefined, typedConfig);
    const index = indexManifest({
      manifests: [descriptorOf(sbom)],
      subject: about,
      artifactType: 'application/vnd.example.bundle',
      annotations: { 'org.example.index': 'yes' },
    });
    await client.pushManifest(name, index.digest, index);
    expected = [
      descriptorOf(sbom, { artifactType: SBOM, annotations: { 'org.example.kind': 'sbom' } }),
      descriptorOf(sig, { artifactType: SIG }),
      descriptorOf(byConfig, { artifactType: 'application/vnd.example.config.v1+json' }),
      descriptorOf(index, {
        artifactType: 'application/vnd.example.bundle',
        annotations: { 'org.example.index': 'yes' },
      }),
    ];
  });

  test('a manifest PUT with a subject answers OCI-Subject: <subject digest>', () => {
    assert.ok(subjectHeaders.length >= 3);
    for (const { sent, got } of subjectHeaders) assert.equal(got, sent, 'OCI-Subject header');
  });

  const byDigest = (a: Descriptor, b: Descriptor) => a.digest.localeCompare(b.digest);

  test('lists every manifest with that subject as an OCI index', async () => {
    const res = await referrers(subject.manifest.digest);
    expectStatus(res, 200);
    assert.equal(res.headers.get('content-type')?.split(';')[0], MEDIA.ociIndex);
    const doc = res.json<{ schemaVersion: number; mediaType: string; manifests: Descriptor[] }>();
    assert.equal(doc.schemaVersion, 2);
    assert.equal(doc.mediaType, MEDIA.ociIndex);
    assert.deepEqual([...doc.manifests].sort(byDigest), [...expected].sort(byDigest));
  });

  test('artifactType filters and says so in OCI-Filters-Applied', async () => {
    const res = await referrers(subject.manifest.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    expectStatus(res, 200);
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    const doc = res.json<{ manifests: Descriptor[] }>();
    assert.deepEqual(
      doc.manifests,
      expected.filter((d) => d.artifactType === SBOM),
    );
  });

  test('an unknown subject answers 200 with no manifests', async () => {
    const res = await referrers(makeBlob(8).digest);
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ manifests: unknown }>().manifests, []);
  });

  test('a referrer may be pushed before its subject exists', async () => {
    const future = makeBlob(100);
    const about: Descriptor = { mediaType: MEDIA.ociManifest, digest: future.digest, size: 100 };
    const early = await pushArtifact(name, about, SIG);
    const res = await referrers(future.digest);
    expectStatus(res, 200);
    assert.deepEqual(res.json<{ manifests: Descriptor[] }>().manifests, [
      descriptorOf(early, { artifactType: SIG }),
    ]);
  });

  test('referrers in another name are not listed', async () => {
    const other = uniqueName('refs-other');
    await pushArtifact(other, descriptorOf(subject.manifest), SBOM);
    const res = await referrers(subject.manifest.digest);
    expectStatus(res, 200);
    assert.equal(res.json<{ manifests: Descriptor[] }>().manifests.length, expected.length);
  });

  test('a deleted referrer leaves the list', async () => {
    const about = descriptorOf(subject.manifest);
    const gone = await pushArtifact(name, about, 'application/vnd.example.temporary');
    expectStatus(await client.request('DELETE', `/v2/${name}/manifests/${gone.digest}`), 202);
    const res = await referrers(subject.manifest.digest);
    expectStatus(res, 200);
    const digests = res.json<{ manifests: Descriptor[] }>().manifests.map((d) => d.digest);
    assert.ok(!digests.includes(gone.digest), 'a deleted referrer is still listed');
  });

  test('a malformed subject digest is 400 DIGEST_INVALID', async () => {
    expectOciError(await referrers('sha256:ABC'), 400, 'DIGEST_INVALID');
  });
});
