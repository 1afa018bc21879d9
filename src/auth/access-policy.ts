import type { Action, PermissionTargetRecord } from '../meta/identity-records.ts';
import { ALL_ACTIONS, actionBits, bit } from './actions.ts';
import { type CompiledPatterns, compilePatterns } from './patterns.ts';
import type { Principal } from './principal.ts';

interface CompiledTarget {
  name: string;
  repositories: CompiledPatterns;
  images: CompiledPatterns;
  users: Map<string, number>;
  groups: Map<string, number>;
  anonymous: number;
}

/**
 * Decides what a principal may do, from the permission targets. Pure and in memory: it is asked
 * on every request. The rules:
 * - administrators may do everything (an API token still narrows them, below);
 * - otherwise the actions on (repository, image) are the union over every target covering both
 *   of the user's grants, their groups' grants and the anonymous grants (a signed-in user may
 *   always do what an anonymous caller may), each widened by what it implies (actions.ts);
 * - an API token narrows its owner to the repositories and images its targets cover and to its
 *   actions (never below what an anonymous caller may do).
 * `image` undefined asks about the repository as a whole: only targets covering every image in
 * it count.
 */
export class AccessPolicy {
  private readonly targets: CompiledTarget[];
  private readonly byName: Map<string, CompiledTarget>;

  constructor(targets: readonly PermissionTargetRecord[]) {
    this.targets = targets.map(compileTarget);
    this.byName = new Map(this.targets.map((t) => [t.name, t]));
  }

  allows(p: Principal, action: Action, repository: string, image?: string): boolean {
    return (this.actionsOn(p, repository, image) & bit(action)) !== 0;
  }

  /**
   * The check of reads through a virtual repository, one member at a time: read on the member
   * with the image name. A virtual repository is an address, never a grant, so this is asked of
   * the member that serves the content, with the principal's API token narrowing it there too.
   */
  memberReader(p: Principal): (member: { repository: { key: string }; image: string }) => boolean {
    return (member) => this.allows(p, 'read', member.repository.key, member.image);
  }

  /** Bit set (actions.ts) of what `p` may do on the image, or on the whole repository. */
  actionsOn(p: Principal, repository: string, image?: string): number {
    return this.evaluate(p, (t) => covers(t, repository, image));
  }

  /** Whether `p` may read at least one image of the repository (repository lists, catalog pre-filter). */
  readsSomethingIn(p: Principal, repository: string): boolean {
    return (this.evaluate(p, (t) => t.repositories.matches(repository)) & bit('read')) !== 0;
  }

  /** Own grants (narrowed by a token) plus what anyone may do, over the targets that apply. */
  private evaluate(p: Principal, applies: (t: CompiledTarget) => boolean): number {
    let own = 0;
    let anyone = 0;
    for (const t of this.targets) {
      if (!applies(t)) continue;
      anyone |= t.anonymous;
      if (!p.authenticated) continue;
      own |= t.users.get(p.name) ?? 0;
      for (const g of p.groups) own |= t.groups.get(g) ?? 0;
    }
    if (p.admin) own = ALL_ACTIONS;
    if (p.token) own &= this.tokenMask(p.token, applies);
    return own | anyone;
  }

  private tokenMask(token: NonNullable<Principal['token']>, applies: (t: CompiledTarget) => boolean): number {
    let mask = token.actions ? actionBits(token.actions) : ALL_ACTIONS;
    if (token.targets) {
      const inScope = token.targets.some((name) => {
        const t = this.byName.get(name);
        return t !== undefined && applies(t);
      });
      if (!inScope) mask = 0;
    }
    return mask;
  }
}

function covers(t: CompiledTarget, repository: string, image: string | undefined): boolean {
  if (!t.repositories.matches(repository)) return false;
  return image === undefined ? t.images.everything : t.images.matches(image);
}

function compileTarget(t: PermissionTargetRecord): CompiledTarget {
  const toBits = (grants: Record<string, Action[]>) =>
    new Map(Object.entries(grants).map(([who, actions]) => [who, actionBits(actions)]));
  return {
    name: t.name,
    repositories: compilePatterns(t.repositories),
    images: compilePatterns(t.images),
    users: toBits(t.grants.users),
    groups: toBits(t.grants.groups),
    anonymous: actionBits(t.grants.anonymous),
  };
}
