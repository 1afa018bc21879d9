import { parseDigest } from '../../oci/digest.ts';
import { MEDIA } from '../../oci/media-types.ts';
import type { Handler } from '../http-types.ts';
import { urlFor } from '../routes.ts';
import { paginate, parsePage, resolveName } from './request-parsing.ts';

export const tags: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const path = urlFor('tags', { name: req.params.name ?? '' });
  const page = await paginate(parsePage(req.query), path, (p) => ctx.manifests.tags(name, p));
  return { status: 200, headers: page.headers, body: { name: req.params.name, tags: page.items } };
};

export const catalog: Handler = async (req, ctx) => {
  const within = req.scope ? ctx.repos.resolveWithin(req.scope, 'catalog').repository : undefined;
  const page = await paginate(parsePage(req.query), urlFor('catalog'), (p) =>
    within ? ctx.manifests.catalogWithin(within, p) : ctx.manifests.catalog(p),
  );
  return { status: 200, headers: page.headers, body: { repositories: page.items } };
};

export const referrers: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const subject = parseDigest(req.params.digest ?? '');
  const artifactType = req.query.get('artifactType') ?? undefined;
  const index = await ctx.manifests.referrers(name, subject, artifactType);
  const headers: Record<string, string> = { 'Content-Type': MEDIA.ociIndex };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  return { status: 200, headers, body: Buffer.from(JSON.stringify(index)) };
};
