import { parseDigest } from '../../oci/digest.ts';
import type { Handler } from '../http-types.ts';
import { audit, parseRange, resolveName } from './request-parsing.ts';

export const read: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const digest = parseDigest(req.params.digest ?? '');
  const readable = ctx.auth.control.memberReader(req);
  const size = await ctx.blobs.stat(name, digest, readable);
  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
    'Content-Length': range ? range.end - range.start + 1 : size,
  };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  const status = range ? 206 : 200;
  if (req.method === 'HEAD') return { status, headers };
  return {
    status,
    headers,
    body: await ctx.blobs.open(name, digest, range, { signal: req.signal, readable }),
  };
};

export const remove: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const digest = parseDigest(req.params.digest ?? '');
  await ctx.blobs.delete(name, digest);
  audit(req, ctx, 'blob.delete', ctx.repos.writeTarget(name), `${name.image}@${digest}`);
  return { status: 202, headers: { 'Docker-Content-Digest': digest } };
};
