import type { PatternSet } from '../meta/identity-records.ts';

/**
 * Include/exclude glob patterns over repository keys and image names. `*` (or `**`) matches any
 * run of characters, `/` included; `?` matches one character; everything else is literal.
 * A name matches a set when some include matches and no exclude does.
 */
export interface CompiledPatterns {
  matches(name: string): boolean;
  /** True when the set matches every name (include `*`, no excludes): lets callers skip work. */
  readonly everything: boolean;
}

export function compilePatterns(set: PatternSet): CompiledPatterns {
  const include = set.include.map(globToRegExp);
  const exclude = set.exclude.map(globToRegExp);
  const everything = exclude.length === 0 && set.include.some((p) => /^\*+$/.test(p));
  return {
    everything,
    matches: (name) => include.some((r) => r.test(name)) && !exclude.some((r) => r.test(name)),
  };
}

export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      while (pattern[i + 1] === '*') i++;
      source += '.*';
    } else if (c === '?') source += '.';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Why a pattern is unusable, or undefined when it is fine. */
export function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern === '') return 'must be a non-empty string';
  if (pattern.length > 256) return 'must be at most 256 characters';
  if (/[\s,]/.test(pattern)) return 'must not contain spaces or commas';
  return undefined;
}
