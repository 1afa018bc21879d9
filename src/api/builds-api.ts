import type { FastifyInstance } from 'fastify';
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

type BuildParams = { Params: { name: string; number: string } };

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
  app.put<BuildParams>('/builds/:name/:number', async (request, reply) => {
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

  app.delete<BuildParams>('/builds/:name/:number', async (request, reply) => {
    const deleted = await builds.delete(request.principal, request.params.name, request.params.number);
    auditChange(request, access, {
      action: 'build.delete',
      target: `${deleted.name}#${deleted.number}`,
      detail: { publishedBy: deleted.publishedBy, artifacts: deleted.artifacts.map((a) => a.digest) },
    });
    return reply.code(204).send();
  });

  app.get<BuildParams>('/builds/:name/:number', async (request) =>
    builds.get(request.principal, request.params.name, request.params.number),
  );

  app.get<{ Querystring: Record<string, string | undefined> }>('/builds', async (request) => {
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
  });

  app.get<{ Params: { digest: string } }>('/digests/:digest', async (request) =>
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
