import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, notFound } from '../domain/errors.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { isTag } from '../oci/names.ts';
import type { BrowseService } from '../promote/browse-service.ts';
import type { PipelineService } from '../promote/pipeline-service.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { requireAction } from './api-auth.ts';
import { DigestString, GateResult, Timestamp } from './api-schema.ts';
import type { ImageRoute } from './image-routes.ts';

const Tag = z.object({
  tag: z.string(),
  repository: z.string().describe('where the tag is: the member serving it through a virtual repository'),
  digest: DigestString,
  kind: z.enum(['immutable', 'floating', 'mutable']),
  rule: z.string().optional(),
  updatedAt: Timestamp,
});
const PageQuery = {
  n: z.string().optional().describe('page size'),
  last: z.string().optional().describe('the last image of the previous page'),
};
const Next = z.string().optional().describe('the next page');
const ImageFilter = z.string().optional().describe('only images whose name contains this (any case)');
const Pipeline = z.object({
  stages: z.array(z.object({ repository: z.string(), description: z.string(), gates: z.array(z.string()) })),
  others: z.array(
    z.object({
      repository: z.string(),
      kind: z.string(),
      description: z.string(),
      members: z.array(z.string()).optional(),
    }),
  ),
  images: z.array(
    z.object({
      image: z.string(),
      stages: z.record(z.string(), z.object({ digest: DigestString, tags: z.array(z.string()) }).nullable()),
      otherDigests: z
        .record(
          z.string(),
          z.object({
            digests: z.array(
              z.object({ digest: DigestString, tags: z.array(z.string()), updatedAt: Timestamp }),
            ),
            more: z.number().describe('how many more tagged digests the stage holds'),
          }),
        )
        .describe("per stage, the other tagged digests held there besides the followed tag's, newest first"),
      waiting: z.array(
        z.object({
          from: z.string(),
          to: z.string(),
          digest: DigestString,
          gates: z.array(GateResult),
          promotable: z.boolean(),
          unavailable: z.string().optional().describe("why the caller cannot promote, in the server's words"),
          mayApprove: z.boolean().describe("whether the caller's approval would count for a gate"),
        }),
      ),
    }),
  ),
  next: Next,
});
const Manifest = z.object({
  digest: DigestString,
  repository: z.string(),
  mediaType: z.string(),
  size: z.number(),
  tags: z.array(z.string()),
  artifactType: z.string().nullable().describe('set for an artifact that is not a runnable image'),
  subject: DigestString.nullable().describe('the manifest an artifact refers to'),
  platforms: z.array(z.object({ platform: z.string(), digest: DigestString })),
  layers: z.array(z.object({ digest: DigestString, size: z.number(), mediaType: z.string() })),
  config: z.looseObject({}).nullable().describe('the image config, secret-looking environment values masked'),
  annotations: z.record(z.string(), z.string()),
  referrers: z.array(
    z.object({
      digest: DigestString,
      artifactType: z.string().nullable(),
      mediaType: z.string(),
      size: z.number(),
    }),
  ),
  properties: z.record(z.string(), z.array(z.string())),
  builds: z.array(
    z.object({
      name: z.string(),
      number: z.string(),
      vcsUrl: z.string().nullable(),
      revision: z.string().nullable(),
    }),
  ),
});

export interface BrowseDeps {
  repos: RepositoryService;
  browse: BrowseService;
  pipeline: PipelineService;
}

type Paged = { Querystring: { n?: string; last?: string; tag?: string; image?: string; stage?: string } };

/**
 * Browsing for the web UI (and anyone): `GET /repositories/:key/images?n=&last=&image=` (the images of
 * a repository the caller may read, paginated by name; a virtual repository's are the union
 * over the repositories behind it) and `GET /pipeline?n=&last=&tag=&image=` (each image at each stage
 * of the promotion pipeline, with the promotions waiting between stages and their gates).
 */
export async function browseApi(app: FastifyInstance, access: ApiAccess, deps: BrowseDeps): Promise<void> {
  const imagesSchema = {
    summary: 'The images of a repository the caller may read, by name',
    tags: ['browse'],
    params: z.object({ key: z.string() }),
    querystring: z.object({ ...PageQuery, image: ImageFilter }),
    response: {
      200: z.object({
        images: z.array(z.object({ image: z.string(), tagCount: z.number(), lastPushAt: Timestamp })),
        next: Next,
      }),
    },
  };
  app.get<Paged & { Params: { key: string } }>(
    '/repositories/:key/images',
    { schema: imagesSchema },
    async (request) => {
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
    },
  );

  const pipelineSchema = {
    summary: 'Each image at each stage of the promotion pipeline, with the promotions waiting',
    tags: ['browse'],
    querystring: z.object({
      ...PageQuery,
      tag: z.string().optional().describe('default latest'),
      image: ImageFilter,
      stage: z.string().optional().describe('only images this stage (a repository key) holds'),
    }),
    response: { 200: Pipeline },
  };
  app.get<Paged>('/pipeline', { schema: pipelineSchema }, async (request) => {
    const n = pageSize(request.query.n, 20, 100);
    const tag = request.query.tag === undefined || request.query.tag === '' ? 'latest' : request.query.tag;
    if (!isTag(tag))
      throw badRequest(`tag ${JSON.stringify(tag.slice(0, 100))} is not a tag or a release line like 1.4`);
    const last = request.query.last;
    const image = request.query.image ?? '';
    if (image.length > 255) throw badRequest('image filters are at most 255 characters');
    const stage = request.query.stage ?? '';
    const view = await deps.pipeline.view(request.principal, {
      n,
      tag,
      ...(image === '' ? {} : { image }),
      ...(stage === '' ? {} : { stage }),
      ...(last === undefined || last === '' ? {} : { last }),
    });
    if (!view)
      throw badRequest(
        `${JSON.stringify(stage.slice(0, 100))} is not a pipeline stage you may read; the stages are the keys GET /api/v1/pipeline lists in stages`,
      );
    const lastImage = view.images.at(-1)?.image;
    const { more, ...rest } = view;
    return {
      ...rest,
      ...(more && lastImage !== undefined
        ? {
            next: `/api/v1/pipeline?${new URLSearchParams({ n: String(n), last: lastImage, tag, ...(image ? { image } : {}), ...(stage ? { stage } : {}) })}`,
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
      schema: {
        summary: 'Every tag of an image with its digest, kind and last move',
        tags: ['browse'],
        response: { 200: z.object({ tags: z.array(Tag) }) },
      },
      handle: async (request, _reply, m) => {
        const repo = readable(request, access, deps, m.repository, m.image);
        return { tags: await deps.browse.tags(request.principal, repo, m.image) };
      },
    },
    {
      method: 'GET',
      suffix: '/manifests/:digest',
      schema: {
        summary: 'A manifest in detail: platforms, layers, config, referrers, properties, builds',
        tags: ['browse'],
        params: z.object({ digest: DigestString }),
        response: { 200: Manifest },
      },
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
