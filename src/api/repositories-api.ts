import type { FastifyInstance } from 'fastify';
import { actionsOf } from '../auth/actions.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import type { Principal } from '../auth/principal.ts';
import type { RepositoryStats } from '../meta/metadata-store.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { maskSettings } from '../repos/remote/remote-settings.ts';
import type { NewRepository, RepositoryService } from '../repos/repository-service.ts';
import { auditChange, requireAction } from './api-auth.ts';
import { badRequest, notFound } from './problem.ts';

/**
 * `/api/v1/repositories`: list and read what the caller may read something in; create, update
 * and delete with `manage` on the key (administrators, or a permission target whose patterns
 * cover the key). Local and remote repositories come with `stats` (image count, bytes of
 * distinct blobs, last push) when the caller may read the whole repository; virtual ones, and
 * repositories the caller reads only some images of, with `stats: null` (counts and sizes would
 * tell of images the caller may not see).
 * Each carries `actions`: what the caller may do on the whole repository (the web UI offers
 * editing where it says manage).
 */
export async function repositoriesApi(
  app: FastifyInstance,
  repos: RepositoryService,
  access: ApiAccess,
  stats: () => Promise<Map<string, RepositoryStats>>,
): Promise<void> {
  const visible = (p: Parameters<typeof access.identity.policy.readsSomethingIn>[0], key: string) =>
    access.identity.policy.readsSomethingIn(p, key);

  const withStats = (p: Principal, r: RepositoryRecord, all: Map<string, RepositoryStats>) => ({
    ...view(r),
    stats:
      r.kind === 'virtual' || !access.identity.policy.allows(p, 'read', r.key)
        ? null
        : (all.get(r.key) ?? { imageCount: 0, sizeBytes: 0, lastPushAt: null }),
    actions: actionsOf(access.identity.policy.actionsOn(p, r.key)),
  });

  app.get('/repositories', async (request) => {
    const all = await stats();
    return {
      repositories: repos
        .list()
        .filter((r) => visible(request.principal, r.key))
        .map((r) => withStats(request.principal, r, all)),
    };
  });

  app.get<{ Params: { key: string } }>('/repositories/:key', async (request) => {
    const found = repos.get(request.params.key);
    if (!found || !visible(request.principal, found.key))
      throw notFound(`repository ${request.params.key} does not exist`);
    return withStats(request.principal, found, await stats());
  });

  app.post('/repositories', async (request, reply) => {
    const input = jsonObject(request.body, '{"key": "docker-qa-local", "kind": "local"}');
    for (const field of ['key', 'kind', 'description'] as const) {
      if (input[field] !== undefined && typeof input[field] !== 'string')
        throw badRequest(`${field} must be a string`);
    }
    if (input.settings !== undefined && (typeof input.settings !== 'object' || input.settings === null)) {
      throw badRequest('settings must be an object');
    }
    if (typeof input.key === 'string') requireAction(request, access, 'manage', input.key);
    const created = await repos.create(input as unknown as NewRepository);
    auditChange(request, access, {
      action: 'repository.create',
      repository: created.key,
      target: created.key,
      detail: { kind: created.kind },
    });
    reply.code(201).header('Location', `/api/v1/repositories/${created.key}`);
    return view(created);
  });

  app.patch<{ Params: { key: string } }>('/repositories/:key', async (request) => {
    const input = jsonObject(request.body, '{"description": "...", "settings": {...}}');
    if (input.description !== undefined && typeof input.description !== 'string') {
      throw badRequest('description must be a string');
    }
    if (input.settings !== undefined && (typeof input.settings !== 'object' || input.settings === null)) {
      throw badRequest('settings must be an object');
    }
    requireAction(request, access, 'manage', request.params.key);
    const updated = await repos.update(request.params.key, {
      ...(input.description === undefined ? {} : { description: input.description as string }),
      ...(input.settings === undefined ? {} : { settings: input.settings as Record<string, unknown> }),
    });
    auditChange(request, access, {
      action: 'repository.update',
      repository: updated.key,
      target: updated.key,
      detail: { fields: Object.keys(input) },
    });
    return view(updated);
  });

  app.delete<{ Params: { key: string } }>('/repositories/:key', async (request, reply) => {
    requireAction(request, access, 'manage', request.params.key);
    await repos.delete(request.params.key);
    auditChange(request, access, {
      action: 'repository.delete',
      repository: request.params.key,
      target: request.params.key,
    });
    reply.code(204).send();
  });
}

function jsonObject(body: unknown, example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`send a JSON object like ${example}`);
  }
  return body as Record<string, unknown>;
}

function view(r: RepositoryRecord) {
  return {
    key: r.key,
    kind: r.kind,
    description: r.description,
    settings: maskSettings(r.settings),
    createdAt: r.createdAt,
  };
}
