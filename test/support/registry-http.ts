// Minimal direct HTTP reads from a registry, for what no client shows: a layer's files, the
// referrers list.
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

async function getOk(url: string, accept?: string): Promise<Response> {
  const res = await fetch(url, accept ? { headers: { accept } } : {});
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${await res.text()}`);
  return res;
}

export async function fetchManifestJson(baseUrl: string, name: string, reference: string): Promise<unknown> {
  return (await getOk(`${baseUrl}/v2/${name}/manifests/${reference}`, MANIFEST_ACCEPT)).json();
}

export async function fetchBlob(baseUrl: string, name: string, digest: string): Promise<Buffer> {
  return Buffer.from(await (await getOk(`${baseUrl}/v2/${name}/blobs/${digest}`)).arrayBuffer());
}

/** Regular files of a gzipped layer tarball, path (without leading `./` or `/`) → content. */
export async function layerFiles(gzipped: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        if (Buffer.isBuffer(c)) chunks.push(c);
      });
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name.replace(/^\.?\//, ''), Buffer.concat(chunks));
        next();
      });
      stream.resume();
    });
    tar.on('finish', () => resolve());
    tar.on('error', reject);
  });
  tar.end(gunzipSync(gzipped));
  await done;
  return files;
}

export interface ReferrersIndex {
  mediaType?: string;
  manifests: { digest: string; artifactType?: string; mediaType: string }[];
}

export async function fetchReferrers(baseUrl: string, name: string, digest: string): Promise<ReferrersIndex> {
  return (await (await getOk(`${baseUrl}/v2/${name}/referrers/${digest}`)).json()) as ReferrersIndex;
}
