import { badRequest } from '../domain/errors.ts';
import type { PromotionMode } from '../meta/promotion-records.ts';
import { type Digest, isDigest } from '../oci/digest.ts';
import { isRepositoryKey, isTag } from '../oci/names.ts';

/** A promotion as asked for, checked for shape (not yet for existence or permission). */
export interface PromotionRequest {
  source: { repository: string; image: string; tag?: string; digest?: Digest };
  target: { repository: string; image: string };
  /** Tags to set in the target; by default the source tag, when the source was named by tag. */
  tags: string[];
  mode: PromotionMode;
  comment: string;
  dryRun: boolean;
}

/**
 * `docker-dev-local/team/app:1.4.2` or `…/team/app@sha256:…` → repository, image, tag/digest.
 * The first segment is the repository key.
 */
export function parseImageRef(ref: string, field: string): PromotionRequest['source'] {
  const slash = ref.indexOf('/');
  if (slash <= 0)
    throw badRequest(
      `${field} must look like <repository>/<image>:<tag> or <repository>/<image>@<digest>; got ${JSON.stringify(ref)}`,
    );
  const repository = ref.slice(0, slash);
  let rest = ref.slice(slash + 1);
  let tag: string | undefined;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkDigest(rest.slice(at + 1), field);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) {
      tag = checkTagName(rest.slice(colon + 1), field);
      rest = rest.slice(0, colon);
    }
  }
  return {
    repository: checkKey(repository, field),
    image: checkImage(rest, field),
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** Reads the API body: `source` as a reference string or {repository, image, tag|digest}. */
export function parsePromotionRequest(body: unknown): PromotionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(
      'send a JSON object like {"source": "docker-dev-local/team/app:1.4.2", "target": "docker-staging-local"}',
    );
  }
  const input = body as Record<string, unknown>;
  const source =
    typeof input.source === 'string' ? parseImageRef(input.source, 'source') : sourceObject(input.source);
  if (!source.tag && !source.digest)
    throw badRequest('source needs a tag or a digest: which image to promote');
  const targetRaw = input.target;
  const target =
    typeof targetRaw === 'string'
      ? { repository: checkKey(targetRaw, 'target'), image: source.image }
      : targetObject(targetRaw, source.image);
  const tags = input.tags === undefined ? (source.tag ? [source.tag] : []) : tagList(input.tags);
  const mode = input.mode ?? 'copy';
  if (mode !== 'copy' && mode !== 'move') throw badRequest('mode must be "copy" or "move"');
  if (input.comment !== undefined && typeof input.comment !== 'string')
    throw badRequest('comment must be a string');
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean')
    throw badRequest('dryRun must be true or false');
  if (target.repository === source.repository && target.image === source.image) {
    throw badRequest('source and target are the same repository and image; promote into another repository');
  }
  return {
    source,
    target,
    tags,
    mode,
    comment: (input.comment as string | undefined) ?? '',
    dryRun: input.dryRun === true,
  };
}

function sourceObject(raw: unknown): PromotionRequest['source'] {
  if (typeof raw !== 'object' || raw === null) {
    throw badRequest(
      'source must be "<repository>/<image>:<tag>" or {"repository", "image", "tag" or "digest"}',
    );
  }
  const s = raw as Record<string, unknown>;
  return {
    repository: checkKey(s.repository, 'source.repository'),
    image: checkImage(s.image, 'source.image'),
    ...(s.tag === undefined ? {} : { tag: checkTagName(s.tag, 'source.tag') }),
    ...(s.digest === undefined ? {} : { digest: checkDigest(s.digest, 'source.digest') }),
  };
}

function targetObject(raw: unknown, image: string): PromotionRequest['target'] {
  if (typeof raw !== 'object' || raw === null)
    throw badRequest('target must be a repository key or {"repository", "image"}');
  const t = raw as Record<string, unknown>;
  return {
    repository: checkKey(t.repository, 'target.repository'),
    image: t.image === undefined ? image : checkImage(t.image, 'target.image'),
  };
}

function tagList(raw: unknown): string[] {
  if (!Array.isArray(raw)) throw badRequest('tags must be a list of tags');
  return [...new Set(raw.map((t, i) => checkTagName(t, `tags[${i}]`)))];
}

function checkKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isRepositoryKey(value))
    throw badRequest(`${field} ${JSON.stringify(value)} is not a repository key`);
  return value;
}

function checkImage(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    !/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/.test(value)
  ) {
    throw badRequest(
      `${field} ${JSON.stringify(value)} is not an image name (lowercase path components like team/app)`,
    );
  }
  return value;
}

function checkTagName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isTag(value))
    throw badRequest(`${field} ${JSON.stringify(value)} is not a tag`);
  return value;
}

function checkDigest(value: unknown, field: string): Digest {
  if (typeof value !== 'string' || !isDigest(value))
    throw badRequest(`${field} ${JSON.stringify(value)} is not a digest like sha256:<64 hex>`);
  return value as Digest;
}
