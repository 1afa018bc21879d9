import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, notFound } from '../domain/errors.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { isTag } from '../oci/names.ts';
import type { BrowseService } from '../promote/browse-service.ts';
import type { PipelineService } from '../promote/pipeline-service.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { requireAction } from './api-auth.ts';
import type { ImageRoute } from './image-routes.ts';

export interface BrowseDeps {
  repos: RepositoryService;
  browse: BrowseService;
  pipeline: PipelineService;
}

type Paged = { Querystring: { n?: string; last?: string; tag?: string; image?: string } };

/**
 * Browsing for the web UI (and anyone): `GET /repositories/:key/images?n=&last=&image=` (the images of
 * a repository the caller may read, paginated by name; a virtual repository's are the union
 * over the repositories behind it) and `GET /pipeline?n=&last=&tag=&image=` (each image at each stage
 * of the promotion pipeline, with the promotions waiting between stages and their gates).
 */
export async function browseApi(app: FastifyInstance, access: ApiAccess, deps: BrowseDeps): Promise<void> {
  app.get<Paged & { Params: { key: string } }>('/repositories/:key/images', async (request) => {
    const { key } = request.params;
    const repo = deps.repos.get(key);
    if (!repo || !access.identity.policy.readsSomethingIn(request.principal, key)) {
      throw notFound(`repository ${key} does not exist or you may not read it`);
    }
    const n = pageSize(request.query.n, 50, 1000);
    const last = request.query.last;
    const image = request.query.image ?? '';
    if (image.length > 255) throw badRequest('image filters are at most 255 characters');
    const page = await deps.browse.images(
      request.principal,
      repo,
      { n, ...(last === undefined || last === '' ? {} : { last }) },
      image,
    );
    const lastImage = page.images.at(-1)?.image;
    return {
      images: page.images,
      ...(page.more && lastImage !== undefined
        ? {
            next: `/api/v1/repositories/${key}/images?${new URLSearchParams({ n: String(n), last: lastImage, ...(image ? { image } : {}) })}`,
          }
        : {}),
    };
  });

  app.get<Paged>('/pipeline', async (request) => {
    const n = pageSize(request.query.n, 20, 100);
    const tag = request.query.tag === undefined || request.query.tag === '' ? 'latest' : request.query.tag;
    if (!isTag(tag))
      throw badRequest(`tag ${JSON.stringify(tag.slice(0, 100))} is not a tag or a release line like 1.4`);
    const last = request.query.last;
    const image = request.query.image ?? '';
    if (image.length > 255) throw badRequest('image filters are at most 255 characters');
    const view = await deps.pipeline.view(request.principal, {
      n,
      tag,
      ...(image === '' ? {} : { image }),
      ...(last === undefined || last === '' ? {} : { last }),
    });
    const lastImage = view.images.at(-1)?.image;
    const { more, ...rest } = view;
    return {
      ...rest,
      ...(more && lastImage !== undefined
        ? {
            next: `/api/v1/pipeline?${new URLSearchParams({ n: String(n), last: lastImage, tag, ...(image ? { image } : {}) })}`,
          }
        : {}),
    };
  });
}

/**
 * Under `/repositories/<key>/images/<image>` (image-routes.ts): `GET /tags` (every tag with its
 * digest, kind and last move) and `GET /manifests/<digest>` (the manifest in detail: platforms,
 * layers, config with secret-looking environment values masked, referrers, properties, builds).
 * Both need `read`; a virtual repository answers from the repositories behind it.
 */
export function browseRoutes(access: ApiAccess, deps: BrowseDeps): ImageRoute[] {
  return [
    {
      method: 'GET',
      suffix: '/tags',
      handle: async (request, _reply, m) => {
        const repo = readable(request, access, deps, m.repository, m.image);
        return { tags: await deps.browse.tags(request.principal, repo, m.image) };
      },
    },
    {
      method: 'GET',
      suffix: '/manifests/:digest',
      handle: async (request, _reply, m) => {
        const digest = m.params.digest ?? '';
        if (!isDigest(digest))
          throw badRequest(`${JSON.stringify(digest.slice(0, 100))} is not a digest like sha256:<64 hex>`);
        const repo = readable(request, access, deps, m.repository, m.image);
        return deps.browse.manifest(request.principal, repo, m.image, digest as Digest);
      },
    },
  ];
}

function readable(
  request: FastifyRequest,
  access: ApiAccess,
  deps: BrowseDeps,
  key: string,
  image: string,
): RepositoryRecord {
  requireAction(request, access, 'read', key, image);
  const repo = deps.repos.get(key);
  if (!repo) throw notFound(`repository ${key} does not exist`);
  return repo;
}

function pageSize(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`n must be a whole number from 1 to ${max}`);
  return n;
}
