import semver from 'semver';
import { globToRegExp } from '../auth/patterns.ts';

/**
 * Tag discipline of a repository, from its settings (`settings.tags`):
 * - `immutable`: rules for tags that, once set, never move. Named rules `semver` (X.Y.Z with an
 *   optional pre-release, `v` allowed) and `build` (`<branch>-<sha>-<timestamp>`), or glob
 *   patterns. Default: both named rules.
 * - `floating`: the server points `X.Y`, `X` and `latest` at the highest stable `X.Y.Z`.
 */
export interface TagRules {
  immutable: string[];
  floating: boolean;
}

export const DEFAULT_TAG_RULES: TagRules = { immutable: ['semver', 'build'], floating: false };

const NAMED: Record<string, RegExp> = {
  semver: /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/,
  build: /^[a-z0-9][a-z0-9._-]*-[0-9a-f]{7,40}-\d{8,14}$/,
};

/** Reads `settings.tags`, filling defaults; problems as sentences. */
export function checkTagRules(raw: unknown): { rules: TagRules; problems: string[] } {
  const problems: string[] = [];
  if (raw === undefined) return { rules: DEFAULT_TAG_RULES, problems };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      rules: DEFAULT_TAG_RULES,
      problems: ['tags must be an object like {"immutable": ["semver", "build"], "floating": true}'],
    };
  }
  const {
    immutable = DEFAULT_TAG_RULES.immutable,
    floating = false,
    ...rest
  } = raw as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.push(`tags.${key} is not a setting (use immutable, floating)`);
  if (!Array.isArray(immutable) || immutable.some((r) => typeof r !== 'string' || r === '')) {
    problems.push('tags.immutable must be a list of rule names (semver, build) or glob patterns');
  }
  if (typeof floating !== 'boolean') problems.push('tags.floating must be true or false');
  return {
    rules: {
      immutable: problems.length ? DEFAULT_TAG_RULES.immutable : (immutable as string[]),
      floating: floating === true,
    },
    problems,
  };
}

/** The rule that makes `tag` immutable, or undefined when it may move. */
export function immutableRule(rules: TagRules, tag: string): string | undefined {
  if (isFloating(tag)) return undefined;
  return rules.immutable.find((rule) => (NAMED[rule] ?? globToRegExp(rule)).test(tag));
}

/** `latest`, `X` and `X.Y`: the tags floating maintenance owns. */
export function isFloating(tag: string): boolean {
  return tag === 'latest' || /^v?\d+(\.\d+)?$/.test(tag);
}

/**
 * Where floating tags should point, given every tag of an image and its digest: for each line
 * `X.Y` and `X` the highest stable `X.Y.Z`, and `latest` the highest overall. Pre-releases never
 * count. A `v` prefix is kept on the floating tags of `v`-tags.
 */
export function floatingTargets(tags: ReadonlyMap<string, string>): Map<string, string> {
  const stable = [...tags.entries()]
    .filter(([tag]) => NAMED.semver?.test(tag) && semver.prerelease(tag.replace(/^v/, '')) === null)
    .map(([tag, digest]) => ({ tag, digest, version: semver.parse(tag.replace(/^v/, '')) as semver.SemVer }))
    .sort((a, b) => semver.compare(a.version, b.version));
  const targets = new Map<string, string>();
  for (const { tag, digest, version } of stable) {
    const prefix = tag.startsWith('v') ? 'v' : '';
    targets.set(`${prefix}${version.major}.${version.minor}`, digest);
    targets.set(`${prefix}${version.major}`, digest);
    targets.set('latest', digest);
  }
  return targets;
}
