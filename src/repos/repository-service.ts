import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { MetaConflictError } from '../meta/metadata-store.ts';
import type { RepositoryKind, RepositoryRecord } from '../meta/records.ts';
import type { AddressPolicy } from '../net/address-policy.ts';
import { OciError } from '../oci/errors.ts';
import { isRepositoryKey } from '../oci/names.ts';
import { checkLocalSettings } from '../promote/repository-policy.ts';
import { SecretBox } from '../secrets/secret-box.ts';
import { checkRemoteSettings, keepStoredPassword } from './remote/remote-settings.ts';
import { checkVirtualSettings, membersOf, repositoriesBehind } from './virtual-settings.ts';

/**
 * The default pipeline, created at first start (when the instance has no repositories at all),
 * locals in pipeline order, a cache of Docker Hub, then the virtual repositories over them:
 * `docker`, where clients push (into development) and pull from every stage and Docker Hub,
 * and `docker-prod`, production only. Staging and production take content only by promotion
 * (`writes: 'promotion-only'`), so nobody can push around their gates.
 */
export const DEFAULT_REPOSITORIES: readonly NewRepository[] = [
  { key: 'docker-dev-local', kind: 'local', description: 'Development: CI pushes here' },
  {
    key: 'docker-staging-local',
    kind: 'local',
    description: 'Staging: images promoted from development once QA passed them',
    settings: {
      writes: 'promotion-only',
      tags: { floating: true },
      gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }],
    },
  },
  {
    key: 'docker-prod-local',
    kind: 'local',
    description: 'Production: images promoted from staging, approved by a release manager, built by CI',
    settings: {
      writes: 'promotion-only',
      tags: { floating: true },
      gates: [
        { type: 'promotedFrom', repository: 'docker-staging-local' },
        { type: 'approval', group: 'release-managers' },
        { type: 'build' },
      ],
    },
  },
  {
    key: 'docker-hub-remote',
    kind: 'remote',
    description: 'Docker Hub, cached',
    settings: { url: 'https://registry-1.docker.io', pathPrefix: 'library/' },
  },
  {
    key: 'docker',
    kind: 'virtual',
    description: 'Every stage and Docker Hub at one address; pushes land in development',
    settings: {
      members: ['docker-dev-local', 'docker-staging-local', 'docker-prod-local', 'docker-hub-remote'],
      deploymentRepository: 'docker-dev-local',
    },
  },
  {
    key: 'docker-prod',
    kind: 'virtual',
    description: 'The read-only production registry for customers',
    settings: { members: ['docker-prod-local'] },
  },
];

const KINDS: readonly RepositoryKind[] = ['local', 'remote', 'virtual'];
/** Kinds that can be created. */
const AVAILABLE_KINDS: readonly RepositoryKind[] = ['local', 'virtual', 'remote'];

export interface NewRepository {
  key: string;
  kind?: string;
  description?: string;
  settings?: Record<string, unknown>;
}

/** Where an OCI name lands: which repository, and the image name inside it. */
export interface ResolvedName {
  repository: RepositoryRecord;
  image: string;
}

/**
 * Whether the caller may read a member repository of a virtual one (with the image name), from
 * the one access policy. A virtual repository is an address, never a grant: what a member the
 * caller cannot read holds is skipped, as if it were absent.
 */
export type MemberCheck = (member: ResolvedName) => boolean;

/**
 * Repositories and the mapping from OCI names to them. The set of repositories is small and
 * read on every request, so it is kept in memory and refreshed on every change made here.
 * In memory a remote's upstream password is plaintext; in the metadata store it is encrypted.
 */
export class RepositoryService {
  private byKey = new Map<string, RepositoryRecord>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly options: {
      defaultRepository: string;
      /** Upstream URLs of remote repositories must pass it when saved (and at every connect). */
      addresses: AddressPolicy;
      /** Encrypts upstream passwords at rest. */
      secrets: SecretBox;
    },
  ) {}

  /** Rejects with SecretKeyMismatch when a stored password was encrypted under another key. */
  async init(): Promise<void> {
    await this.refresh();
    // Passwords stored in clear by an instance before encryption existed are encrypted now.
    for (const row of await this.meta.repositories.list()) {
      const password = row.settings.password;
      if (row.kind !== 'remote' || typeof password !== 'string' || SecretBox.isSealed(password)) continue;
      await this.meta.repositories.update(row.key, {
        description: row.description,
        settings: this.stored(row).settings,
      });
    }
    if (this.byKey.size > 0) return;
    for (const repo of DEFAULT_REPOSITORIES) await this.create(repo);
  }

  list(): RepositoryRecord[] {
    return [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get(key: string): RepositoryRecord | undefined {
    return this.byKey.get(key);
  }

  async create(input: NewRepository): Promise<RepositoryRecord> {
    const kind = (input.kind ?? 'local') as RepositoryKind;
    if (typeof input.key !== 'string' || !isRepositoryKey(input.key)) {
      throw badRequest(
        `repository key ${JSON.stringify(input.key)} is invalid: use 1-64 lowercase letters and digits, separated by single . _ or -`,
      );
    }
    if (!KINDS.includes(kind))
      throw badRequest(`kind must be one of ${KINDS.join(', ')}; got ${JSON.stringify(input.kind)}`);
    if (!AVAILABLE_KINDS.includes(kind)) {
      throw badRequest(
        `${kind} repositories are not available yet; ${AVAILABLE_KINDS.join(' and ')} repositories can be created`,
      );
    }
    const record: RepositoryRecord = {
      key: input.key,
      kind,
      description: input.description ?? '',
      settings: this.checkSettings(input.key, kind, input.settings ?? {}),
      createdAt: new Date().toISOString(),
    };
    try {
      await this.meta.repositories.create(this.stored(record));
    } catch (e) {
      if (e instanceof MetaConflictError) throw conflict(`repository ${input.key} exists already`);
      throw e;
    }
    this.byKey.set(record.key, record);
    return record;
  }

  /** Replaces description and/or settings; settings are checked as on create. */
  async update(
    key: string,
    changes: { description?: string; settings?: Record<string, unknown> },
  ): Promise<RepositoryRecord> {
    const current = this.byKey.get(key);
    if (!current) throw notFound(`repository ${key} does not exist`);
    const sent =
      changes.settings && current.kind === 'remote'
        ? keepStoredPassword(current.settings, changes.settings)
        : changes.settings;
    const settings = sent && this.checkSettings(key, current.kind, sent);
    const next: RepositoryRecord = {
      ...current,
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(settings ? { settings } : {}),
    };
    await this.meta.repositories.update(key, {
      description: next.description,
      settings: this.stored(next).settings,
    });
    this.byKey.set(key, next);
    return next;
  }

  /** Refused while a virtual repository lists it: deleting it would silently change what that one serves. */
  async delete(key: string): Promise<void> {
    const users = this.list().filter((r) => r.kind === 'virtual' && membersOf(r).includes(key));
    if (users.length > 0) {
      const names = users.map((r) => r.key).join(', ');
      throw conflict(
        `repository ${key} is a member of the virtual ${users.length > 1 ? 'repositories' : 'repository'} ${names}; remove it from the members first`,
      );
    }
    if (!(await this.meta.repositories.delete(key))) throw notFound(`repository ${key} does not exist`);
    this.byKey.delete(key);
  }

  /**
   * The local and remote repositories a read of `name` looks in, in order, each with the same
   * image: the repository itself, or the members of a virtual one depth-first, keeping only those
   * `readable` accepts. A repository addressed directly is returned as is: the caller's right on
   * it is checked where the request is authorised, before anything is looked up.
   */
  readTargets(name: ResolvedName, readable?: MemberCheck): ResolvedName[] {
    if (name.repository.kind !== 'virtual') return [name];
    const targets = repositoriesBehind(name.repository, (k) => this.byKey.get(k)).map((repository) => ({
      repository,
      image: name.image,
    }));
    return readable ? targets.filter(readable) : targets;
  }

  /** Where writes to `name` go: a local repository itself, a virtual one's deployment repository. DENIED otherwise. */
  writeTarget(name: ResolvedName): ResolvedName {
    const repo = name.repository;
    if (repo.kind === 'local') return name;
    const deployment = repo.kind === 'virtual' ? repo.settings.deploymentRepository : undefined;
    const target = typeof deployment === 'string' ? this.byKey.get(deployment) : undefined;
    if (target?.kind === 'local') return { repository: target, image: name.image };
    // Suggest where the same image can go: the virtual's local members, else every repository that takes pushes.
    const members = this.readTargets(name).filter((t) => t.repository.kind === 'local');
    const takers = this.list().filter(
      (r) =>
        r.kind === 'local' || (r.kind === 'virtual' && typeof r.settings.deploymentRepository === 'string'),
    );
    const where = (members.length > 0 ? members.map((t) => t.repository) : takers).map((r) => r.key);
    const why =
      repo.kind === 'virtual' ? ' (it has no deployment repository)' : ' (it caches another registry)';
    throw new OciError(
      'DENIED',
      `${repo.kind} repository ${repo.key} does not accept pushes${why}; push to ${where.length > 0 ? `one of ${where.join(', ')}` : 'a local repository'}`,
    );
  }

  private checkSettings(
    key: string,
    kind: RepositoryKind,
    raw: Record<string, unknown>,
  ): Record<string, unknown> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw badRequest('settings must be an object');
    const { settings, problems } =
      kind === 'local'
        ? checkLocalSettings(raw)
        : kind === 'remote'
          ? checkRemoteSettings(raw)
          : checkVirtualSettings(key, raw, (k) => this.byKey.get(k));
    const url = kind === 'remote' ? (settings as { url?: unknown }).url : undefined;
    if (typeof url === 'string' && URL.canParse(url)) {
      const host = new URL(url).hostname;
      const verdict = this.options.addresses.checkHost(host);
      if (verdict && !verdict.allowed) {
        problems.push(
          `settings.url points at ${host}, in a range Gantry does not connect to (${verdict.rule.label}); an administrator can allow it with the server setting upstreamAllow (GANTRY_UPSTREAM_ALLOW)`,
        );
      }
    }
    if (problems.length > 0)
      throw badRequest(`invalid settings for ${key}: ${problems.join('; ')}`, { problems });
    return { ...settings };
  }

  /** The record as written to the metadata store: a remote's password encrypted. */
  private stored(record: RepositoryRecord): RepositoryRecord {
    const password = record.settings.password;
    if (record.kind !== 'remote' || typeof password !== 'string' || SecretBox.isSealed(password))
      return record;
    return { ...record, settings: { ...record.settings, password: this.options.secrets.seal(password) } };
  }

  /** The record as kept in memory: a remote's password readable. */
  private loaded(record: RepositoryRecord): RepositoryRecord {
    const password = record.settings.password;
    if (record.kind !== 'remote' || typeof password !== 'string') return record;
    const plain = this.options.secrets.open(
      password,
      `the upstream password of remote repository ${record.key}`,
    );
    return { ...record, settings: { ...record.settings, password: plain } };
  }

  /** A name addressed to one repository by the host or port method: all of it is the image. */
  resolveWithin(key: string, name: string): ResolvedName {
    const repository = this.byKey.get(key);
    if (!repository) {
      throw new OciError(
        'NAME_UNKNOWN',
        `this host or port is mapped to repository ${key}, which does not exist`,
      );
    }
    return { repository, image: name };
  }

  /**
   * Maps a validated OCI name to a repository: its first segment when that is a repository
   * key, else the default repository holding the whole name. NAME_UNKNOWN when neither applies.
   */
  resolveName(name: string): ResolvedName {
    const slash = name.indexOf('/');
    const first = slash < 0 ? name : name.slice(0, slash);
    const named = this.byKey.get(first);
    if (named) {
      if (slash < 0) {
        throw new OciError(
          'NAME_INVALID',
          `${name} is a repository; name an image inside it, like ${name}/team/app`,
        );
      }
      return { repository: named, image: name.slice(slash + 1) };
    }
    const fallback = this.options.defaultRepository
      ? this.byKey.get(this.options.defaultRepository)
      : undefined;
    if (fallback) return { repository: fallback, image: name };
    const keys = this.list().map((r) => r.key);
    throw new OciError(
      'NAME_UNKNOWN',
      `no repository ${first}; the first part of a name must be one of: ${keys.join(', ') || '(none yet)'}`,
      { repositories: keys },
    );
  }

  private async refresh(): Promise<void> {
    this.byKey = new Map((await this.meta.repositories.list()).map((r) => [r.key, this.loaded(r)]));
  }
}
