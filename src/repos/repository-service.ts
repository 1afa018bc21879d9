import { badRequest, conflict, notFound } from '../api/problem.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { MetaConflictError } from '../meta/metadata-store.ts';
import type { RepositoryKind, RepositoryRecord } from '../meta/records.ts';
import { OciError } from '../oci/errors.ts';
import { isRepositoryKey } from '../oci/names.ts';

/** Created at first start (when the instance has no repositories at all), in pipeline order. */
export const DEFAULT_REPOSITORIES: readonly { key: string; description: string }[] = [
  { key: 'docker-dev-local', description: 'Development: CI pushes here' },
  { key: 'docker-staging-local', description: 'Staging: images promoted from development' },
  { key: 'docker-prod-local', description: 'Production: images promoted from staging' },
];

const KINDS: readonly RepositoryKind[] = ['local', 'remote', 'virtual'];
/** Kinds whose behaviour exists today; the model already has room for the others. */
const AVAILABLE_KINDS: readonly RepositoryKind[] = ['local'];

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
 * Repositories and the mapping from OCI names to them. The set of repositories is small and
 * read on every request, so it is kept in memory and refreshed on every change made here.
 */
export class RepositoryService {
  private byKey = new Map<string, RepositoryRecord>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly options: { defaultRepository: string },
  ) {}

  async init(): Promise<void> {
    await this.refresh();
    if (this.byKey.size > 0) return;
    for (const repo of DEFAULT_REPOSITORIES) {
      await this.create({ key: repo.key, kind: 'local', description: repo.description });
    }
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
      throw badRequest(`${kind} repositories are not available yet; only local repositories can be created`);
    }
    const record: RepositoryRecord = {
      key: input.key,
      kind,
      description: input.description ?? '',
      settings: input.settings ?? {},
      createdAt: new Date().toISOString(),
    };
    try {
      await this.meta.repositories.create(record);
    } catch (e) {
      if (e instanceof MetaConflictError) throw conflict(`repository ${input.key} exists already`);
      throw e;
    }
    this.byKey.set(record.key, record);
    return record;
  }

  async delete(key: string): Promise<void> {
    if (!(await this.meta.repositories.delete(key))) throw notFound(`repository ${key} does not exist`);
    this.byKey.delete(key);
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
    this.byKey = new Map((await this.meta.repositories.list()).map((r) => [r.key, r]));
  }
}
