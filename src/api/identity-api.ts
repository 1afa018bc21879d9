import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthenticationError } from '../auth/authenticator.ts';
import { objectBody } from '../auth/identity-input.ts';
import type { ApiAccess } from '../auth/open-access.ts';
import { badRequest, forbidden, notFound, tooManyRequests } from '../domain/errors.ts';
import type { GroupRecord, PermissionTargetRecord, UserRecord } from '../meta/identity-records.ts';
import { auditChange, requireAdmin, requireSignedIn } from './api-auth.ts';
import { ActionName, field, looseBody, NoContent, Timestamp } from './api-schema.ts';

type Named = { Params: { name: string } };

const Name = z.object({ name: z.string() });
const User = z.object({
  name: z.string(),
  email: z.string(),
  admin: z.boolean(),
  disabled: z.boolean(),
  robot: z.boolean().describe('an account without a password, for API tokens only'),
  groups: z.array(z.string()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const Group = z.object({
  name: z.string(),
  description: z.string(),
  members: z.array(z.string()),
  createdAt: Timestamp,
});
const Patterns = z.object({ include: z.array(z.string()), exclude: z.array(z.string()) });
const ByName = z.record(z.string(), z.array(ActionName));
const Target = z.object({
  name: z.string(),
  description: z.string(),
  repositories: Patterns,
  images: Patterns,
  users: ByName,
  groups: ByName,
  anonymous: z.array(ActionName),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const PatternsInput = z
  .union(
    [
      z.array(z.string()),
      z.object({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }),
    ],
    {
      error: 'must be a list of patterns or {"include": [...], "exclude": [...]}',
    },
  )
  .describe('["docker-*"] or {"include": [...], "exclude": [...]}');
/** Names, patterns and actions are checked by IdentityService, which says which one is wrong. */
const TargetBody = looseBody(
  '{"name": "release", "repositories": ["docker-prod-local"], "groups": {"release-managers": ["promote"]}}',
  {
    name: z.string().optional().describe('on PUT, the name in the path'),
    description: field.string('description').optional(),
    repositories: PatternsInput.optional(),
    images: PatternsInput.optional(),
    users: z.record(z.string(), z.array(z.string())).optional().describe('{"alice": ["read", "deploy"]}'),
    groups: z.record(z.string(), z.array(z.string())).optional().describe('{"developers": ["read"]}'),
    anonymous: z.array(z.string()).optional(),
  },
);
const USERS = ['users'];
const GROUPS = ['groups'];
const PERMISSIONS = ['permissions'];

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
    app.delete<Named>(
      path,
      {
        schema: {
          summary: `Delete ${what.replace(/s$/, '')}`,
          tags: [what.startsWith('permission') ? 'permissions' : what],
          params: Name,
          response: { 204: NoContent },
        },
      },
      async (request, reply) => {
        requireAdmin(request, `delete ${what}`);
        await remove(request.params.name);
        auditChange(request, access, { action, target: request.params.name });
        reply.code(204).send();
      },
    );

  // ------------------------------------------------------------------------------------- me

  const meSchema = {
    summary: 'Who the caller is (with the CSRF token, for a web UI session)',
    tags: USERS,
    response: {
      200: z.object({
        name: z.string(),
        authenticated: z.boolean(),
        admin: z.boolean(),
        groups: z.array(z.string()),
        via: z.string().describe('how the caller authenticated'),
        token: z
          .object({
            id: z.string(),
            name: z.string(),
            targets: z.array(z.string()).nullable(),
            actions: z.array(ActionName).nullable(),
          })
          .optional(),
        csrfToken: z.string().optional(),
      }),
    },
  };
  app.get('/me', { schema: meSchema }, async (request) => {
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

  const passwordSchema = {
    summary: 'Change your own password',
    tags: USERS,
    // Loose: the handler says that only the password can be changed here.
    body: looseBody('{"currentPassword": "…", "password": "…"}', {
      currentPassword: z.string().optional(),
      password: z.string().optional(),
    }),
    response: { 200: User },
  };
  app.patch('/me', { schema: passwordSchema }, async (request) => {
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

  const usersSchema = {
    summary: 'Users (administrators)',
    tags: USERS,
    response: { 200: z.object({ users: z.array(User) }) },
  };
  app.get('/users', { schema: usersSchema }, async (request) => {
    requireAdmin(request, 'list users');
    return { users: identity.listUsers().map(viewUser) };
  });

  const userSchema = {
    summary: 'A user (administrators)',
    tags: USERS,
    params: Name,
    response: { 200: User },
  };
  app.get<Named>('/users/:name', { schema: userSchema }, async (request) => {
    requireAdmin(request, 'read users');
    return viewUser(existing(identity.user(request.params.name), `user ${request.params.name}`));
  });

  const createUserSchema = {
    summary: 'Create a user, or a robot account without a password (administrators)',
    tags: USERS,
    body: looseBody('{"name": "alice", "password": "…", "email": "alice@example.com"}', {
      name: z.string().optional(),
      password: z.string().optional().describe('not for robot accounts'),
      email: field.string('email').optional(),
      admin: field.boolean('admin').optional(),
      robot: field.boolean('robot').optional(),
    }),
    response: { 201: User },
  };
  app.post('/users', { schema: createUserSchema }, async (request, reply) => {
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

  const updateUserSchema = {
    summary: 'Change a user (administrators)',
    tags: USERS,
    params: Name,
    body: looseBody('{"email": "…", "password": "…", "admin": false, "disabled": false}', {
      email: field.string('email').optional(),
      password: z.string().optional(),
      admin: field.boolean('admin').optional(),
      disabled: field.boolean('disabled').optional(),
    }),
    response: { 200: User },
  };
  app.patch<Named>('/users/:name', { schema: updateUserSchema }, async (request) => {
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

  const groupsSchema = {
    summary: 'Groups',
    tags: GROUPS,
    response: { 200: z.object({ groups: z.array(Group) }) },
  };
  app.get('/groups', { schema: groupsSchema }, async (request) => {
    requireSignedIn(request);
    return { groups: identity.listGroups().map(groupView) };
  });

  const groupSchema = { summary: 'A group', tags: GROUPS, params: Name, response: { 200: Group } };
  app.get<Named>('/groups/:name', { schema: groupSchema }, async (request) => {
    requireSignedIn(request);
    return groupView(existing(identity.group(request.params.name), `group ${request.params.name}`));
  });

  const createGroupSchema = {
    summary: 'Create a group (administrators)',
    tags: GROUPS,
    body: looseBody('{"name": "developers", "members": ["alice"]}', {
      name: z.string().optional(),
      description: field.string('description').optional(),
      members: field.strings('members').optional(),
    }),
    response: { 201: Group },
  };
  app.post('/groups', { schema: createGroupSchema }, async (request, reply) => {
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

  const updateGroupSchema = {
    summary: 'Change a group (administrators)',
    tags: GROUPS,
    params: Name,
    body: looseBody('{"description": "…", "members": ["alice", "bob"]}', {
      description: field.string('description').optional(),
      members: field.strings('members').optional(),
    }),
    response: { 200: Group },
  };
  app.patch<Named>('/groups/:name', { schema: updateGroupSchema }, async (request) => {
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

  const targetsSchema = {
    summary: 'Permission targets',
    tags: PERMISSIONS,
    response: { 200: z.object({ permissions: z.array(Target) }) },
  };
  app.get('/permissions', { schema: targetsSchema }, async (request) => {
    requireSignedIn(request);
    return { permissions: identity.listTargets().map(targetView) };
  });

  const targetSchema = {
    summary: 'A permission target',
    tags: PERMISSIONS,
    params: Name,
    response: { 200: Target },
  };
  app.get<Named>('/permissions/:name', { schema: targetSchema }, async (request) => {
    requireSignedIn(request);
    return targetView(
      existing(identity.target(request.params.name), `permission target ${request.params.name}`),
    );
  });

  const createTargetSchema = {
    summary: 'Create a permission target (administrators)',
    tags: PERMISSIONS,
    body: TargetBody,
    response: { 201: Target },
  };
  app.post('/permissions', { schema: createTargetSchema }, async (request, reply) => {
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

  const replaceTargetSchema = {
    summary: 'Replace a permission target (administrators)',
    tags: PERMISSIONS,
    params: Name,
    body: TargetBody,
    response: { 200: Target },
  };
  app.put<Named>('/permissions/:name', { schema: replaceTargetSchema }, async (request) => {
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
