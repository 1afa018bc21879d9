import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest } from '../domain/errors.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import {
  type BuildsService,
  checkBuildName,
  DEFAULT_BUILD_LIMIT,
  MAX_BUILD_LIMIT,
  parseBuild,
} from '../promote/builds-service.ts';
import { auditChange } from './api-auth.ts';
import { DigestString, NoContent, Timestamp } from './api-schema.ts';

type BuildParams = { Params: { name: string; number: string } };

const TAGS = ['builds'];
const BuildKey = z.object({ name: z.string(), number: z.string() });
const Location = z.object({ repository: z.string(), image: z.string(), tags: z.array(z.string()) });
const Build = z.object({
  name: z.string(),
  number: z.string(),
  startedAt: Timestamp,
  durationMs: z.number().nullable(),
  vcs: z.object({
    url: z.string().nullable(),
    revision: z.string().nullable(),
    branch: z.string().nullable(),
  }),
  ciUrl: z.string().nullable(),
  artifacts: z.array(z.object({ digest: DigestString, name: z.string(), locations: z.array(Location) })),
  dependencies: z.array(z.object({ name: z.string(), version: z.string(), digest: DigestString.nullable() })),
  properties: z.record(z.string(), z.string()),
  publishedBy: z.string(),
  publishedByToken: z.string().nullable(),
  publishedAt: Timestamp,
});
const text = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .nullable()
    .optional();
/** Limits, formats and their messages are parseBuild's (builds-service.ts). */
const BuildBody = z.looseObject(
  {
    startedAt: z.string().describe('ISO 8601 time the build started').optional(),
    durationMs: z
      .number({ error: 'durationMs must be a whole number of milliseconds, 0 or more' })
      .nullable()
      .optional(),
    vcs: z
      .looseObject(
        { url: text('vcs.url'), revision: text('vcs.revision'), branch: text('vcs.branch') },
        { error: 'vcs must be an object' },
      )
      .nullable()
      .optional(),
    ciUrl: text('ciUrl'),
    artifacts: z
      .array(z.unknown(), { error: 'artifacts must be a list' })
      .nullable()
      .optional()
      .describe('[{"digest": "sha256:…", "name": "team/app:1.0"}]'),
    dependencies: z
      .array(z.unknown(), { error: 'dependencies must be a list' })
      .nullable()
      .optional()
      .describe('[{"name": "…", "version": "…", "digest": "sha256:… or null"}]'),
    properties: z
      .record(z.string(), z.unknown(), { error: 'properties must be an object' })
      .nullable()
      .optional(),
  },
  {
    error:
      'send a JSON object like {"startedAt": "2026-11-25T10:00:00Z", "artifacts": [{"digest": "sha256:…"}]}',
  },
);

/**
 * CI build info and traceability:
 * - `PUT /builds/:name/:number` (publish somewhere): records a build, 201; 200 when the same
 *   record is sent again by its publisher; 409 for any other record of a recorded number;
 *   audited as `build.publish`;
 * - `DELETE /builds/:name/:number` (publish and delete on one repository): 204, audited as
 *   `build.delete`;
 * - `GET /builds?name=&digest=&limit=`, `GET /builds/:name/:number`: builds with, for each
 *   artifact, where it is now (what the caller may read);
 * - `GET /digests/:digest`: the builds that produced a digest, where it is, and its commit.
 */
export async function buildsApi(
  app: FastifyInstance,
  access: ApiAccess,
  builds: BuildsService,
): Promise<void> {
  const publishSchema = {
    summary: 'Publish a build record (201; 200 when its publisher sends the same record again)',
    tags: TAGS,
    params: BuildKey,
    body: BuildBody,
    response: { 200: Build, 201: Build },
  };
  app.put<BuildParams>('/builds/:name/:number', { schema: publishSchema }, async (request, reply) => {
    const { name, number } = request.params;
    const input = parseBuild(name, number, request.body);
    const { build, created } = await builds.publish(request.principal, input);
    auditChange(request, access, {
      action: 'build.publish',
      target: `${build.name}#${build.number}`,
      detail: {
        repeated: !created,
        revision: build.vcs.revision,
        artifacts: build.artifacts.map((a) => a.digest),
      },
    });
    const path = `/api/v1/builds/${encodeURIComponent(build.name)}/${encodeURIComponent(build.number)}`;
    reply.code(created ? 201 : 200).header('Location', path);
    return build;
  });

  const deleteSchema = {
    summary: 'Delete a build record',
    tags: TAGS,
    params: BuildKey,
    response: { 204: NoContent },
  };
  app.delete<BuildParams>('/builds/:name/:number', { schema: deleteSchema }, async (request, reply) => {
    const deleted = await builds.delete(request.principal, request.params.name, request.params.number);
    auditChange(request, access, {
      action: 'build.delete',
      target: `${deleted.name}#${deleted.number}`,
      detail: { publishedBy: deleted.publishedBy, artifacts: deleted.artifacts.map((a) => a.digest) },
    });
    return reply.code(204).send();
  });

  const getSchema = {
    summary: 'A build, with where each artifact is now',
    tags: TAGS,
    params: BuildKey,
    response: { 200: Build },
  };
  app.get<BuildParams>('/builds/:name/:number', { schema: getSchema }, async (request) =>
    builds.get(request.principal, request.params.name, request.params.number),
  );

  const listSchema = {
    summary: 'Builds, newest first, by name or by an artifact digest',
    tags: TAGS,
    // Loose: the handler names unknown parameters together with the ones that exist.
    querystring: z.looseObject({
      name: z.string().optional(),
      digest: z.string().optional().describe('sha256:…'),
      limit: z.string().optional().describe(`1 to ${MAX_BUILD_LIMIT}, default ${DEFAULT_BUILD_LIMIT}`),
    }),
    response: { 200: z.object({ builds: z.array(Build) }) },
  };
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/builds',
    { schema: listSchema },
    async (request) => {
      const { name, digest, limit, ...rest } = request.query;
      const unknown = Object.keys(rest);
      if (unknown.length > 0)
        throw badRequest(`unknown parameter ${unknown.join(', ')}; use name, digest, limit`);
      return {
        builds: await builds.list(request.principal, {
          ...(name ? { name: checkBuildName(name) } : {}),
          ...(digest ? { digest: digestParam(digest) } : {}),
          limit: limitParam(limit),
        }),
      };
    },
  );

  const traceSchema = {
    summary: 'The builds that produced a digest, where it is, and its commit',
    tags: TAGS,
    params: z.object({ digest: DigestString }),
    response: {
      200: z.object({
        digest: DigestString,
        builds: z.array(Build),
        locations: z.array(Location),
        source: z
          .object({
            build: z.string(),
            number: z.string(),
            vcsUrl: z.string().nullable(),
            revision: z.string().nullable(),
            branch: z.string().nullable(),
          })
          .nullable(),
      }),
    },
  };
  app.get<{ Params: { digest: string } }>('/digests/:digest', { schema: traceSchema }, async (request) =>
    builds.trace(request.principal, digestParam(request.params.digest)),
  );
}

function digestParam(value: string): Digest {
  if (!isDigest(value))
    throw badRequest(`${JSON.stringify(value.slice(0, 100))} is not a digest like sha256:<64 hex>`);
  return value as Digest;
}

function limitParam(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BUILD_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BUILD_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_BUILD_LIMIT}`);
  }
  return n;
}
