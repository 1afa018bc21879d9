import { isDeepStrictEqual } from 'node:util';
import type { AccessPolicy } from '../auth/access-policy.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../domain/errors.ts';
import { MetaConflictError, type MetadataStore } from '../meta/metadata-store.ts';
import type { BuildArtifact, BuildDependency, BuildRecord } from '../meta/promotion-records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import type { RepositoryService } from '../repos/repository-service.ts';
import { PROPERTY_KEY } from './properties-service.ts';
import { tagsOf } from './search-service.ts';

export const BUILD_NAME = /^[A-Za-z0-9._-]{1,128}$/;
export const BUILD_NUMBER = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_TEXT = 2048;
const MAX_ARTIFACTS = 1000;
const MAX_DEPENDENCIES = 10_000;
const MAX_BUILD_PROPERTIES = 100;
export const DEFAULT_BUILD_LIMIT = 100;
export const MAX_BUILD_LIMIT = 1000;

export type BuildInput = Omit<
  BuildRecord,
  'publishedBy' | 'publishedById' | 'publishedToken' | 'publishedAt'
>;

const FIELDS = ['startedAt', 'durationMs', 'vcs', 'ciUrl', 'artifacts', 'dependencies', 'properties'];
const EXAMPLE =
  '{"startedAt": "2026-11-25T10:00:00Z", "vcs": {"url": "…", "revision": "…", "branch": "main"}, "artifacts": [{"digest": "sha256:…", "name": "team/app:1.0"}]}';

export function checkBuildName(name: string): string {
  if (!BUILD_NAME.test(name))
    throw badRequest(`build name ${JSON.stringify(name)} is invalid: use 1-128 of A-Z a-z 0-9 . _ -`);
  return name;
}

export function checkBuildNumber(number: string): string {
  if (!BUILD_NUMBER.test(number))
    throw badRequest(`build number ${JSON.stringify(number)} is invalid: use 1-64 of A-Z a-z 0-9 . _ -`);
  return number;
}

/** Reads a `PUT /builds/:name/:number` body; 400 saying what is wrong. */
export function parseBuild(name: string, number: string, body: unknown): BuildInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(`send a JSON object like ${EXAMPLE}`);
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0)
    throw badRequest(`unknown field ${unknown.join(', ')}; a build has ${FIELDS.join(', ')}`);
  if (typeof input.startedAt !== 'string' || Number.isNaN(Date.parse(input.startedAt))) {
    throw badRequest(
      'startedAt is required: when the build started, as an ISO 8601 time (2026-11-25T10:00:00Z)',
    );
  }
  const duration = input.durationMs;
  if (
    duration !== undefined &&
    duration !== null &&
    (!Number.isSafeInteger(duration) || (duration as number) < 0)
  ) {
    throw badRequest('durationMs must be a whole number of milliseconds, 0 or more');
  }
  const vcs = optionalObject(input.vcs, 'vcs');
  for (const k of Object.keys(vcs)) {
    if (!['url', 'revision', 'branch'].includes(k))
      throw badRequest(`unknown field vcs.${k}; vcs has url, revision, branch`);
  }
  return {
    name: checkBuildName(name),
    number: checkBuildNumber(number),
    startedAt: new Date(input.startedAt).toISOString(),
    durationMs: (duration as number | undefined) ?? null,
    vcsUrl: text(vcs.url, 'vcs.url'),
    vcsRevision: text(vcs.revision, 'vcs.revision'),
    branch: text(vcs.branch, 'vcs.branch'),
    ciUrl: text(input.ciUrl, 'ciUrl'),
    artifacts: list(input.artifacts, 'artifacts', MAX_ARTIFACTS).map(artifact),
    dependencies: list(input.dependencies, 'dependencies', MAX_DEPENDENCIES).map(dependency),
    properties: buildProperties(input.properties),
  };
}

function optionalObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  if (value.length > MAX_TEXT) throw badRequest(`${field} is longer than ${MAX_TEXT} characters`);
  return value;
}

function list(value: unknown, field: string, max: number): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(`${field} must be a list`);
  if (value.length > max)
    throw badRequest(`${field} has ${value.length} entries; at most ${max} are allowed`);
  return value;
}

function digestField(value: unknown, field: string): Digest {
  if (typeof value !== 'string' || !isDigest(value)) {
    throw badRequest(`${field} must be a digest like sha256:<64 lowercase hex digits>`);
  }
  return value as Digest;
}

function artifact(raw: unknown, i: number): BuildArtifact {
  const a = optionalObject(raw, `artifacts[${i}]`);
  return {
    digest: digestField(a.digest, `artifacts[${i}].digest`),
    name: text(a.name, `artifacts[${i}].name`) ?? '',
  };
}

function dependency(raw: unknown, i: number): BuildDependency {
  const d = optionalObject(raw, `dependencies[${i}]`);
  const name = text(d.name, `dependencies[${i}].name`);
  const version = text(d.version, `dependencies[${i}].version`);
  if (name === null || version === null) throw badRequest(`dependencies[${i}] needs a name and a version`);
  const digest =
    d.digest === undefined || d.digest === null ? null : digestField(d.digest, `dependencies[${i}].digest`);
  return { name, version, digest };
}

function buildProperties(raw: unknown): Record<string, string> {
  const input = optionalObject(raw, 'properties');
  const entries = Object.entries(input);
  if (entries.length > MAX_BUILD_PROPERTIES)
    throw badRequest(`properties has more than ${MAX_BUILD_PROPERTIES} keys`);
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (!PROPERTY_KEY.test(key))
      throw badRequest(
        `properties key ${JSON.stringify(key)} is invalid: use 1-255 of A-Z a-z 0-9 . _ : / -`,
      );
    if (typeof value !== 'string' || value.length > 4096)
      throw badRequest(`properties.${key} must be a string of at most 4096 characters`);
    out[key] = value;
  }
  return out;
}

export interface LocationView {
  repository: string;
  image: string;
  tags: string[];
}

/** A build as the API shows it: the shape it was published in, with where its artifacts are now. */
export interface BuildView {
  name: string;
  number: string;
  startedAt: string;
  durationMs: number | null;
  vcs: { url: string | null; revision: string | null; branch: string | null };
  ciUrl: string | null;
  artifacts: (BuildArtifact & { locations: LocationView[] })[];
  dependencies: BuildDependency[];
  properties: Record<string, string>;
  publishedBy: string;
  /** Name of the API token the build was published through, if any. */
  publishedByToken: string | null;
  publishedAt: string;
}

export interface DigestTrace {
  digest: Digest;
  builds: BuildView[];
  locations: LocationView[];
  /** Where the newest build that produced the digest came from. */
  source: {
    build: string;
    number: string;
    vcsUrl: string | null;
    revision: string | null;
    branch: string | null;
  } | null;
}

/**
 * CI build info: what a build produced and from which commit, so a digest leads back to its
 * build and source, and a build forward to where its images are now.
 *
 * Builds are records of the whole instance, guarded through permission targets like everything
 * else: publishing needs `publish` on some repository (granted to CI identities; neither deploy
 * nor delete brings it, so pushing an image never makes someone a witness of its build), and
 * deleting a build needs `publish` and `delete` together on some repository. Where an artifact
 * is held already, the same actions are needed on one repository holding it: a manager of team
 * A's repositories cannot vouch for, or erase the record of, team B's images. A recorded number
 * never changes: only the very same record, from the same user through the same token, may be
 * sent again (a CI retry). A build is visible to its publisher, to administrators and to anyone
 * who may read one of its artifacts where it is now; locations are only those the caller may read.
 */
export class BuildsService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly policy: () => AccessPolicy,
  ) {}

  /** Signed in, and `publish` on some repository as a whole (an administrator may anyway). */
  mayPublish(p: Principal): boolean {
    return this.allowedSomewhere(p, ['publish']);
  }

  /** `publish` and `delete` on one repository. */
  mayDelete(p: Principal): boolean {
    return this.allowedSomewhere(p, ['publish', 'delete']);
  }

  /**
   * The first artifact held somewhere, but nowhere the caller has `actions` (on the image), or
   * undefined when every held artifact has such a place.
   */
  private async foreignArtifact(
    p: Principal,
    artifacts: readonly BuildArtifact[],
    actions: readonly ('publish' | 'delete')[],
  ): Promise<Digest | undefined> {
    const policy = this.policy();
    for (const { digest } of artifacts) {
      const held = await this.meta.promotions.locate(digest);
      if (held.length === 0) continue;
      if (!held.some((l) => actions.every((a) => policy.allows(p, a, l.repository, l.image)))) return digest;
    }
    return undefined;
  }

  private allowedSomewhere(p: Principal, actions: readonly ('publish' | 'delete')[]): boolean {
    if (!p.authenticated) return false;
    const policy = this.policy();
    return this.repos.list().some((r) => actions.every((a) => policy.allows(p, a, r.key)));
  }

  async publish(p: Principal, input: BuildInput): Promise<{ build: BuildView; created: boolean }> {
    if (!p.authenticated) throw unauthorized('sign in to publish builds (Basic credentials or an API token)');
    if (!this.mayPublish(p)) {
      throw forbidden(
        `${p.name} may not publish builds: that needs the publish action on some repository (the default ci group has it)`,
      );
    }
    const foreign = await this.foreignArtifact(p, input.artifacts, ['publish']);
    if (foreign) {
      throw forbidden(
        `${p.name} may not publish a build of ${foreign}: no repository holding it grants you publish`,
      );
    }
    const record: BuildRecord = {
      ...input,
      publishedBy: p.name,
      publishedById: p.id ?? null,
      publishedToken: p.token ? { id: p.token.id, name: p.token.name } : null,
      publishedAt: new Date().toISOString(),
    };
    try {
      await this.meta.builds.create(record);
      return { build: await this.view(p, record), created: true };
    } catch (error) {
      if (!(error instanceof MetaConflictError)) throw error;
    }
    const existing = await this.meta.builds.get(input.name, input.number);
    if (existing && sameRecord(existing, record))
      return { build: await this.view(p, existing), created: false };
    throw conflict(
      `build ${input.name} #${input.number} is recorded already${existing && (await this.visible(p, existing)) ? ` (published by ${existing.publishedBy} at ${existing.publishedAt})` : ''}; a recorded build never changes: publish a new number`,
    );
  }

  /** Deletes a build; 404 as for a missing one when the caller cannot see it. */
  async delete(p: Principal, name: string, number: string): Promise<BuildRecord> {
    const record = await this.meta.builds.get(checkBuildName(name), checkBuildNumber(number));
    if (!record || !(await this.visible(p, record)))
      throw notFound(`build ${name} #${number} does not exist`);
    if (!this.mayDelete(p) || (await this.foreignArtifact(p, record.artifacts, ['publish', 'delete']))) {
      throw forbidden(
        `${p.name} may not delete build ${record.name} #${record.number}: that needs publish and delete on one repository holding each of its artifacts (an administrator may)`,
      );
    }
    await this.meta.builds.delete(record.name, record.number);
    return record;
  }

  async get(p: Principal, name: string, number: string): Promise<BuildView> {
    const record = await this.meta.builds.get(checkBuildName(name), checkBuildNumber(number));
    const view = record && (await this.visible(p, record));
    if (!view) throw notFound(`build ${name} #${number} does not exist`);
    return view;
  }

  async list(p: Principal, options: { name?: string; digest?: Digest; limit: number }): Promise<BuildView[]> {
    const records = options.digest
      ? await this.meta.builds.byDigest(options.digest)
      : await this.meta.builds.list({
          ...(options.name ? { name: options.name } : {}),
          limit: MAX_BUILD_LIMIT,
        });
    const out: BuildView[] = [];
    for (const r of records) {
      if (options.name !== undefined && r.name !== options.name) continue;
      const view = await this.visible(p, r);
      if (view) out.push(view);
      if (out.length >= options.limit) break;
    }
    return out;
  }

  /** digest → the builds that produced it, where it is now, and the commit it came from. */
  async trace(p: Principal, digest: Digest): Promise<DigestTrace> {
    const [locations, builds] = await Promise.all([
      this.locations(p, digest),
      this.list(p, { digest, limit: MAX_BUILD_LIMIT }),
    ]);
    if (locations.length === 0 && builds.length === 0) {
      throw notFound(`${digest} is not held anywhere you may read, and no build you may see produced it`);
    }
    const newest = builds[0];
    return {
      digest,
      builds,
      locations,
      source: newest
        ? {
            build: newest.name,
            number: newest.number,
            vcsUrl: newest.vcs.url,
            revision: newest.vcs.revision,
            branch: newest.vcs.branch,
          }
        : null,
    };
  }

  /** Where the digest is held now, within what the caller may read. */
  async locations(p: Principal, digest: Digest): Promise<LocationView[]> {
    const policy = this.policy();
    const out: LocationView[] = [];
    for (const l of await this.meta.promotions.locate(digest)) {
      if (!policy.allows(p, 'read', l.repository, l.image)) continue;
      out.push({ ...l, tags: await tagsOf(this.meta, l.repository, l.image, digest) });
    }
    return out;
  }

  private async visible(p: Principal, record: BuildRecord): Promise<BuildView | undefined> {
    const view = await this.view(p, record);
    const readable = view.artifacts.some((a) => a.locations.length > 0);
    // Its publisher sees it before any artifact is pushed; being allowed to publish somewhere is
    // not enough (a delegated manager would see every team's builds and digests).
    const own = p.id !== undefined && record.publishedById === p.id;
    return readable || own || p.admin ? view : undefined;
  }

  private async view(p: Principal, record: BuildRecord): Promise<BuildView> {
    const artifacts = [];
    for (const a of record.artifacts) artifacts.push({ ...a, locations: await this.locations(p, a.digest) });
    return {
      name: record.name,
      number: record.number,
      startedAt: record.startedAt,
      durationMs: record.durationMs,
      vcs: { url: record.vcsUrl, revision: record.vcsRevision, branch: record.branch },
      ciUrl: record.ciUrl,
      artifacts,
      dependencies: record.dependencies,
      properties: record.properties,
      publishedBy: record.publishedBy,
      publishedByToken: record.publishedToken?.name ?? null,
      publishedAt: record.publishedAt,
    };
  }
}

/** The same build sent again by the same publisher: everything but the time of publishing. */
function sameRecord(a: BuildRecord, b: BuildRecord): boolean {
  const { publishedAt: _a, ...restA } = a;
  const { publishedAt: _b, ...restB } = b;
  return isDeepStrictEqual(restA, restB);
}
