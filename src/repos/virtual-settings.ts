import type { RepositoryRecord } from '../meta/records.ts';

/** Settings of a virtual repository. */
export interface VirtualSettings {
  /** Repositories read in this order: the first that has a tag or digest answers. */
  members: string[];
  /** A local member that receives pushes made through the virtual repository. */
  deploymentRepository?: string;
}

/**
 * Checks a virtual repository's settings against the repositories that exist and returns them
 * normalised, or a list of problems, each a sentence a person can act on. `lookup` sees the
 * repositories as they will be, so a cycle through the repository being saved is found.
 */
export function checkVirtualSettings(
  key: string,
  raw: Record<string, unknown>,
  lookup: (key: string) => RepositoryRecord | undefined,
): { settings: VirtualSettings; problems: string[] } {
  const problems: string[] = [];
  const list: unknown = raw.members;
  const members =
    Array.isArray(list) && list.every((m) => typeof m === 'string') ? (list as string[]) : undefined;
  if (!members) {
    return { settings: { members: [] }, problems: ['settings.members must be a list of repository keys'] };
  }
  const unknown = members.filter((m) => m !== key && !lookup(m));
  if (unknown.length > 0)
    problems.push(`unknown member${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  const twice = members.filter((m, i) => members.indexOf(m) !== i);
  if (twice.length > 0) problems.push(`members listed twice: ${[...new Set(twice)].join(', ')}`);
  const cycle = findCycle(key, members, lookup);
  if (cycle) problems.push(`members form a cycle: ${cycle.join(' -> ')}`);
  const deployment = raw.deploymentRepository;
  if (deployment !== undefined && deployment !== null && deployment !== '') {
    if (typeof deployment !== 'string') {
      problems.push('settings.deploymentRepository must be a repository key');
    } else if (!members.includes(deployment) || lookup(deployment)?.kind !== 'local') {
      problems.push(`deployment repository ${deployment} must be a local repository listed in members`);
    }
  }
  const settings: VirtualSettings = { members };
  if (typeof deployment === 'string' && deployment !== '') settings.deploymentRepository = deployment;
  return { settings, problems };
}

/** The path of a cycle back to `key` through virtual members, if there is one. */
function findCycle(
  key: string,
  members: string[],
  lookup: (key: string) => RepositoryRecord | undefined,
): string[] | undefined {
  const walk = (current: string[], path: string[]): string[] | undefined => {
    for (const member of current) {
      if (member === key) return [...path, member];
      if (path.includes(member)) continue;
      const repo = lookup(member);
      if (repo?.kind !== 'virtual') continue;
      const found = walk(membersOf(repo), [...path, member]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(members, [key]);
}

export function membersOf(repo: RepositoryRecord): string[] {
  const members = repo.settings.members;
  return Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : [];
}

/**
 * The local and remote repositories behind a repository, in resolution order: itself when not
 * virtual; for a virtual one its members depth-first, each repository once (the first place wins).
 */
export function repositoriesBehind(
  repo: RepositoryRecord,
  lookup: (key: string) => RepositoryRecord | undefined,
): RepositoryRecord[] {
  const out: RepositoryRecord[] = [];
  const seen = new Set<string>();
  const visit = (r: RepositoryRecord) => {
    if (seen.has(r.key)) return;
    seen.add(r.key);
    if (r.kind !== 'virtual') out.push(r);
    if (r.kind !== 'virtual') return;
    for (const member of membersOf(r)) {
      const found = lookup(member);
      if (found) visit(found);
    }
  };
  visit(repo);
  return out;
}
