import { gzipSync } from 'node:zlib';

import { pack } from 'tar-stream';

import { blobBytes, type GeneratedBlob, sha256 } from './blobgen.ts';
import { call, expectStatus, header, type Target } from './client.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** What docker, containerd and skopeo send on manifest reads: OCI and Docker types together. */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const OCTETS = 'application/octet-stream';

/** `POST /v2/<name>/blobs/uploads/` → the upload's Location. */
export async function startUpload(target: Target, name: string): Promise<string> {
  const reply = await call(target, `/v2/${name}/blobs/uploads/`, { method: 'POST' });
  expectStatus(reply, 202, `POST upload ${name}`);
  return requireLocation(reply.headers.location, 'POST upload');
}

function requireLocation(value: string | undefined, what: string): string {
  if (!value) throw new Error(`${what}: no Location header`);
  return value;
}

export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** POST, then one PUT ?digest= carrying the whole body (the containerd style). */
export async function pushMonolithic(target: Target, name: string, blob: GeneratedBlob): Promise<void> {
  const location = await startUpload(target, name);
  const reply = await call(target, withDigest(location, blob.digest), {
    method: 'PUT',
    headers: { 'content-type': OCTETS, 'content-length': blob.size },
    body: blobBytes(blob.seed, blob.size),
  });
  expectStatus(reply, 201, `PUT blob ${blob.size} B`);
}

/** POST, PATCH chunks with Content-Range following Location each time, then an empty PUT ?digest=. */
export async function pushChunked(
  target: Target,
  name: string,
  blob: GeneratedBlob,
  chunkSize: number,
): Promise<void> {
  let location = await startUpload(target, name);
  for (let start = 0; start < blob.size; start += chunkSize) {
    const end = Math.min(blob.size, start + chunkSize);
    const reply = await call(target, location, {
      method: 'PATCH',
      headers: {
        'content-type': OCTETS,
        'content-length': end - start,
        'content-range': `${start}-${end - 1}`,
      },
      body: blobBytes(blob.seed, blob.size, start, end),
    });
    expectStatus(reply, 202, `PATCH ${start}-${end - 1}`);
    location = requireLocation(reply.headers.location, 'PATCH');
  }
  const done = await call(target, withDigest(location, blob.digest), {
    method: 'PUT',
    headers: { 'content-length': 0 },
  });
  expectStatus(done, 201, 'PUT closing chunked upload');
}

/** POST + PUT ?digest= with a small in-memory body. */
export async function pushSmall(target: Target, name: string, body: Buffer, digest: string): Promise<void> {
  const location = await startUpload(target, name);
  const reply = await call(target, withDigest(location, digest), {
    method: 'PUT',
    headers: { 'content-type': OCTETS, 'content-length': body.length },
    body,
  });
  expectStatus(reply, 201, `PUT small blob ${name}`);
}

/**
 * Cross-repository mount of a blob that `from` already holds; when the server declines (202 opens
 * an ordinary upload instead), the bytes are sent into that upload.
 */
export async function mountOrPush(
  target: Target,
  name: string,
  from: string,
  blob: { body: Buffer; digest: string },
): Promise<void> {
  const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`;
  const reply = await call(target, `/v2/${name}/blobs/uploads/?${query}`, { method: 'POST' });
  if (reply.status === 201) return;
  expectStatus(reply, 202, `POST mount ${name}`);
  const location = requireLocation(reply.headers.location, 'POST mount fallback');
  const put = await call(target, withDigest(location, blob.digest), {
    method: 'PUT',
    headers: { 'content-type': OCTETS, 'content-length': blob.body.length },
    body: blob.body,
  });
  expectStatus(put, 201, `PUT after declined mount ${name}`);
}

export async function putManifest(target: Target, name: string, reference: string, body: Buffer) {
  const reply = await call(target, `/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': OCI_MANIFEST, 'content-length': body.length },
    body,
  });
  expectStatus(reply, 201, `PUT manifest ${name}:${reference}`);
  return header(reply, 'docker-content-digest');
}

export interface SmallImage {
  config: { body: Buffer; digest: string };
  layer: { body: Buffer; digest: string };
  manifest: Buffer;
  manifestDigest: string;
}

/** The bytes of an OCI image manifest over a config and gzipped tar layers. */
export function ociManifest(
  config: { digest: string; size: number },
  layers: { digest: string; size: number }[],
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );
}

/** A real (tiny) image: one gzipped tar layer holding one file, its config and an OCI manifest. */
export async function makeSmallImage(label: string): Promise<SmallImage> {
  const tar = await tarOf('bench.txt', `gantry bench ${label}\n`);
  const layerBody = gzipSync(tar);
  const layer = { body: layerBody, digest: sha256(layerBody) };
  const configBody = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const config = { body: configBody, digest: sha256(configBody) };
  const manifest = ociManifest({ digest: config.digest, size: configBody.length }, [
    { digest: layer.digest, size: layerBody.length },
  ]);
  return { config, layer, manifest, manifestDigest: sha256(manifest) };
}

async function tarOf(fileName: string, content: string): Promise<Buffer> {
  const archive = pack();
  archive.entry({ name: fileName, mtime: new Date(0), mode: 0o644 }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Pushes config, layer and manifest (tagged `tag`) into `name`. */
export async function pushSmallImage(target: Target, name: string, image: SmallImage, tag: string) {
  await pushSmall(target, name, image.config.body, image.config.digest);
  await pushSmall(target, name, image.layer.body, image.layer.digest);
  return putManifest(target, name, tag, image.manifest);
}
