import semver from 'semver';
import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { UnknownManifestError } from '../meta/promotion-store.ts';
import type { RepositoryRecord, TagEvent } from '../meta/records.ts';
import { type Digest, parseDigest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { RepositoryService, ResolvedName } from '../repos/repository-service.ts';
import { policyOf } from './repository-policy.ts';
import { floatingTargets, immutableRule } from './tag-rules.ts';

/** A floating tag the server moved (`previousDigest` absent: the tag is new). */
export interface FloatingMove {
  tag: string;
  digest: Digest;
  previousDigest?: Digest;
}

export interface RollbackResult {
  tag: string;
  /** Where the tag pointed before (absent when it had been deleted). */
  from?: Digest;
  to: Digest;
}

/** How far back history and rollback look; older events are not considered. */
const HISTORY_WINDOW = 1000;

/**
 * Tag discipline of local repositories (settings `tags`, see tag-rules.ts):
 * - immutable tags never move and are never deleted by tag, whoever asks (administrators too);
 *   deleting the manifest by digest stays possible (it removes the image with all its tags,
 *   immutable ones included: the way to withdraw a bad release), and a withdrawn immutable tag
 *   is never reused for other content;
 * - floating tags (`X.Y`, `X`, `latest`) follow the highest stable `X.Y.Z` when the repository
 *   says `floating: true`;
 * - mutable tags can be rolled back to where they pointed before.
 * Remote and virtual repositories have no tag rules of their own (writes land in locals).
 */
export class TagService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
  ) {}

  /**
   * DENIED when pointing `tag` of the (local) target at `digest` would move an immutable tag,
   * or reuse one: an immutable tag withdrawn with its manifest may come back only for the same
   * digest (clients and caches that pulled `1.4.2` once must never get other content for it).
   * A tag never used before, or one pointing at `digest` already, is always allowed.
   */
  async checkMove(
    target: ResolvedName,
    tag: string,
    digest: Digest,
    /** Where the tag points now, when the caller looked it up already. */
    known?: { current: Digest | undefined },
  ): Promise<void> {
    const rule = this.ruleOf(target.repository, tag);
    if (rule === undefined) return;
    const current = known
      ? known.current
      : await this.meta.tags.resolve(target.repository.key, target.image, tag);
    if (current === digest) return;
    const where = `${target.repository.key}/${target.image}`;
    if (current === undefined) {
      const [last] = await this.meta.tags.history(target.repository.key, target.image, tag, 1);
      const used = last?.newDigest ?? last?.oldDigest;
      if (used === undefined || used === digest) return;
      throw new OciError(
        'DENIED',
        `tag ${tag} of ${where} is immutable (rule ${rule}) and was used for ${used} before it was withdrawn; an immutable tag never names other content: push a new version instead`,
        { tag, rule, previous: used },
      );
    }
    throw new OciError(
      'DENIED',
      `tag ${tag} of ${where} is immutable (rule ${rule}): it points at ${current}; push a new version instead`,
      { tag, rule, current },
    );
  }

  /**
   * DENIED when `tag` is immutable and exists. Deleting the manifest by digest is not checked
   * here and stays allowed: it withdraws the image with every tag on it.
   */
  async checkDelete(target: ResolvedName, tag: string): Promise<void> {
    const rule = this.ruleOf(target.repository, tag);
    if (rule === undefined) return;
    const current = await this.meta.tags.resolve(target.repository.key, target.image, tag);
    if (current === undefined) return;
    throw new OciError(
      'DENIED',
      `tag ${tag} of ${target.repository.key}/${target.image} is immutable (rule ${rule}): it points at ${current} and cannot be deleted; delete the manifest ${current} by digest to withdraw the image`,
      { tag, rule, current },
    );
  }

  /**
   * Points the floating tags of the image at the highest stable versions, when the repository
   * has `floating: true`; each move is recorded with cause 'floating'. Returns the moves made.
   * A floating tag whose line has no stable version any more is left where it is.
   */
  async updateFloating(repository: string, image: string, actor: string): Promise<FloatingMove[]> {
    const repo = this.repos.get(repository);
    if (repo?.kind !== 'local' || !policyOf(repo).tags.floating) return [];
    const current = new Map<string, Digest>();
    for (const tag of await this.meta.tags.list(repository, image, {})) {
      const digest = await this.meta.tags.resolve(repository, image, tag);
      if (digest) current.set(tag, digest);
    }
    const moves: FloatingMove[] = [];
    for (const [tag, digest] of floatingTargets(current)) {
      if (current.get(tag) === digest) continue;
      try {
        const { previousDigest } = await this.meta.tagMoves.move(
          repository,
          image,
          tag,
          digest as Digest,
          actor,
          'floating',
        );
        if (previousDigest === digest) continue;
        moves.push({ tag, digest: digest as Digest, ...(previousDigest ? { previousDigest } : {}) });
      } catch (e) {
        // The manifest was deleted meanwhile; the next update sees the tags as they are then.
        if (!(e instanceof UnknownManifestError)) throw e;
      }
    }
    return moves;
  }

  /** The tag's moves, newest first. 404 when the tag neither exists nor ever existed. */
  async history(repository: string, image: string, tag: string, limit = 50): Promise<TagEvent[]> {
    const repo = this.localRepository(repository, 'tag history');
    const events = await this.meta.tags.history(repo.key, image, tag, limit);
    if (events.length === 0 && (await this.meta.tags.resolve(repo.key, image, tag)) === undefined) {
      throw notFound(`tag ${tag} of ${repo.key}/${image} does not exist and has no history`);
    }
    return events;
  }

  /**
   * Points a mutable tag back at an earlier digest: `to` (any digest the name holds) or `steps`
   * moves back in its history (default 1), counting only digests the name still holds.
   * Recorded with cause 'rollback'. Immutable tags refuse (409, naming the rule).
   */
  async rollback(
    repository: string,
    image: string,
    tag: string,
    options: { to?: string; steps?: number },
    actor: string,
  ): Promise<RollbackResult> {
    const repo = this.localRepository(repository, 'rollback');
    const where = `${repo.key}/${image}`;
    if (options.to !== undefined && options.steps !== undefined)
      throw badRequest('give either to (a digest) or steps (how many moves back), not both');
    const steps = options.steps ?? 1;
    if (!Number.isInteger(steps) || steps < 1 || steps > HISTORY_WINDOW)
      throw badRequest(`steps must be a whole number from 1 to ${HISTORY_WINDOW}`);
    const rule = this.ruleOf(repo, tag);
    if (rule !== undefined) {
      throw conflict(
        `tag ${tag} of ${where} is immutable (rule ${rule}) and cannot be rolled back; point a mutable tag (latest, a floating or branch tag) at the version you want instead`,
      );
    }
    const current = await this.meta.tags.resolve(repo.key, image, tag);
    const events = await this.meta.tags.history(repo.key, image, tag, HISTORY_WINDOW);
    if (current === undefined && events.length === 0)
      throw notFound(`tag ${tag} of ${where} does not exist and has no history`);

    let to: Digest;
    if (options.to !== undefined) {
      to = parseTo(options.to);
      if (!(await this.meta.manifests.get(repo.key, image, to)))
        throw notFound(`${where} does not hold ${to}; roll back to a digest the image holds`);
    } else {
      to = await this.stepsBack(repo.key, image, tag, current, events, steps);
    }
    if (to === current) return { tag, from: current, to };
    try {
      const { previousDigest } = await this.meta.tagMoves.move(repo.key, image, tag, to, actor, 'rollback');
      return { tag, ...(previousDigest ? { from: previousDigest } : {}), to };
    } catch (e) {
      if (e instanceof UnknownManifestError)
        throw conflict(`${to} was deleted from ${where} while rolling back; try again`);
      throw e;
    }
  }

  /**
   * The digest the tag pointed at `steps` moves ago: each event's old digest is a position the
   * tag held; positions the name no longer holds, and repeats of the one just counted, are skipped.
   */
  private async stepsBack(
    repository: string,
    image: string,
    tag: string,
    current: Digest | undefined,
    events: readonly TagEvent[],
    steps: number,
  ): Promise<Digest> {
    let previous = current;
    let counted = 0;
    let skipped = 0;
    for (const event of events) {
      const position = event.oldDigest;
      if (position === undefined || position === previous) continue;
      previous = position;
      if (!(await this.meta.manifests.get(repository, image, position))) {
        skipped++;
        continue;
      }
      if (++counted === steps) return position;
    }
    const gone =
      skipped > 0 ? ` (${skipped} earlier digest${skipped > 1 ? 's are' : ' is'} no longer held)` : '';
    throw conflict(
      `tag ${tag} of ${repository}/${image} has ${counted === 0 ? 'no' : `only ${counted}`} earlier digest${counted === 1 ? '' : 's'} to roll back to${gone}; ask for fewer steps or give a digest with to`,
    );
  }

  /** The immutable rule covering the tag in a local repository (others have no rules). */
  private ruleOf(repository: RepositoryRecord, tag: string): string | undefined {
    if (repository.kind !== 'local') return undefined;
    return immutableRule(policyOf(repository).tags, tag);
  }

  /** 404 for an unknown key, 400 naming the local repositories for a virtual or remote one. */
  private localRepository(key: string, what: string): RepositoryRecord {
    const repo = this.repos.get(key);
    if (!repo) throw notFound(`repository ${key} does not exist`);
    if (repo.kind === 'local') return repo;
    const members =
      repo.kind === 'virtual'
        ? this.repos
            .readTargets({ repository: repo, image: '' })
            .filter((t) => t.repository.kind === 'local')
            .map((t) => t.repository.key)
        : [];
    const locals =
      members.length > 0
        ? members
        : this.repos
            .list()
            .filter((r) => r.kind === 'local')
            .map((r) => r.key);
    throw badRequest(
      `${repo.key} is a ${repo.kind} repository; ${what} works on local repositories: use ${locals.length > 0 ? `one of ${locals.join(', ')}` : 'a local repository'}`,
      { repositories: locals },
    );
  }
}

/** True for `X.Y.Z` (optionally `v`-prefixed) without a pre-release: what moves floating tags. */
export function isStableVersion(tag: string): boolean {
  const version = semver.parse(tag.replace(/^v/, ''));
  return version !== null && version.prerelease.length === 0 && version.build.length === 0;
}

function parseTo(value: string): Digest {
  try {
    return parseDigest(value);
  } catch (e) {
    if (e instanceof OciError) throw badRequest(`to must be a digest like sha256:…: ${e.message}`);
    throw e;
  }
}
