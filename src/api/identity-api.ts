import type { FastifyInstance } from 'fastify';
import { AuthenticationError } from '../auth/authenticator.ts';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, forbidden, notFound, tooManyRequests } from '../domain/errors.ts';
import type { GroupRecord, PermissionTargetRecord, UserRecord } from '../meta/identity-records.ts';
import { auditChange, requireAdmin, requireSignedIn } from './api-auth.ts';

type Named = { Params: { name: string } };

/**
 * `/api/v1/me`, `/users`, `/groups`, `/permissions`: who the caller is, and the users, groups
 * and permission targets behind access. Users are administrators' business; groups and
 * permission targets are readable by every signed-in user (so people can see who may do what)
 * and changed by administrators. Validation lives in IdentityService; every change is audited.
 */
export async function identityApi(app: FastifyInstance, access: ApiAccess): Promise<void> {
  const { identity } = access;

  /** DELETE of a named record by an administrator: audited, answered 204. */
  const deleteRoute = (path: string, what: string, action: string, remove: (name: string) => Promise<void>) =>
    app.delete<Named>(path, async (request, reply) => {
      requireAdmin(request, `delete ${what}`);
      await remove(request.params.name);
      auditChange(request, access, { action, target: request.params.name });
      reply.code(204).send();
    });

  // ------------------------------------------------------------------------------------- me

  app.get('/me', async (request) => {
    const p = request.principal;
    return {
      name: p.name,
      authenticated: p.authenticated,
      admin: p.admin,
      groups: p.groups,
      via: p.via,
      ...(p.token
        ? {
            token: { id: p.token.id, name: p.token.name, targets: p.token.targets, actions: p.token.actions },
          }
        : {}),
    };
  });

  app.patch('/me', async (request) => {
    const p = requireSignedIn(request);
    const input = objectBody(request.body, '{"currentPassword": "…", "password": "…"}');
    const extra = Object.keys(input).filter((k) => k !== 'password' && k !== 'currentPassword');
    if (extra.length > 0) {
      throw badRequest(
        `only your password can be changed here (not ${extra.join(', ')}); ask an administrator for the rest`,
      );
    }
    if (typeof input.currentPassword !== 'string' || input.password === undefined) {
      throw badRequest('send {"currentPassword": "…", "password": "…"} to change your password');
    }
    const user = existing(identity.user(p.name), `user ${p.name}`);
    if (user.passwordHash === null) throw badRequest(`${p.name} is a robot account: it has no password`);
    try {
      await access.authenticator.login(p.name, input.currentPassword, request.ip);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.reason === 'limited') throw tooManyRequests(error.message, error.retryAfter);
      throw forbidden('currentPassword is wrong; your password was not changed');
    }
    const updated = await identity.updateUser(p.name, { password: input.password });
    auditChange(request, access, { action: 'password.change', target: p.name });
    return userView(updated, identity.groupsOf(p.name));
  });

  // ---------------------------------------------------------------------------------- users

  const viewUser = (u: UserRecord) => userView(u, identity.groupsOf(u.name));

  app.get('/users', async (request) => {
    requireAdmin(request, 'list users');
    return { users: identity.listUsers().map(viewUser) };
  });

  app.get<Named>('/users/:name', async (request) => {
    requireAdmin(request, 'read users');
    return viewUser(existing(identity.user(request.params.name), `user ${request.params.name}`));
  });

  app.post('/users', async (request, reply) => {
    requireAdmin(request, 'create users');
    const created = await identity.createUser(request.body);
    auditChange(request, access, {
      action: 'user.create',
      target: created.name,
      detail: { admin: created.admin, robot: created.passwordHash === null },
    });
    reply.code(201).header('Location', `/api/v1/users/${created.name}`);
    return viewUser(identity.user(created.name) ?? created);
  });

  app.patch<Named>('/users/:name', async (request) => {
    requireAdmin(request, 'change users');
    const updated = await identity.updateUser(request.params.name, request.body);
    auditChange(request, access, {
      action: 'user.update',
      target: updated.name,
      detail: { fields: Object.keys(request.body as object) },
    });
    return viewUser(updated);
  });

  deleteRoute('/users/:name', 'users', 'user.delete', async (name) => {
    await identity.deleteUser(name);
    access.apiTokens.dropOwner(name);
  });

  // --------------------------------------------------------------------------------- groups

  app.get('/groups', async (request) => {
    requireSignedIn(request);
    return { groups: identity.listGroups().map(groupView) };
  });

  app.get<Named>('/groups/:name', async (request) => {
    requireSignedIn(request);
    return groupView(existing(identity.group(request.params.name), `group ${request.params.name}`));
  });

  app.post('/groups', async (request, reply) => {
    requireAdmin(request, 'create groups');
    const created = await identity.createGroup(request.body);
    auditChange(request, access, {
      action: 'group.create',
      target: created.name,
      detail: { members: created.members },
    });
    reply.code(201).header('Location', `/api/v1/groups/${created.name}`);
    return groupView(created);
  });

  app.patch<Named>('/groups/:name', async (request) => {
    requireAdmin(request, 'change groups');
    const updated = await identity.updateGroup(request.params.name, request.body);
    auditChange(request, access, {
      action: 'group.update',
      target: updated.name,
      detail: { fields: Object.keys(request.body as object), members: updated.members },
    });
    return groupView(updated);
  });

  deleteRoute('/groups/:name', 'groups', 'group.delete', (name) => identity.deleteGroup(name));

  // ----------------------------------------------------------------------- permission targets

  app.get('/permissions', async (request) => {
    requireSignedIn(request);
    return { permissions: identity.listTargets().map(targetView) };
  });

  app.get<Named>('/permissions/:name', async (request) => {
    requireSignedIn(request);
    return targetView(
      existing(identity.target(request.params.name), `permission target ${request.params.name}`),
    );
  });

  app.post('/permissions', async (request, reply) => {
    requireAdmin(request, 'create permission targets');
    const created = await identity.createTarget(request.body);
    auditChange(request, access, {
      action: 'permission.create',
      target: created.name,
      detail: grantDetail(created),
    });
    reply.code(201).header('Location', `/api/v1/permissions/${created.name}`);
    return targetView(created);
  });

  app.put<Named>('/permissions/:name', async (request) => {
    requireAdmin(request, 'change permission targets');
    const replaced = await identity.replaceTarget(request.params.name, request.body);
    auditChange(request, access, {
      action: 'permission.update',
      target: replaced.name,
      detail: grantDetail(replaced),
    });
    return targetView(replaced);
  });

  deleteRoute('/permissions/:name', 'permission targets', 'permission.delete', (name) =>
    identity.deleteTarget(name),
  );
}

/** The record, or 404 `<what> does not exist`. */
function existing<T>(record: T | undefined, what: string): T {
  if (!record) throw notFound(`${what} does not exist`);
  return record;
}

/** A user as the API shows it: never the password hash. */
export function userView(u: UserRecord, groups: readonly string[]) {
  return {
    name: u.name,
    email: u.email,
    admin: u.admin,
    disabled: u.disabled,
    robot: u.passwordHash === null,
    groups,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

function groupView(g: GroupRecord) {
  return { name: g.name, description: g.description, members: g.members, createdAt: g.createdAt };
}

function targetView(t: PermissionTargetRecord) {
  return {
    name: t.name,
    description: t.description,
    repositories: t.repositories,
    images: t.images,
    users: t.grants.users,
    groups: t.grants.groups,
    anonymous: t.grants.anonymous,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** What a target grants after a change, for the audit log. */
function grantDetail(t: PermissionTargetRecord): Record<string, unknown> {
  return { repositories: t.repositories, images: t.images, ...t.grants };
}
