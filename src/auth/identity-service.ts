import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../config/logger.ts';
import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { GroupRecord, PermissionTargetRecord, UserRecord } from '../meta/identity-records.ts';
import { UnknownPrincipalError } from '../meta/identity-store.ts';
import { MetaConflictError, type MetadataStore } from '../meta/metadata-store.ts';
import { AccessPolicy } from './access-policy.ts';
import { DEFAULT_GROUPS, DEFAULT_TARGETS } from './default-permissions.ts';
import {
  checkPrincipalName,
  grants,
  objectBody,
  optionalBoolean,
  optionalString,
  patternSet,
  stringList,
} from './identity-input.ts';
import { hashPassword, passwordProblem } from './passwords.ts';

export interface UserChanges {
  email?: string;
  password?: string | null;
  admin?: boolean;
  disabled?: boolean;
}

/**
 * Users, groups and permission targets. The sets are small and read on every request, so they
 * live in memory (with the AccessPolicy built from them) and are refreshed after every change
 * made here. Validation problems are 400 problems with a message a person can act on.
 */
export class IdentityService {
  private users = new Map<string, UserRecord>();
  private groups = new Map<string, GroupRecord>();
  private memberOf = new Map<string, string[]>();
  private targets: PermissionTargetRecord[] = [];
  policy = new AccessPolicy([]);
  /** Grows with every refresh: lets caches of derived values (principals) notice changes. */
  version = 0;

  constructor(
    private readonly meta: MetadataStore,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Loads everything; on an instance without users, creates `admin` (password from
   * `adminPassword`, else random and printed once to the log) and the default groups and
   * permission targets of the default pipeline.
   */
  async init(options: { adminPassword?: string | undefined }): Promise<void> {
    if ((await this.meta.users.count()) === 0) await this.bootstrap(options.adminPassword);
    await this.refresh();
  }

  user(name: string): UserRecord | undefined {
    return this.users.get(name);
  }

  /**
   * The user of a name, only while it is still the user with this id: what was issued to a
   * deleted user never passes for a new one of the same name.
   */
  userWithId(name: string, id: string | undefined): UserRecord | undefined {
    const user = this.users.get(name);
    return user !== undefined && id !== undefined && user.id === id ? user : undefined;
  }

  listUsers(): UserRecord[] {
    return [...this.users.values()];
  }

  groupsOf(user: string): readonly string[] {
    return this.memberOf.get(user) ?? [];
  }

  group(name: string): GroupRecord | undefined {
    return this.groups.get(name);
  }

  listGroups(): GroupRecord[] {
    return [...this.groups.values()];
  }

  target(name: string): PermissionTargetRecord | undefined {
    return this.targets.find((t) => t.name === name);
  }

  listTargets(): PermissionTargetRecord[] {
    return this.targets;
  }

  // ------------------------------------------------------------------------------------ users

  async createUser(body: unknown): Promise<UserRecord> {
    const input = objectBody(body, '{"name": "alice", "password": "…", "email": "alice@example.com"}');
    const name = checkPrincipalName('user', input.name);
    const robot = optionalBoolean(input, 'robot') ?? false;
    const password = input.password;
    if (robot && password !== undefined)
      throw badRequest('robot accounts have no password; they use API tokens');
    if (!robot) {
      const problem = passwordProblem(password);
      if (problem) throw badRequest(`${problem} (or create a robot account with "robot": true)`);
    }
    const at = this.now().toISOString();
    const record: UserRecord = {
      id: randomUUID(),
      name,
      email: optionalString(input, 'email') ?? '',
      passwordHash: robot ? null : await hashPassword(password as string),
      admin: optionalBoolean(input, 'admin') ?? false,
      disabled: false,
      generation: 0,
      createdAt: at,
      updatedAt: at,
    };
    await this.write(() => this.meta.users.create(record), `user ${name} exists already`);
    const groups = input.groups === undefined ? [] : stringList(input.groups, 'groups');
    for (const g of groups) await this.addMember(g, name);
    await this.refresh();
    return record;
  }

  async updateUser(name: string, body: unknown): Promise<UserRecord> {
    const current = this.users.get(name);
    if (!current) throw notFound(`user ${name} does not exist`);
    const input = objectBody(body, '{"email": "…", "password": "…", "admin": false, "disabled": false}');
    const changes: Parameters<MetadataStore['users']['update']>[1] = { updatedAt: this.now().toISOString() };
    const email = optionalString(input, 'email');
    if (email !== undefined) changes.email = email;
    const admin = optionalBoolean(input, 'admin');
    if (admin !== undefined) changes.admin = admin;
    const disabled = optionalBoolean(input, 'disabled');
    if (disabled !== undefined) changes.disabled = disabled;
    let credentialsChanged = disabled === true && !current.disabled;
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw badRequest(problem);
      changes.passwordHash = await hashPassword(input.password as string);
      credentialsChanged = true;
    }
    if (credentialsChanged) changes.generation = current.generation + 1;
    if (admin === false || disabled === true) this.keepAnAdmin(name);
    await this.meta.users.update(name, changes);
    if (input.groups !== undefined) await this.setGroupsOf(name, stringList(input.groups, 'groups'));
    await this.refresh();
    return this.users.get(name) as UserRecord;
  }

  async deleteUser(name: string): Promise<void> {
    if (!this.users.has(name)) throw notFound(`user ${name} does not exist`);
    this.keepAnAdmin(name);
    await this.meta.users.delete(name);
    await this.refresh();
  }

  // ----------------------------------------------------------------------------------- groups

  async createGroup(body: unknown): Promise<GroupRecord> {
    const input = objectBody(body, '{"name": "developers", "members": ["alice"]}');
    const record: GroupRecord = {
      name: checkPrincipalName('group', input.name),
      description: optionalString(input, 'description') ?? '',
      members: input.members === undefined ? [] : stringList(input.members, 'members'),
      createdAt: this.now().toISOString(),
    };
    await this.write(() => this.meta.groups.create(record), `group ${record.name} exists already`);
    await this.refresh();
    return this.groups.get(record.name) as GroupRecord;
  }

  async updateGroup(name: string, body: unknown): Promise<GroupRecord> {
    if (!this.groups.has(name)) throw notFound(`group ${name} does not exist`);
    const input = objectBody(body, '{"description": "…", "members": ["alice", "bob"]}');
    const description = optionalString(input, 'description');
    const members = input.members === undefined ? undefined : stringList(input.members, 'members');
    await this.write(
      () =>
        this.meta.groups.update(name, {
          ...(description === undefined ? {} : { description }),
          ...(members === undefined ? {} : { members }),
        }),
      '',
    );
    await this.refresh();
    return this.groups.get(name) as GroupRecord;
  }

  async deleteGroup(name: string): Promise<void> {
    if (!(await this.meta.groups.delete(name))) throw notFound(`group ${name} does not exist`);
    await this.refresh();
  }

  // ------------------------------------------------------------------------ permission targets

  async createTarget(body: unknown): Promise<PermissionTargetRecord> {
    const record = this.parseTarget(body, undefined);
    await this.write(
      () => this.meta.permissions.create(record),
      `permission target ${record.name} exists already`,
    );
    await this.refresh();
    return this.target(record.name) as PermissionTargetRecord;
  }

  async replaceTarget(name: string, body: unknown): Promise<PermissionTargetRecord> {
    const current = this.target(name);
    if (!current) throw notFound(`permission target ${name} does not exist`);
    const record = this.parseTarget({ ...objectBody(body, '{"repositories": [...]}'), name }, current);
    await this.write(() => this.meta.permissions.replace(record), '');
    await this.refresh();
    return this.target(name) as PermissionTargetRecord;
  }

  async deleteTarget(name: string): Promise<void> {
    if (!(await this.meta.permissions.delete(name)))
      throw notFound(`permission target ${name} does not exist`);
    await this.refresh();
  }

  private parseTarget(body: unknown, current: PermissionTargetRecord | undefined): PermissionTargetRecord {
    const input = objectBody(
      body,
      '{"name": "release", "repositories": ["docker-prod-local"], "groups": {"release-managers": ["promote"]}}',
    );
    const at = this.now().toISOString();
    return {
      name: checkPrincipalName('permission target', input.name),
      description: optionalString(input, 'description') ?? current?.description ?? '',
      repositories: patternSet(input.repositories, 'repositories', current?.repositories),
      images: patternSet(input.images, 'images', current?.images ?? { include: ['**'], exclude: [] }),
      grants: grants(input),
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
    };
  }

  // ---------------------------------------------------------------------------------- helpers

  /** Refuses to remove, demote or disable the last enabled administrator. */
  private keepAnAdmin(leaving: string): void {
    const others = this.listUsers().filter((u) => u.admin && !u.disabled && u.name !== leaving);
    if (this.users.get(leaving)?.admin && others.length === 0) {
      throw conflict(
        `${leaving} is the last enabled administrator; make another user an administrator first`,
      );
    }
  }

  private async addMember(group: string, user: string): Promise<void> {
    const g = this.groups.get(group);
    if (!g) throw badRequest(`group ${group} does not exist`);
    await this.meta.groups.update(group, { members: [...g.members, user] });
  }

  private async setGroupsOf(user: string, groups: string[]): Promise<void> {
    const unknown = groups.filter((g) => !this.groups.has(g));
    if (unknown.length > 0) throw badRequest(`no such groups: ${unknown.join(', ')}`);
    for (const g of this.groups.values()) {
      const has = g.members.includes(user);
      const wants = groups.includes(g.name);
      if (has === wants) continue;
      const members = wants ? [...g.members, user] : g.members.filter((m) => m !== user);
      await this.meta.groups.update(g.name, { members });
    }
  }

  /** Runs a store write, turning conflicts and unknown principals into 4xx problems. */
  private async write<T>(run: () => Promise<T>, conflictMessage: string): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof MetaConflictError) throw conflict(conflictMessage || e.message);
      if (e instanceof UnknownPrincipalError) throw badRequest(`${e.kind} ${e.principal} does not exist`);
      throw e;
    }
  }

  private async bootstrap(adminPassword: string | undefined): Promise<void> {
    const password = adminPassword || randomBytes(18).toString('base64url');
    const at = this.now().toISOString();
    await this.meta.users.create({
      id: randomUUID(),
      name: 'admin',
      email: '',
      passwordHash: await hashPassword(password),
      admin: true,
      disabled: false,
      generation: 0,
      createdAt: at,
      updatedAt: at,
    });
    if (adminPassword)
      this.log.warn({ user: 'admin' }, 'created the administrator with GANTRY_ADMIN_PASSWORD');
    else
      this.log.warn(
        { user: 'admin', password },
        'created the administrator with this random password; it is shown only now: sign in and change it',
      );
    for (const g of DEFAULT_GROUPS) await this.meta.groups.create({ ...g, members: [], createdAt: at });
    for (const t of DEFAULT_TARGETS)
      await this.meta.permissions.create({ ...t, createdAt: at, updatedAt: at });
  }

  async refresh(): Promise<void> {
    const [users, groups, targets] = await Promise.all([
      this.meta.users.list(),
      this.meta.groups.list(),
      this.meta.permissions.list(),
    ]);
    this.users = new Map(users.map((u) => [u.name, u]));
    this.groups = new Map(groups.map((g) => [g.name, g]));
    const memberOf = new Map<string, string[]>();
    for (const g of groups) for (const m of g.members) memberOf.set(m, [...(memberOf.get(m) ?? []), g.name]);
    this.memberOf = memberOf;
    this.targets = targets;
    this.policy = new AccessPolicy(targets);
    this.version++;
  }
}
