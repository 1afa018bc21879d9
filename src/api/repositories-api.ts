import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actionsOf } from '../auth/actions.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, forbidden, notFound } from '../domain/errors.ts';
import type { Action } from '../meta/identity-records.ts';
import type { RepositoryStats } from '../meta/metadata-store.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type WritePolicy, writesOf } from '../promote/repository-policy.ts';
import { maskSettings, touchesCredentials } from '../repos/remote/remote-settings.ts';
import type { NewRepository, RepositoryService } from '../repos/repository-service.ts';
import { repositoriesBehind } from '../repos/virtual-settings.ts';
import { auditChange, requireAction, requireAdmin } from './api-auth.ts';
import { ActionName, field, NoContent, Timestamp } from './api-schema.ts';

const TAGS = ['repositories'];
const Key = z.object({ key: z.string() });
const Repository = z.object({
  key: z.string(),
  kind: z.enum(['local', 'remote', 'virtual']),
  description: z.string(),
  settings: z.record(z.string(), z.unknown()).describe('by kind; credentials masked'),
  createdAt: Timestamp,
});
const RepositoryWithStats = Repository.extend({
  stats: z
    .object({ imageCount: z.number(), sizeBytes: z.number(), lastPushAt: Timestamp.nullable() })
    .nullable()
    .describe('null for virtual repositories and where the caller reads only some images'),
  actions: z.array(ActionName).describe('what the caller may do on the whole repository'),
});
const Settings = z
  .record(z.string(), z.unknown(), { error: 'settings must be an object' })
  .describe('checked by kind: see the README (Repositories)');

/**
 * `/api/v1/repositories`: list and read what the caller may read something in; create, update
 * and delete with `manage` on the key (administrators, or a permission target whose patterns
 * cover the key). Local and remote repositories come with `stats` (image count, bytes of
 * distinct blobs, last push) when the caller may read the whole repository; virtual ones, and
 * repositories the caller reads only some images of, with `stats: null` (counts and sizes would
 * tell of images the caller may not see).
 * Each carries `actions`: what the caller may do on the whole repository (the web UI offers
 * editing where it says manage); never `deploy` in a promotion-only repository, whatever the
 * grants imply, since the registry refuses every push there.
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
    actions: effectiveActions(access.identity.policy.actionsOn(p, r.key), r),
  });

  /**
   * A virtual repository is an address, never a grant, and reads through it are checked on each
   * member; still, whoever lists members must be able to read every one of them (and all behind
   * a virtual member) as a whole, so that `manage` on a key cannot be turned into a view of
   * repositories one may not read. Refusals are audited. Unknown members are left to the
   * settings check, which names them.
   */
  const requireMembersReadable = (
    request: FastifyRequest,
    settings: unknown,
    key: string,
    action: string,
  ) => {
    const raw = (settings as { members?: unknown } | null | undefined)?.members;
    const listed = Array.isArray(raw) ? raw.filter((m): m is string => typeof m === 'string') : [];
    const keys = new Set<string>();
    for (const member of listed) {
      const repo = repos.get(member);
      if (!repo) continue;
      keys.add(member);
      for (const behind of repositoriesBehind(repo, (k) => repos.get(k))) keys.add(behind.key);
    }
    const policy = access.identity.policy;
    const unreadable = [...keys].filter((k) => !policy.allows(request.principal, 'read', k));
    if (unreadable.length === 0) return;
    auditChange(request, access, {
      action,
      repository: key,
      target: key,
      outcome: 'denied',
      detail: { unreadableMembers: unreadable },
    });
    const who = request.principal.authenticated ? `user ${request.principal.name}` : 'an anonymous caller';
    throw forbidden(
      `${who} may not read ${unreadable.join(', ')}, so may not make ${unreadable.length > 1 ? 'them members' : 'it a member'} of virtual repository ${key}: a virtual repository needs read on every member`,
    );
  };

  const listSchema = {
    summary: 'Repositories the caller may read something in',
    tags: TAGS,
    response: { 200: z.object({ repositories: z.array(RepositoryWithStats) }) },
  };
  app.get('/repositories', { schema: listSchema }, async (request) => {
    const all = await stats();
    return {
      repositories: repos
        .list()
        .filter((r) => visible(request.principal, r.key))
        .map((r) => withStats(request.principal, r, all)),
    };
  });

  const getSchema = {
    summary: 'A repository',
    tags: TAGS,
    params: Key,
    response: { 200: RepositoryWithStats },
  };
  app.get<{ Params: { key: string } }>('/repositories/:key', { schema: getSchema }, async (request) => {
    const found = repos.get(request.params.key);
    if (!found || !visible(request.principal, found.key))
      throw notFound(`repository ${request.params.key} does not exist`);
    return withStats(request.principal, found, await stats());
  });

  const createSchema = {
    summary: 'Create a repository (manage on the key)',
    tags: TAGS,
    // Loose: the repository service names unknown fields and checks keys and settings.
    body: z.looseObject(
      {
        key: field.string('key').optional(),
        kind: field.string('kind').optional().describe('local, remote or virtual'),
        description: field.string('description').optional(),
        settings: Settings.optional(),
      },
      { error: 'send a JSON object like {"key": "docker-qa-local", "kind": "local"}' },
    ),
    response: { 201: Repository },
  };
  app.post('/repositories', { schema: createSchema }, async (request, reply) => {
    const input = jsonObject(request.body, '{"key": "docker-qa-local", "kind": "local"}');
    for (const field of ['key', 'kind', 'description'] as const) {
      if (input[field] !== undefined && typeof input[field] !== 'string')
        throw badRequest(`${field} must be a string`);
    }
    if (input.settings !== undefined && (typeof input.settings !== 'object' || input.settings === null)) {
      throw badRequest('settings must be an object');
    }
    if (typeof input.key === 'string') requireAction(request, access, 'manage', input.key);
    if (input.kind === 'virtual')
      requireMembersReadable(request, input.settings, String(input.key), 'repository.create');
    if (input.kind === 'remote' && touchesCredentials(undefined, settingsOf(input))) {
      requireAdmin(request, 'set the credentials of a remote repository');
    }
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

  const updateSchema = {
    summary: "Change a repository's description or settings (settings are replaced as a whole)",
    tags: TAGS,
    params: Key,
    body: z.looseObject(
      { description: field.string('description').optional(), settings: Settings.optional() },
      { error: 'send a JSON object like {"description": "...", "settings": {...}}' },
    ),
    response: { 200: Repository },
  };
  app.patch<{ Params: { key: string } }>('/repositories/:key', { schema: updateSchema }, async (request) => {
    const input = jsonObject(request.body, '{"description": "...", "settings": {...}}');
    if (input.description !== undefined && typeof input.description !== 'string') {
      throw badRequest('description must be a string');
    }
    if (input.settings !== undefined && (typeof input.settings !== 'object' || input.settings === null)) {
      throw badRequest('settings must be an object');
    }
    requireAction(request, access, 'manage', request.params.key);
    const before = repos.get(request.params.key);
    if (before?.kind === 'virtual' && input.settings !== undefined) {
      requireMembersReadable(request, input.settings, request.params.key, 'repository.update');
    }
    if (
      before?.kind === 'remote' &&
      input.settings &&
      touchesCredentials(before.settings, settingsOf(input))
    ) {
      requireAdmin(
        request,
        "change a remote repository's credentials or the URL its stored credentials are sent to",
      );
    }
    // A quota limits those who manage the repository: only an administrator sets or lifts it.
    if (
      input.settings !== undefined &&
      JSON.stringify(before?.settings.quota ?? null) !==
        JSON.stringify((input.settings as Record<string, unknown>).quota ?? null)
    ) {
      requireAdmin(request, "change a repository's storage quota");
    }
    const updated = await repos.update(request.params.key, {
      ...(input.description === undefined ? {} : { description: input.description as string }),
      ...(input.settings === undefined ? {} : { settings: input.settings as Record<string, unknown> }),
    });
    auditChange(request, access, {
      action: 'repository.update',
      repository: updated.key,
      target: updated.key,
      detail: { fields: Object.keys(input), ...writesChange(before, updated) },
    });
    return view(updated);
  });

  const deleteSchema = {
    summary: 'Delete a repository',
    tags: TAGS,
    params: Key,
    response: { 204: NoContent },
  };
  app.delete<{ Params: { key: string } }>(
    '/repositories/:key',
    { schema: deleteSchema },
    async (request, reply) => {
      requireAction(request, access, 'manage', request.params.key);
      await repos.delete(request.params.key);
      auditChange(request, access, {
        action: 'repository.delete',
        repository: request.params.key,
        target: request.params.key,
      });
      reply.code(204).send();
    },
  );
}

function effectiveActions(bits: number, repo: RepositoryRecord): Action[] {
  const actions = actionsOf(bits);
  return writesOf(repo) === 'promotion-only' ? actions.filter((a) => a !== 'deploy') : actions;
}

/**
 * `{writes: {from, to}}` when the update changed how content may arrive. Settings are replaced
 * as a whole, so sending settings without `writes` turns promotion-only off: the audit record
 * must show that as plainly as an explicit change.
 */
function writesChange(
  before: RepositoryRecord | undefined,
  after: RepositoryRecord,
): { writes?: { from: WritePolicy; to: WritePolicy } } {
  const from = before ? writesOf(before) : 'any';
  const to = writesOf(after);
  return from === to ? {} : { writes: { from, to } };
}

function jsonObject(body: unknown, example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`send a JSON object like ${example}`);
  }
  return body as Record<string, unknown>;
}

function settingsOf(input: Record<string, unknown>): Record<string, unknown> {
  return (input.settings ?? {}) as Record<string, unknown>;
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
