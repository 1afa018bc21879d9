import type { Readable } from 'node:stream';
import { clip } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import { MAX_MANIFEST_BYTES } from '../../oci/manifest.ts';
import { isStableVersion } from '../../promote/tag-service.ts';
import type { ResolvedName } from '../../repos/repository-service.ts';
import type { Handler, RegistryContext, RegistryRequest } from '../http-types.ts';
import { parseReadReference, parseReference, type Reference } from '../manifest-service.ts';
import { urlFor } from '../routes.ts';
import { actorOf, audit, contentLength, resolveName } from './request-parsing.ts';

/**
 * `GET`/`HEAD`: the stored bytes whatever `Accept` says. A client that cannot read the type
 * learns it from Content-Type, which is better than a 404 for content that exists.
 */
export const read: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const reference = req.params.reference ?? '';
  const ref = parseReadReference(reference);
  if (!ref) {
    throw new OciError('MANIFEST_UNKNOWN', `"${clip(reference)}" is not a valid tag, so no manifest has it`, {
      reference: clip(reference),
    });
  }
  const manifest = await ctx.manifests.get(name, ref, ctx.auth.control.memberReader(req), {
    pull: req.method === 'GET',
  });
  const headers = {
    'Content-Type': manifest.mediaType,
    'Docker-Content-Digest': manifest.digest,
    'Content-Length': manifest.bytes.length,
    ETag: `"${manifest.digest}"`,
  };
  return req.method === 'HEAD' ? { status: 200, headers } : { status: 200, headers, body: manifest.bytes };
};

export const write: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const ref = parseReference(req.params.reference ?? '');
  const bytes = await readManifestBody(req.body, contentLength(req));
  const target = ctx.repos.writeTarget(name);
  const stored = await ctx.manifests.put(name, ref, {
    bytes,
    contentType: req.headers['content-type'],
    actor: actorOf(req),
    // Moving an existing tag is overwriting: it needs delete (a registry token's push suffices for the claim).
    mayMoveTag: ctx.auth.control.may(req, 'delete', target, req.params.name ?? '', 'push'),
    adopt: (missing) => ctx.blobs.adoptFromMembers(name, missing, ctx.auth.control.memberReader(req)),
  });
  const moved = stored.previousDigest !== undefined && stored.previousDigest !== stored.digest;
  audit(
    req,
    ctx,
    moved ? 'tag.move' : 'manifest.push',
    target,
    'tag' in ref ? `${target.image}:${ref.tag}` : `${target.image}@${stored.digest}`,
    {
      digest: stored.digest,
      ...(moved ? { previousDigest: stored.previousDigest } : {}),
    },
  );
  // A new stable version may move X.Y, X and latest (when the repository has floating tags).
  if ('tag' in ref && isStableVersion(ref.tag)) await floatAfterChange(req, ctx, target, ref);
  const headers: Record<string, string | number> = {
    Location: urlFor('manifest', { name: req.params.name ?? '', reference: stored.digest }),
    'Docker-Content-Digest': stored.digest,
    'Content-Length': 0,
  };
  if (stored.subject) headers['OCI-Subject'] = stored.subject;
  return { status: 201, headers };
};

export const remove: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const ref = parseReference(req.params.reference ?? '');
  await ctx.manifests.delete(name, ref, actorOf(req));
  const target = ctx.repos.writeTarget(name);
  if ('tag' in ref) audit(req, ctx, 'tag.delete', target, `${target.image}:${ref.tag}`);
  else audit(req, ctx, 'manifest.delete', target, `${target.image}@${ref.digest}`);
  // A withdrawn version takes its floating tags along: they fall back to the highest remaining.
  // Deleting latest or X.Y by tag is left alone (the caller wants it gone until the next version).
  if (!('tag' in ref) || isStableVersion(ref.tag)) await floatAfterChange(req, ctx, target, ref);
  return { status: 202 };
};

/**
 * Points the floating tags of the image at the highest stable versions after a push or delete.
 * The change stands when this fails: the next push or promotion of a version catches up.
 */
async function floatAfterChange(
  req: RegistryRequest,
  ctx: RegistryContext,
  target: ResolvedName,
  ref: Reference,
): Promise<void> {
  await ctx.tags.updateFloating(target.repository.key, target.image, actorOf(req)).catch((err) => {
    ctx.log.error({ err, name: req.params.name, reference: ref }, 'updating floating tags failed');
  });
}

/**
 * A body up to this size is read (and dropped past MAX_MANIFEST_BYTES) before answering, so a
 * client still writing its request sees the SIZE_INVALID answer instead of a broken pipe. A
 * larger one is answered at once and its connection closed.
 */
const DRAIN_LIMIT = 4 * MAX_MANIFEST_BYTES;

/** Reads the manifest body, keeping at most MAX_MANIFEST_BYTES in memory. */
async function readManifestBody(body: Readable, length: number | undefined): Promise<Buffer> {
  const tooLarge = (size: number) =>
    new OciError(
      'SIZE_INVALID',
      `manifest is ${size} bytes or more; at most ${MAX_MANIFEST_BYTES} are accepted`,
      { size, limit: MAX_MANIFEST_BYTES },
      undefined,
      413,
    );
  if (length !== undefined && length > DRAIN_LIMIT) throw tooLarge(length);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_LIMIT) throw tooLarge(size);
    if (size <= MAX_MANIFEST_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_MANIFEST_BYTES) throw tooLarge(size);
  if (length !== undefined && size !== length) {
    throw new OciError('SIZE_INVALID', `manifest body is ${size} bytes but Content-Length said ${length}`);
  }
  if (size === 0) throw new OciError('MANIFEST_INVALID', 'manifest body is empty');
  return Buffer.concat(chunks, size);
}
