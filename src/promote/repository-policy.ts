import { checkQuota, checkRetention } from '../lifecycle/lifecycle-settings.ts';
import type { RepositoryRecord } from '../meta/records.ts';
import { type ChecklistLimits, DEFAULT_LIMITS } from './checklist.ts';
import { checkGates, type Gate } from './gates.ts';
import { checkTagRules, type TagRules } from './tag-rules.ts';

/**
 * What a local repository's settings say about promotion: tag rules, gates, checklist limits
 * and whether properties travel with promoted images. Validated when the repository is created
 * or changed (checkLocalSettings), read with defaults everywhere else (policyOf).
 */
export interface RepositoryPolicy {
  tags: TagRules;
  gates: Gate[];
  limits: ChecklistLimits;
  copyProperties: boolean;
  /** How content may arrive: 'any' (pushes and promotions) or 'promotion-only' (see writesOf). */
  writes: WritePolicy;
}

export type WritePolicy = 'any' | 'promotion-only';
const WRITE_POLICIES: readonly WritePolicy[] = ['any', 'promotion-only'];

const KNOWN = new Set(['tags', 'gates', 'checklist', 'promotion', 'writes', 'retention', 'quota', 'gc']);

export function checkLocalSettings(raw: Record<string, unknown>): {
  settings: Record<string, unknown>;
  problems: string[];
} {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key))
      problems.push(
        `${key} is not a setting of local repositories (use tags, gates, checklist, promotion, writes, retention, quota, gc)`,
      );
  }
  problems.push(...checkTagRules(raw.tags).problems, ...checkGates(raw.gates).problems);
  // Lifecycle settings (lifecycle/lifecycle-settings.ts): retention rules and the storage quota.
  problems.push(...checkRetention(raw.retention), ...checkQuota(raw.quota));
  const checklist = raw.checklist as Record<string, unknown> | undefined;
  if (checklist !== undefined) {
    if (typeof checklist !== 'object' || checklist === null)
      problems.push('checklist must be an object like {"maxLayers": 50}');
    else
      for (const k of ['maxLayers', 'maxSizeBytes']) {
        const v = checklist[k];
        if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v <= 0))
          problems.push(`checklist.${k} must be a positive whole number`);
      }
  }
  const promotion = raw.promotion as Record<string, unknown> | undefined;
  if (
    promotion !== undefined &&
    (typeof promotion !== 'object' ||
      promotion === null ||
      (promotion.copyProperties !== undefined && typeof promotion.copyProperties !== 'boolean'))
  ) {
    problems.push('promotion must be an object like {"copyProperties": true}');
  }
  const gc = raw.gc as Record<string, unknown> | undefined;
  if (
    gc !== undefined &&
    (typeof gc !== 'object' ||
      gc === null ||
      Object.keys(gc).some((k) => k !== 'untaggedManifests') ||
      (gc.untaggedManifests !== undefined && typeof gc.untaggedManifests !== 'boolean'))
  ) {
    problems.push(
      'gc must be an object like {"untaggedManifests": true} (garbage collection removes manifests no tag reaches)',
    );
  }
  if (raw.writes !== undefined && !WRITE_POLICIES.includes(raw.writes as WritePolicy)) {
    problems.push(
      `writes must be "any" (pushes and promotions) or "promotion-only" (content arrives only by promotion); got ${JSON.stringify(raw.writes)}`,
    );
  }
  return { settings: raw, problems };
}

export function policyOf(repo: RepositoryRecord): RepositoryPolicy {
  const s = repo.settings;
  const checklist = (s.checklist ?? {}) as Partial<ChecklistLimits>;
  const promotion = (s.promotion ?? {}) as { copyProperties?: boolean };
  return {
    tags: checkTagRules(s.tags).rules,
    gates: checkGates(s.gates).gates,
    limits: { ...DEFAULT_LIMITS, ...checklist },
    copyProperties: promotion.copyProperties ?? true,
    writes: writesOf(repo),
  };
}

/**
 * The write policy of a repository. Under 'promotion-only' content arrives only by promotion:
 * pushes, manifest PUTs, blob uploads and mounts are refused for every caller, administrators
 * included (registry/access-control.ts). Deleting stays with `delete` holders: removing content
 * is not content arriving. Only local repositories have the setting; writes through a virtual
 * one are judged at its deployment repository.
 */
export function writesOf(repo: RepositoryRecord): WritePolicy {
  return repo.kind === 'local' && repo.settings.writes === 'promotion-only' ? 'promotion-only' : 'any';
}
