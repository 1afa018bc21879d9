/**
 * Helpers for the promotion tests: images pushed over the registry API (single-platform or an
 * index with platform children and referrers), the promotion endpoints, and checks that a name
 * really holds what a promotion says it copied.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_AUTH, api } from '../auth/support.ts';
import {
  ACCEPT_ALL_MANIFESTS,
  descriptorOf,
  digestOf,
  imageManifest,
  indexManifest,
  MEDIA,
  makeBlob,
  RegistryClient,
  type TestBlob,
  type TestManifest,
} from '../support/http.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
export type Json = any;

/** A config blob with the given `config` section (User, Healthcheck, Labels, …) and a nonce. */
export function configWith(
  config: Record<string, unknown> = {},
  platform = { os: 'linux', architecture: 'amd64' },
): TestBlob {
  const bytes = Buffer.from(
    JSON.stringify({
      ...platform,
      config: { ...config, Labels: { nonce: randomBytes(8).toString('hex'), ...(config.Labels as object) } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  return { bytes, digest: digestOf(bytes), mediaType: MEDIA.ociConfig };
}

export interface PushedSingle {
  manifest: TestManifest;
  blobs: TestBlob[];
}

export interface PushedIndex {
  index: TestManifest;
  children: PushedSingle[];
  /** A signature of the index and an SBOM of the first child: manifests with a subject. */
  referrers: TestManifest[];
  /** Every manifest digest: index, children, referrers. */
  all: string[];
  /** Every blob of every manifest. */
  blobs: TestBlob[];
}

/** The registry API with the given Authorization (default: the administrator). */
export function registry(url: string, auth: string | undefined = ADMIN_AUTH): RegistryClient {
  return new RegistryClient(url, auth ? { authorization: auth } : {});
}

/** Pushes config + one layer + an image manifest at `name:tag` (or by digest when tag is undefined). */
export async function pushSingle(
  client: RegistryClient,
  name: string,
  tag: string | undefined,
  config: TestBlob = configWith(),
): Promise<PushedSingle> {
  const layer = makeBlob(512 + Math.floor(Math.random() * 512));
  for (const blob of [config, layer]) await client.pushBlob(name, blob);
  const manifest = imageManifest({ config, layers: [layer] });
  await client.pushManifest(name, tag ?? manifest.digest, manifest);
  return { manifest, blobs: [config, layer] };
}

/** An OCI index of two platform images at `name:tag`, a signature of the index and an SBOM of the amd64 child. */
export async function pushIndex(client: RegistryClient, name: string, tag: string): Promise<PushedIndex> {
  const amd64 = await pushSingle(
    client,
    name,
    undefined,
    configWith({}, { os: 'linux', architecture: 'amd64' }),
  );
  const arm64 = await pushSingle(
    client,
    name,
    undefined,
    configWith({}, { os: 'linux', architecture: 'arm64' }),
  );
  const index = indexManifest({
    manifests: [
      descriptorOf(amd64.manifest, { platform: { os: 'linux', architecture: 'amd64' } }),
      descriptorOf(arm64.manifest, { platform: { os: 'linux', architecture: 'arm64' } }),
    ],
  });
  await client.pushManifest(name, tag, index);
  const empty: TestBlob = {
    bytes: Buffer.from('{}'),
    digest: digestOf(Buffer.from('{}')),
    mediaType: MEDIA.ociEmpty,
  };
  await client.pushBlob(name, empty);
  const referrer = async (subject: TestManifest, artifactType: string) => {
    const payload = makeBlob(64, { mediaType: 'application/octet-stream' });
    await client.pushBlob(name, payload);
    const m = imageManifest({
      config: empty,
      layers: [payload],
      artifactType,
      subject: descriptorOf(subject),
    });
    await client.pushManifest(name, m.digest, m);
    return { manifest: m, blobs: [payload] };
  };
  const signature = await referrer(index, 'application/vnd.dev.cosign.artifact.sig.v1+json');
  const sbom = await referrer(amd64.manifest, 'application/spdx+json');
  return {
    index,
    children: [amd64, arm64],
    referrers: [signature.manifest, sbom.manifest],
    all: [
      index.digest,
      amd64.manifest.digest,
      arm64.manifest.digest,
      signature.manifest.digest,
      sbom.manifest.digest,
    ],
    blobs: [...amd64.blobs, ...arm64.blobs, empty, ...signature.blobs, ...sbom.blobs],
  };
}

/** The digest `name:reference` resolves to (Docker-Content-Digest), or undefined on 404; other statuses fail. */
export async function digestAt(
  client: RegistryClient,
  name: string,
  reference: string,
): Promise<string | undefined> {
  const res = await client.request('GET', `/v2/${name}/manifests/${reference}`, {
    headers: { accept: ACCEPT_ALL_MANIFESTS },
  });
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, `GET /v2/${name}/manifests/${reference}: ${res.status} ${res.text()}`);
  const digest = res.headers.get('docker-content-digest') ?? undefined;
  assert.equal(
    digest,
    digestOf(res.body),
    `GET /v2/${name}/manifests/${reference}: body and header disagree`,
  );
  return digest;
}

/** Asserts that `name` serves every blob with the right bytes. */
export async function expectBlobs(
  client: RegistryClient,
  name: string,
  blobs: readonly TestBlob[],
): Promise<void> {
  for (const blob of blobs) {
    const res = await client.request('GET', `/v2/${name}/blobs/${blob.digest}`);
    assert.equal(
      res.status,
      200,
      `GET /v2/${name}/blobs/${blob.digest}: ${res.status} ${res.text().slice(0, 300)}`,
    );
    assert.equal(digestOf(res.body), blob.digest, `blob ${blob.digest} through ${name}: wrong bytes`);
  }
}

/** The digests listed by GET /v2/<name>/referrers/<subject>. */
export async function referrersOf(client: RegistryClient, name: string, subject: string): Promise<string[]> {
  const res = await client.request('GET', `/v2/${name}/referrers/${subject}`);
  assert.equal(res.status, 200, `GET /v2/${name}/referrers/${subject}: ${res.status} ${res.text()}`);
  return (res.json<{ manifests: { digest: string }[] }>().manifests ?? []).map((m) => m.digest).sort();
}

export interface ApiReply {
  status: number;
  json: Json;
}

export function promote(
  url: string,
  body: unknown,
  auth: string | undefined = ADMIN_AUTH,
): Promise<ApiReply> {
  return api(url, 'POST', '/promotions', body, auth);
}

/** POST /promotions and assert 201 (with the reply in the message otherwise). */
export async function promoted(
  url: string,
  body: unknown,
  auth: string | undefined = ADMIN_AUTH,
): Promise<Json> {
  const res = await promote(url, body, auth);
  assert.equal(
    res.status,
    201,
    `POST /promotions ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.json)}`,
  );
  assert.equal(res.json.promoted, true);
  assert.equal(res.json.dryRun, false);
  return res.json;
}

/** GET /promotions?… as the administrator (or `auth`). */
export async function history(
  url: string,
  query: Record<string, string>,
  auth: string | undefined = ADMIN_AUTH,
): Promise<Json[]> {
  const res = await api(url, 'GET', `/promotions?${new URLSearchParams(query)}`, undefined, auth);
  assert.equal(res.status, 200, `GET /promotions?${new URLSearchParams(query)}: ${JSON.stringify(res.json)}`);
  return res.json.promotions as Json[];
}

/** PATCH the properties of `repository/image@digest`. */
export async function setProperties(
  url: string,
  where: { repository: string; image: string; digest: string },
  properties: Record<string, string[]>,
  auth: string | undefined = ADMIN_AUTH,
): Promise<void> {
  const res = await api(
    url,
    'PATCH',
    `/repositories/${where.repository}/images/${where.image}/manifests/${where.digest}/properties`,
    { properties },
    auth,
  );
  assert.equal(
    res.status,
    200,
    `PATCH properties of ${where.repository}/${where.image}: ${JSON.stringify(res.json)}`,
  );
}
