/**
 * The port a remote (pull-through cache) repository reads its upstream through. UpstreamClient
 * (upstream-client.ts) implements it over HTTP; tests of the cache can use a double. Contract:
 * - `undefined` means the upstream answered 404: it does not have that name, tag, digest or blob.
 * - Every other failure rejects with UpstreamError (upstream-error.ts): `kind` for the caller to
 *   branch on, a message that names the upstream and the cause and never holds credentials.
 * - An abort of `signal` rejects with the signal's reason instead.
 * - An invalid image name, tag or digest throws OciError (NAME_INVALID, MANIFEST_INVALID,
 *   DIGEST_INVALID) before any request: callers pass what the registry API already validated.
 * - Manifest bytes are verified against their digest; blob bodies are not (the caller hashes them
 *   while storing) and arrive as an unbuffered stream the caller must consume or destroy.
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.ts';

export interface UpstreamManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface UpstreamManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface UpstreamBlob {
  /** From Content-Length, which the upstream must send. */
  size: number;
  body: Readable;
}

export interface Upstream {
  /** The upstream's URL as messages show it (no user info). */
  readonly upstream: string;
  /** Resolves a tag or digest; manifests are small, so the bytes come whole. */
  getManifest(image: string, reference: string, signal?: AbortSignal): Promise<UpstreamManifest | undefined>;
  /** What a TTL re-check needs, without the bytes when the upstream's HEAD says it all. */
  headManifest(
    image: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<UpstreamManifestHead | undefined>;
  /** Follows redirects (Docker Hub sends blobs to a CDN) without sending Authorization elsewhere. */
  openBlob(image: string, digest: Digest, signal?: AbortSignal): Promise<UpstreamBlob | undefined>;
  /** Every tag, following Link pagination. */
  listTags(image: string, signal?: AbortSignal): Promise<string[] | undefined>;
}
