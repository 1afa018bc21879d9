import type { Page } from '../../meta/records.ts';
import { parseDigest } from '../../oci/digest.ts';
import { MEDIA } from '../../oci/media-types.ts';
import type { Handler } from '../http-types.ts';
import { urlFor } from '../routes.ts';
import { paginate, parsePage, resolveName } from './request-parsing.ts';

export const tags: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const path = urlFor('tags', { name: req.params.name ?? '' });
  const readable = ctx.auth.control.memberReader(req);
  const page = await paginate(parsePage(req.query), path, (p) => ctx.manifests.tags(name, p, readable));
  return { status: 200, headers: page.headers, body: { name: req.params.name, tags: page.items } };
};

/** Names the caller may read, paginated after filtering (a page is never short because of it). */
export const catalog: Handler = async (req, ctx) => {
  const within = req.scope ? ctx.repos.resolveWithin(req.scope, 'catalog').repository : undefined;
  const control = ctx.auth.control;
  const readable = within
    ? (name: string) => control.mayList(req, within.key, name)
    : (name: string) => {
        const slash = name.indexOf('/');
        return control.mayList(req, name.slice(0, slash), name.slice(slash + 1));
      };
  const everything = req.principal.admin && !req.principal.token;
  const page = await paginate(parsePage(req.query), urlFor('catalog'), (p) => {
    const fetch = (q: Page) =>
      within ? ctx.manifests.catalogWithin(within, q, control.memberReader(req)) : ctx.manifests.catalog(q);
    return everything ? fetch(p) : filteredPage(p, fetch, readable);
  });
  return { status: 200, headers: page.headers, body: { repositories: page.items } };
};

const BATCH = 500;

/** Up to `page.n` entries after `page.last` that pass `keep`, reading the source in batches. */
async function filteredPage(
  page: Page,
  fetch: (p: Page) => Promise<string[]>,
  keep: (name: string) => boolean,
): Promise<string[]> {
  const out: string[] = [];
  let last = page.last;
  for (;;) {
    const items = await fetch(last === undefined ? { n: BATCH } : { n: BATCH, last });
    for (const item of items) {
      if (!keep(item)) continue;
      out.push(item);
      if (page.n !== undefined && out.length >= page.n) return out;
    }
    if (items.length < BATCH) return out;
    last = items[items.length - 1];
  }
}

export const referrers: Handler = async (req, ctx) => {
  const name = resolveName(req, ctx);
  const subject = parseDigest(req.params.digest ?? '');
  const artifactType = req.query.get('artifactType') ?? undefined;
  const index = await ctx.manifests.referrers(
    name,
    subject,
    artifactType,
    ctx.auth.control.memberReader(req),
  );
  const headers: Record<string, string> = { 'Content-Type': MEDIA.ociIndex };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  return { status: 200, headers, body: Buffer.from(JSON.stringify(index)) };
};
