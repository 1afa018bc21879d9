import type { AccessPolicy } from '../auth/access-policy.ts';
import type { Principal } from '../auth/principal.ts';
import { badRequest } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { ContentFact, Location, Properties } from '../meta/promotion-records.ts';
import type { Digest } from '../oci/digest.ts';
import type { MemberCheck, RepositoryService } from '../repos/repository-service.ts';
import { holderOf } from './holder.ts';
import { checkPropertyKey } from './properties-service.ts';

/** How many candidates the store is asked for before permission filtering. */
const CANDIDATES = 10_000;
export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;

interface Condition {
  key: string;
  value?: string;
}

/** A search as asked for: every condition must hold (AND). */
export interface SearchQuery {
  properties: Condition[];
  labels: Condition[];
  annotations: Condition[];
  /** Substring of `repository/image`. */
  name?: string;
  /** Start of the digest, `sha256:` included. */
  digest?: string;
  /** A tag pointing at the manifest. */
  tag?: string;
  repository?: string;
  limit: number;
}

export interface SearchHit {
  repository: string;
  image: string;
  digest: Digest;
  tags: string[];
  properties: Properties;
}

const PARAMETERS =
  'property=k=v (or property=k), label=k=v, annotation=k=v, name=<part of repository/image>, digest=<start of a digest>, tag=<tag>, repository=<key>, limit=<n>';

/** Reads `?property=k=v&label=k=v&annotation=k=v&name=&repository=&limit=` (each repeatable but the last three). */
export function parseSearchQuery(query: Record<string, string | string[] | undefined>): SearchQuery {
  const all = (name: string) => {
    const v = query[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const one = (name: string) => {
    const values = all(name);
    if (values.length > 1) throw badRequest(`give ${name} once`);
    return values[0];
  };
  const unknown = Object.keys(query).filter(
    (k) => !['property', 'label', 'annotation', 'name', 'digest', 'tag', 'repository', 'limit'].includes(k),
  );
  if (unknown.length > 0)
    throw badRequest(`unknown search parameter ${unknown.join(', ')}; use ${PARAMETERS}`);
  const conditions = (name: string) =>
    all(name).map((raw) => {
      const eq = raw.indexOf('=');
      const key = eq < 0 ? raw : raw.slice(0, eq);
      if (name === 'property') checkPropertyKey(key, `property key in ${name}=`);
      else if (key === '') throw badRequest(`${name}= needs a key: ${name}=<key>=<value> or ${name}=<key>`);
      return eq < 0 ? { key } : { key, value: raw.slice(eq + 1) };
    });
  const limitText = one('limit');
  const limit = limitText === undefined ? DEFAULT_SEARCH_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw badRequest(`limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const name = one('name');
  const repository = one('repository');
  const digest = digestPrefix(one('digest'));
  const tag = one('tag');
  const q: SearchQuery = {
    properties: conditions('property'),
    labels: conditions('label'),
    annotations: conditions('annotation'),
    ...(name ? { name: name.toLowerCase() } : {}),
    ...(repository ? { repository } : {}),
    ...(digest ? { digest } : {}),
    ...(tag ? { tag } : {}),
    limit,
  };
  const conditionCount = q.properties.length + q.labels.length + q.annotations.length;
  if (conditionCount === 0 && !q.name && !q.repository && !q.digest && !q.tag) {
    throw badRequest(`say what to search for: ${PARAMETERS}`);
  }
  return q;
}

/** `sha256:ab12…` or bare hex (taken as sha256); at least 4 hex digits, so a search stays narrow. */
function digestPrefix(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = raw.toLowerCase();
  const withAlgorithm = /^(sha256|sha512):/.test(value) ? value : `sha256:${value}`;
  if (!/^(sha256|sha512):[0-9a-f]{4,128}$/.test(withAlgorithm)) {
    throw badRequest(
      `digest= takes the start of a digest, at least 4 hex digits (sha256:1a2b… or 1a2b…); got ${JSON.stringify(raw.slice(0, 80))}`,
    );
  }
  return withAlgorithm;
}

/** Tags of the name that point at the digest, sorted. */
export async function tagsOf(
  meta: MetadataStore,
  repository: string,
  image: string,
  digest: Digest,
): Promise<string[]> {
  const tags = await meta.tags.list(repository, image, {});
  const resolved = await Promise.all(tags.map((t) => meta.tags.resolve(repository, image, t)));
  return tags.filter((_, i) => resolved[i] === digest);
}

/**
 * Finds manifests by their properties, their content's labels and annotations and their name,
 * within what the caller may read: candidates come from the store's indexes restricted to the
 * repositories the caller reads something in, then each image is checked on its own.
 */
export class SearchService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly policy: () => AccessPolicy,
  ) {}

  async search(principal: Principal, q: SearchQuery): Promise<{ results: SearchHit[]; truncated: boolean }> {
    const policy = this.policy();
    // A virtual repository is an address, never a grant: what it serves is found where it is
    // stored, for whoever may read it there (reading through the virtual needs that too). Asked
    // for by `repository=<virtual>`, the hits of its members are shown under its key.
    const asked = q.repository === undefined ? undefined : this.repos.get(q.repository);
    const virtual = asked?.kind === 'virtual' ? asked : undefined;
    const through = virtual?.key;
    const stores = virtual
      ? this.repos.readTargets({ repository: virtual, image: '' }).map((t) => t.repository)
      : this.repos.list().filter((r) => r.kind !== 'virtual' && (asked === undefined || r.key === asked.key));
    const repositories = stores.filter((r) => policy.readsSomethingIn(principal, r.key)).map((r) => r.key);
    if (repositories.length === 0 || (through && !policy.readsSomethingIn(principal, through)))
      return { results: [], truncated: false };
    let candidates: Location[] = [];
    for (const l of await this.candidates(q, repositories)) {
      if (!policy.allows(principal, 'read', l.repository, l.image)) continue;
      if (through && !policy.allows(principal, 'read', through, l.image)) continue;
      const shown = through ?? l.repository;
      if (
        q.name !== undefined &&
        !`${shown}/${l.image}`.includes(q.name) &&
        !`${l.repository}/${l.image}`.includes(q.name)
      )
        continue;
      candidates.push({ ...l, repository: shown });
    }
    candidates = dedupe(candidates);
    candidates.sort(
      (a, b) =>
        compare(a.repository, b.repository) || compare(a.image, b.image) || compare(a.digest, b.digest),
    );
    const truncated = candidates.length > q.limit;
    const results: SearchHit[] = [];
    for (const l of candidates.slice(0, q.limit)) {
      const stored = await this.storedIn(l, policy.memberReader(principal));
      results.push({
        ...l,
        tags: await tagsOf(this.meta, stored, l.image, l.digest),
        properties: await this.meta.properties.get(stored, l.image, l.digest),
      });
    }
    return { results, truncated };
  }

  /** The repository that stores a hit: itself, or for a virtual key the first readable member holding the digest. */
  private async storedIn(l: Location, readable: MemberCheck): Promise<string> {
    const repository = this.repos.get(l.repository);
    if (repository?.kind !== 'virtual') return l.repository;
    const where = { repository, image: l.image, digest: l.digest };
    const held = await holderOf(this.meta, this.repos, where, readable);
    return held?.repository.key ?? l.repository;
  }

  /** Locations meeting the property and content conditions (or, with none, every tagged manifest). */
  private async candidates(q: SearchQuery, repositories: string[]): Promise<Location[]> {
    const options = { repositories, limit: CANDIDATES };
    const facts = [
      ...q.labels.map((c) => ({ ...c, source: 'label' as ContentFact['source'] })),
      ...q.annotations.map((c) => ({ ...c, source: 'annotation' as ContentFact['source'] })),
    ];
    const sets: Location[][] = [];
    if (q.properties.length > 0) sets.push(await this.meta.properties.find(q.properties, options));
    if (facts.length > 0) sets.push(await this.meta.contentFacts.find(facts, options));
    if (q.digest) sets.push(await this.meta.manifests.withDigestPrefix(q.digest, options));
    if (q.tag) sets.push(await this.meta.tags.withTag(q.tag, options));
    if (sets.length === 0) return this.tagged(repositories, q.name);
    const [first = [], ...rest] = sets;
    const keyOf = (l: Location) => `${l.repository}\0${l.image}\0${l.digest}`;
    const others = rest.map((s) => new Set(s.map(keyOf)));
    return first.filter((l) => others.every((s) => s.has(keyOf(l))));
  }

  /** Every tagged manifest of the names matching `name` (a search by name or repository only). */
  private async tagged(repositories: string[], name: string | undefined): Promise<Location[]> {
    const out: Location[] = [];
    for (const repository of repositories) {
      for (const full of await this.meta.manifests.catalog({ n: CANDIDATES }, repository)) {
        if (name !== undefined && !full.includes(name)) continue;
        const image = full.slice(repository.length + 1);
        const digests = new Set<Digest>();
        for (const tag of await this.meta.tags.list(repository, image, {})) {
          const d = await this.meta.tags.resolve(repository, image, tag);
          if (d) digests.add(d);
        }
        for (const digest of [...digests].sort()) out.push({ repository, image, digest });
        if (out.length >= CANDIDATES) return out;
      }
    }
    return out;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One hit per shown repository, image and digest. */
function dedupe(locations: Location[]): Location[] {
  const seen = new Set<string>();
  return locations.filter((l) => {
    const key = `${l.repository}\0${l.image}\0${l.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
