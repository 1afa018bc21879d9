import type { AccessPolicy } from '../auth/access-policy.ts';
import type { Principal } from '../auth/principal.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { policyOf } from './repository-policy.ts';

/**
 * Why an approval by `p` for `repo` would count for nothing, or undefined when it would count.
 * An approval is recorded only from someone it can count for: a member (`groups`, the caller's
 * current groups) of a group an approval gate of the repository names, acting through nothing
 * narrowed below `annotate`. The approvals API refuses with this reason; the pipeline offers
 * Approve only where it is undefined, so the two cannot disagree.
 */
export function approvalRefusal(
  p: Principal,
  repo: RepositoryRecord,
  groups: readonly string[],
  policy: AccessPolicy,
): string | undefined {
  const key = repo.key;
  const gateGroups = policyOf(repo).gates.flatMap((g) => (g.type === 'approval' ? [g.group] : []));
  if (gateGroups.length === 0)
    return `${key} has no approval gate; an approval there would count for nothing`;
  if (!gateGroups.some((g) => groups.includes(g)))
    return `approvals for ${key} count only from members of ${[...new Set(gateGroups)].join(', ')}; ${p.name} is not one`;
  // A token narrowed to reading must not be able to give consent in its owner's name.
  if (p.token?.actions && !policy.allows(p, 'annotate', key))
    return `API token ${p.token.name} may not approve: approving needs a token that may annotate ${key}`;
  return undefined;
}
