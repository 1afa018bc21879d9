import { CronExpressionParser } from 'cron-parser';
import { globToRegExp, patternProblem } from '../auth/patterns.ts';
import type { RepositoryRecord } from '../meta/records.ts';

/**
 * The lifecycle settings of a local repository, validated with the rest of its settings
 * (promote/repository-policy.ts) and read with defaults everywhere else:
 *
 * - `retention: {schedule?: cron, rules: [...]}`. Keep rules say what stays; remove rules say
 *   what goes; "keep if any keep rule matches". Rules, by their first field:
 *   - `{"keep": "last", "count": N, "tags"?: glob, "order"?: "pushed" | "semver"}`: the N newest
 *     tags matching the glob (by when the tag last moved, or by semantic version);
 *   - `{"keep": "newer", "days": D, "tags"?: glob}`: tags moved within the last D days;
 *   - `{"remove": "untagged", "days": D}`: manifests that no tag, index or referrer subject
 *     reaches (after the tag decisions) and that were pushed more than D days ago;
 *   - `{"remove": "not-pulled", "days": D}`: images (their tags and manifest) not pulled for
 *     D days (the push counts as a pull).
 *   With at least one keep rule, tags that no keep rule keeps go. Any rule may say
 *   `"immutable": true` to let it remove immutable tags; without it they always stay.
 * - `quota: {bytes, warnAt?}`: at most `bytes` of unique blobs; `warnAt` (0–1, default 0.8) is
 *   the share of the limit from which the usage report and the UI warn.
 */
export interface RetentionSettings {
  schedule?: string;
  rules: RetentionRule[];
}

export type RetentionRule =
  | { keep: 'last'; count: number; tags?: string; order: 'pushed' | 'semver'; immutable?: boolean }
  | { keep: 'newer'; days: number; tags?: string; immutable?: boolean }
  | { remove: 'untagged'; days: number; immutable?: boolean }
  | { remove: 'not-pulled'; days: number; immutable?: boolean };

export interface QuotaSettings {
  bytes: number;
  warnAt: number;
}

export const DEFAULT_WARN_AT = 0.8;

const EXAMPLE =
  '{"rules": [{"keep": "last", "count": 10, "tags": "*"}, {"remove": "untagged", "days": 7}], "schedule": "0 3 * * *"}';

/** Problems with `settings.retention`, as sentences; empty when absent or fine. */
export function checkRetention(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return [`retention must be an object like ${EXAMPLE}`];
  const { schedule, rules, ...rest } = raw as Record<string, unknown>;
  const problems = Object.keys(rest).map((k) => `retention.${k} is not a setting (use rules, schedule)`);
  if (schedule !== undefined) {
    const problem = scheduleProblem(schedule);
    if (problem) problems.push(`retention.schedule ${problem}`);
  }
  if (!Array.isArray(rules)) {
    problems.push(`retention.rules must be a list of rules, like ${EXAMPLE}`);
    return problems;
  }
  if (rules.length > 50) problems.push('retention.rules may hold at most 50 rules');
  rules.forEach((rule, i) => {
    problems.push(...ruleProblems(rule).map((p) => `retention.rules[${i}] ${p}`));
  });
  return problems;
}

/** Why a cron expression is unusable, or undefined. Five fields (minute precision) only. */
export function scheduleProblem(schedule: unknown): string | undefined {
  const hint = 'must be a cron expression of five fields (minute hour day month weekday), like "0 3 * * *"';
  if (typeof schedule !== 'string' || schedule.trim().split(/\s+/).length !== 5) return hint;
  try {
    CronExpressionParser.parse(schedule);
    return undefined;
  } catch (e) {
    return `${hint}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function ruleProblems(rule: unknown): string[] {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    return ['must be an object like {"keep": "last", "count": 10} or {"remove": "untagged", "days": 7}'];
  const r = rule as Record<string, unknown>;
  const problems: string[] = [];
  const allowed = (fields: string[]) => {
    for (const k of Object.keys(r))
      if (!fields.includes(k)) problems.push(`${k} is not a field of this rule (use ${fields.join(', ')})`);
  };
  const days = () => {
    if (typeof r.days !== 'number' || !Number.isFinite(r.days) || r.days < 0 || r.days > 36500)
      problems.push('days must be a number of days from 0 to 36500');
  };
  const tags = () => {
    if (r.tags === undefined) return;
    const problem = patternProblem(r.tags);
    if (problem) problems.push(`tags (a glob like "v*") ${problem}`);
  };
  if (r.immutable !== undefined && typeof r.immutable !== 'boolean')
    problems.push('immutable must be true (the rule may remove immutable tags) or false');
  if (r.keep === 'last') {
    allowed(['keep', 'count', 'tags', 'order', 'immutable']);
    if (typeof r.count !== 'number' || !Number.isInteger(r.count) || r.count < 0 || r.count > 100_000)
      problems.push('count must be a whole number of tags from 0 to 100000');
    if (r.order !== undefined && r.order !== 'pushed' && r.order !== 'semver')
      problems.push('order must be "pushed" (newest tag move first) or "semver" (highest version first)');
    tags();
  } else if (r.keep === 'newer') {
    allowed(['keep', 'days', 'tags', 'immutable']);
    days();
    tags();
  } else if (r.remove === 'untagged' || r.remove === 'not-pulled') {
    allowed(['remove', 'days', 'immutable']);
    days();
  } else if (r.keep !== undefined) {
    problems.push(`keep must be "last" or "newer"; got ${JSON.stringify(r.keep)}`);
  } else if (r.remove !== undefined) {
    problems.push(`remove must be "untagged" or "not-pulled"; got ${JSON.stringify(r.remove)}`);
  } else {
    problems.push('needs "keep" ("last", "newer") or "remove" ("untagged", "not-pulled")');
  }
  return problems;
}

/** Problems with `settings.quota`, as sentences. */
export function checkQuota(raw: unknown): string[] {
  if (raw === undefined) return [];
  const example = '{"bytes": 10737418240, "warnAt": 0.8}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return [`quota must be an object like ${example}`];
  const { bytes, warnAt, ...rest } = raw as Record<string, unknown>;
  const problems = Object.keys(rest).map((k) => `quota.${k} is not a setting (use bytes, warnAt)`);
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0)
    problems.push(`quota.bytes must be a whole number of bytes (e.g. ${example})`);
  if (warnAt !== undefined && (typeof warnAt !== 'number' || !(warnAt > 0 && warnAt <= 1)))
    problems.push('quota.warnAt must be a share of the limit above 0 and at most 1 (e.g. 0.8)');
  return problems;
}

/** The repository's retention settings (local repositories only), or undefined when none. */
export function retentionOf(repo: RepositoryRecord): RetentionSettings | undefined {
  const raw = repo.settings.retention;
  if (repo.kind !== 'local' || raw === undefined || checkRetention(raw).length > 0) return undefined;
  const { schedule, rules } = raw as { schedule?: string; rules: Record<string, unknown>[] };
  return {
    ...(schedule === undefined ? {} : { schedule }),
    rules: rules.map((r) => (r.keep === 'last' ? { order: 'pushed', ...r } : r) as RetentionRule),
  };
}

/** The repository's quota (local repositories only), or undefined when none. */
export function quotaOf(repo: RepositoryRecord): QuotaSettings | undefined {
  const raw = repo.settings.quota;
  if (repo.kind !== 'local' || raw === undefined || checkQuota(raw).length > 0) return undefined;
  const q = raw as { bytes: number; warnAt?: number };
  return { bytes: q.bytes, warnAt: q.warnAt ?? DEFAULT_WARN_AT };
}

/** A tag glob as a test; absent matches every tag. */
export function tagMatcher(glob: string | undefined): (tag: string) => boolean {
  if (glob === undefined) return () => true;
  const re = globToRegExp(glob);
  return (tag) => re.test(tag);
}

/** A readable name for a rule, used as the reason of each decision. */
export function describeRule(rule: RetentionRule): string {
  const imm = rule.immutable ? ', immutable too' : '';
  if ('keep' in rule) {
    const tags = rule.tags === undefined ? '' : ` matching ${rule.tags}`;
    return rule.keep === 'last'
      ? `keep last ${rule.count} tags${tags} by ${rule.order === 'semver' ? 'version' : 'push time'}${imm}`
      : `keep tags${tags} newer than ${rule.days} days${imm}`;
  }
  return rule.remove === 'untagged'
    ? `remove untagged manifests older than ${rule.days} days${imm}`
    : `remove images not pulled for ${rule.days} days${imm}`;
}
