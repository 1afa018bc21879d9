import type { Principal } from '../auth/principal.ts';
import { notFound, RefusedError } from '../domain/errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { PromotionMode } from '../meta/promotion-records.ts';
import type { Digest } from '../oci/digest.ts';
import type { PromotionResult, PromotionService } from './promotion-service.ts';

export interface WholeImagePromotion {
  source: { repository: string; image: string };
  target: { repository: string; image: string };
  mode: PromotionMode;
  comment: string;
}

/**
 * Promotes every tagged digest of an image, each with all its tags (Artifactory's promote
 * without `tag`). One promotion per digest, so each is recorded and gated like any other.
 *
 * All or nothing as far as the gates and permissions go: every digest is dry-run first, and if
 * any would be refused nothing is promoted and the refusal names each digest and gate. A
 * promotion failing after that (the source changed meanwhile) stops the rest; the ones done stay.
 * With `move`, a digest whose tags left the source with an earlier one (a tagged referrer
 * carried along with its subject) is not promoted again.
 */
export async function promoteWholeImage(
  deps: { promotions: PromotionService; meta: MetadataStore },
  principal: Principal,
  request: WholeImagePromotion,
  address: string,
): Promise<PromotionResult[]> {
  const { source } = request;
  const groups = new Map<Digest, string[]>();
  for (const { tag, digest } of await deps.meta.tags.entries(source.repository, source.image)) {
    groups.set(digest, [...(groups.get(digest) ?? []), tag]);
  }
  if (groups.size === 0) throw notFound(`${source.repository}/${source.image} has no tags to promote`);
  const ask = (digest: Digest, tags: string[], dryRun: boolean) =>
    deps.promotions.promote(
      principal,
      { ...request, source: { ...source, digest }, tags: tags.sort(), dryRun },
      address,
    );
  const refused: PromotionResult[] = [];
  for (const [digest, tags] of groups) {
    const verdict = await ask(digest, tags, true);
    if (!verdict.promoted) refused.push(verdict);
  }
  if (refused.length > 0) {
    const reasons = refused.map(
      (r) =>
        `${r.digest}: ${r.gates
          .filter((g) => !g.passed)
          .map((g) => g.reason)
          .join('; ')}`,
    );
    throw new RefusedError(
      `promotion of ${source.repository}/${source.image} into ${request.target.repository} refused, nothing was promoted: ${reasons.join(' | ')}`,
      {
        refused: refused.map((r) => ({
          digest: r.digest,
          failed: r.gates.filter((g) => !g.passed).map((g) => g.gate),
        })),
      },
    );
  }
  const done: PromotionResult[] = [];
  for (const [digest, tags] of groups) {
    if (request.mode === 'move') {
      const still = await Promise.all(
        tags.map((t) => deps.meta.tags.resolve(source.repository, source.image, t)),
      );
      if (still.every((d) => d !== digest)) continue;
    }
    done.push(await ask(digest, tags, false));
  }
  return done;
}
