import { badRequest, notFound } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { Properties } from '../meta/promotion-records.ts';
import { UnknownManifestError } from '../meta/promotion-store.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { isTag } from '../oci/names.ts';
import type { RepositoryService } from '../repos/repository-service.ts';

export const PROPERTY_KEY = /^[A-Za-z0-9._:/-]{1,255}$/;
export const MAX_VALUE_LENGTH = 4096;
export const MAX_VALUES_PER_KEY = 100;

/** Throws 400 unless `key` is 1-255 characters of [A-Za-z0-9._:/-]. */
export function checkPropertyKey(key: string, where = 'property key'): string {
  if (!PROPERTY_KEY.test(key)) {
    throw badRequest(
      `${where} ${JSON.stringify(key.slice(0, 80))} is invalid: use 1-255 characters of A-Z a-z 0-9 . _ : / -`,
    );
  }
  return key;
}

/** Throws 400 unless the value is a string of at most MAX_VALUE_LENGTH characters. */
export function checkPropertyValue(key: string, value: unknown): string {
  if (typeof value !== 'string') throw badRequest(`values of ${key} must be strings`);
  if (value.length > MAX_VALUE_LENGTH) {
    throw badRequest(
      `a value of ${key} is ${value.length} characters long; at most ${MAX_VALUE_LENGTH} are allowed`,
    );
  }
  return value;
}

/**
 * Reads `{key: value | [values…]}`. With `removals`, `null` or `[]` stands for "remove the key"
 * (an empty list in the result); without, a key needs at least one value.
 */
export function parseProperties(raw: unknown, options: { removals: boolean }): Properties {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw badRequest('send {"properties": {"key": "value", "other": ["v1", "v2"]}}');
  }
  const out: Properties = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    checkPropertyKey(key);
    const list = value === null ? [] : Array.isArray(value) ? value : [value];
    if (list.length === 0 && !options.removals) {
      throw badRequest(`property ${key} has no value; give at least one (PATCH with null removes a key)`);
    }
    const values = [...new Set(list.map((v) => checkPropertyValue(key, v)))];
    if (values.length > MAX_VALUES_PER_KEY) {
      throw badRequest(
        `property ${key} has ${values.length} values; at most ${MAX_VALUES_PER_KEY} are allowed`,
      );
    }
    out[key] = values.sort();
  }
  return out;
}

/** A manifest in a repository and image: where properties live. */
export interface PropertyTarget {
  repository: string;
  image: string;
  digest: Digest;
}

/**
 * Properties of a digest within a repository and image: `key = values` people and CI attach
 * (qa.status = passed, jira = APP-12). Access is the caller's business (reads need `read`,
 * writes `annotate`); this checks shape and that the name holds the digest.
 */
export class PropertiesService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
  ) {}

  /** The digest a reference (digest or tag) names in the repository and image; 404 when none. */
  async target(repository: string, image: string, reference: string): Promise<PropertyTarget> {
    const repo = this.repos.get(repository);
    if (!repo) throw notFound(`repository ${repository} does not exist`);
    if (isDigest(reference)) {
      const digest = reference as Digest;
      if (!(await this.meta.manifests.get(repository, image, digest)))
        throw this.notHeld(repository, image, digest);
      return { repository, image, digest };
    }
    if (!isTag(reference)) {
      throw badRequest(`${JSON.stringify(reference.slice(0, 80))} is neither a digest (sha256:…) nor a tag`);
    }
    const digest = await this.meta.tags.resolve(repository, image, reference);
    if (!digest) {
      const hint =
        repo.kind === 'virtual' ? ` (${repository} is virtual: name the repository that holds it)` : '';
      throw notFound(`${repository}/${image} has no tag ${reference}${hint}`);
    }
    return { repository, image, digest };
  }

  get(t: PropertyTarget): Promise<Properties> {
    return this.meta.properties.get(t.repository, t.image, t.digest);
  }

  /** Replaces every property with `properties`; returns the keys removed. */
  async replace(t: PropertyTarget, properties: Properties): Promise<{ removed: string[] }> {
    const current = await this.get(t);
    const removed = Object.keys(current).filter((k) => !(k in properties));
    const changes: Properties = { ...properties };
    for (const key of removed) changes[key] = [];
    await this.write(t, changes);
    return { removed };
  }

  /** Sets the given keys (an empty list removes one); other keys stay. */
  update(t: PropertyTarget, changes: Properties): Promise<void> {
    return this.write(t, changes);
  }

  /** Removes the keys (every key when omitted); returns how many were removed. */
  async remove(t: PropertyTarget, keys?: readonly string[]): Promise<number> {
    for (const key of keys ?? []) checkPropertyKey(key);
    return this.meta.properties.remove(t.repository, t.image, t.digest, keys);
  }

  private async write(t: PropertyTarget, changes: Properties): Promise<void> {
    try {
      await this.meta.properties.set(t.repository, t.image, t.digest, changes);
    } catch (error) {
      if (error instanceof UnknownManifestError) throw this.notHeld(t.repository, t.image, t.digest);
      throw error;
    }
  }

  private notHeld(repository: string, image: string, digest: Digest) {
    const repo = this.repos.get(repository);
    const hint =
      repo?.kind === 'virtual' ? ` (${repository} is virtual: name the repository that holds it)` : '';
    return notFound(`${repository}/${image} does not hold ${digest}${hint}`);
  }
}
