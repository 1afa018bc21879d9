import { parseDigest } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import type { ResolvedName } from '../../repos/repository-service.ts';
import type { UploadState } from '../blob-service.ts';
import type { Handler, RegistryContext, RegistryRequest, Reply } from '../http-types.ts';
import { urlFor } from '../routes.ts';
import { contentLength, parseContentRange, resolveName } from './request-parsing.ts';

/** `POST …/blobs/uploads/`: cross-repository mount, monolithic upload, or a new upload session. */
export const start: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const mount = req.query.get('mount');
  if (mount !== null) {
    const digest = parseDigest(mount);
    const from = tryResolve(req, ctx);
    if (await ctx.blobs.mount(name, digest, from, ctx.auth.control.memberReader(req))) {
      return blobCreated(req, digest);
    }
  } else {
    const digestParam = req.query.get('digest');
    if (digestParam !== null) {
      const digest = parseDigest(digestParam);
      await ctx.blobs.putWhole(name, digest, req.body, contentLength(req), req.signal);
      return blobCreated(req, digest);
    }
  }
  return uploadReply(req, 202, await ctx.blobs.startUpload(name));
};

export const status: Handler = async (req, ctx) => {
  const state = await ctx.blobs.uploadState(resolveName(req, ctx), req.params.id ?? '');
  return uploadReply(req, 204, state);
};

/** `PATCH`: one chunk, with Content-Range (must follow on) or streamed without one. */
export const patch: Handler = async (req, ctx) => {
  const state = await appendBody(req, ctx, resolveName(req, ctx));
  return uploadReply(req, 202, state);
};

/** `PUT ?digest=`: the last chunk (optional) and the end of the upload. */
export const finish: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const digestParam = req.query.get('digest');
  if (digestParam === null) {
    throw new OciError('DIGEST_INVALID', 'closing an upload needs ?digest=<digest of the whole blob>');
  }
  const digest = parseDigest(digestParam);
  if (hasBody(req)) await appendBody(req, ctx, name);
  await ctx.blobs.finishUpload(name, req.params.id ?? '', digest, req.signal);
  return blobCreated(req, digest);
};

export const cancel: Handler = async (req, ctx) => {
  await ctx.blobs.cancelUpload(resolveName(req, ctx), req.params.id ?? '');
  return { status: 204 };
};

async function appendBody(
  req: RegistryRequest,
  ctx: RegistryContext,
  name: ResolvedName,
): Promise<UploadState> {
  const range = parseContentRange(req);
  const length = contentLength(req);
  if (range && length !== undefined && range.end - range.start + 1 !== length) {
    throw new OciError(
      'SIZE_INVALID',
      `Content-Range ${range.start}-${range.end} is ${range.end - range.start + 1} bytes but Content-Length is ${length}`,
    );
  }
  const chunkLength = length ?? (range ? range.end - range.start + 1 : undefined);
  return ctx.blobs.append(name, req.params.id ?? '', req.body, {
    ...(range ? { offset: range.start } : {}),
    ...(chunkLength === undefined ? {} : { length: chunkLength }),
    signal: req.signal,
  });
}

function hasBody(req: RegistryRequest): boolean {
  const length = contentLength(req);
  return (length !== undefined && length > 0) || req.headers['transfer-encoding'] !== undefined;
}

/**
 * The `from` of a mount, or undefined when it names nothing here or nothing the caller may
 * read: the client then uploads, and learns nothing about what `from` holds. Through a virtual
 * `from`, the member holding the blob must be readable too (BlobService.mount).
 */
function tryResolve(req: RegistryRequest, ctx: RegistryContext): ResolvedName | undefined {
  const from = req.query.get('from');
  if (!from) return undefined;
  try {
    const name = resolveName(req, ctx, from);
    return ctx.auth.control.may(req, 'read', name, from) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Upload replies carry where to send the next chunk and how much has arrived. */
export function uploadReply(req: RegistryRequest, status: number, state: UploadState): Reply {
  return {
    status,
    headers: {
      Location: urlFor('upload', { name: req.params.name ?? '', id: state.id }),
      Range: `0-${Math.max(0, state.size - 1)}`,
      'Docker-Upload-UUID': state.id,
      'Content-Length': 0,
    },
  };
}

function blobCreated(req: RegistryRequest, digest: string): Reply {
  return {
    status: 201,
    headers: {
      Location: urlFor('blob', { name: req.params.name ?? '', digest }),
      'Docker-Content-Digest': digest,
      'Content-Length': 0,
    },
  };
}
