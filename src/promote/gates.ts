import type { GateResult, Properties } from '../meta/promotion-records.ts';
import { CHECKS, type CheckName, type CheckResult } from './checklist.ts';

/**
 * Quality gates a target repository declares (`settings.gates`), all of which must pass for a
 * promotion into it:
 * - `{type: property, key, equals?}`: the property exists on the digest in the source (equal to
 *   `equals` when given);
 * - `{type: approval, group, notByPromoter?}`: a member of `group` approved the digest for this
 *   repository (and, with notByPromoter, someone other than the promoter);
 * - `{type: promotedFrom, repository}`: the digest is in `repository`, or was promoted into it;
 * - `{type: checklist, checks}`: none of these image checks fails;
 * - `{type: build, publishers?: {groups?, tokens?}}`: a recorded CI build produced the digest
 *   (with publishers: one published by a member of one of the groups, or through one of the
 *   API tokens, by id; group membership is the publisher's now, and only while the publisher is
 *   still the same user, by id).
 */
export type Gate =
  | { type: 'property'; key: string; equals?: string }
  | { type: 'approval'; group: string; notByPromoter?: boolean }
  | { type: 'promotedFrom'; repository: string }
  | { type: 'checklist'; checks: CheckName[] }
  | { type: 'build'; publishers?: BuildPublishers };

/** Who may have published a build for the build gate to count it. */
export interface BuildPublishers {
  groups: string[];
  /** API token ids. */
  tokens: string[];
}

/** A recorded build of the digest, as the build gate sees it. */
export interface BuildFact {
  /** `name #number`. */
  label: string;
  publisher: string;
  /** The publisher's groups now; empty when that user was deleted (even if the name is reused). */
  publisherGroups: readonly string[];
  token: { id: string; name: string } | null;
}

/** What gate evaluation reads; lazily, so a dry run with no checklist gate reads no config. */
export interface GateFacts {
  digest: string;
  target: string;
  promoter: string;
  properties(): Promise<Properties>;
  approvals(): Promise<{ approver: string; at: string }[]>;
  groupsOf(user: string): readonly string[];
  /** Repositories holding the digest now, or that it was promoted into. */
  reached(): Promise<Set<string>>;
  checklist(): Promise<CheckResult[]>;
  builds(): Promise<BuildFact[]>;
}

export function checkGates(raw: unknown): { gates: Gate[]; problems: string[] } {
  if (raw === undefined) return { gates: [], problems: [] };
  if (!Array.isArray(raw))
    return {
      gates: [],
      problems: ['gates must be a list like [{"type": "property", "key": "qa.status", "equals": "passed"}]'],
    };
  const gates: Gate[] = [];
  const problems: string[] = [];
  /** Adds the gate, or what is wrong with it. */
  const check = (g: unknown, i: number) => {
    const at = `gates[${i}]`;
    if (typeof g !== 'object' || g === null) return problems.push(`${at} must be an object with a type`);
    const gate = g as Record<string, unknown>;
    const str = (k: string) => typeof gate[k] === 'string' && gate[k] !== '';
    switch (gate.type) {
      case 'property':
        if (!str('key')) return problems.push(`${at}: a property gate needs "key"`);
        if (gate.equals !== undefined && typeof gate.equals !== 'string')
          return problems.push(`${at}.equals must be a string`);
        return gates.push({
          type: 'property',
          key: gate.key as string,
          ...(gate.equals === undefined ? {} : { equals: gate.equals as string }),
        });
      case 'approval':
        if (!str('group'))
          return problems.push(`${at}: an approval gate needs "group" (whose members may approve)`);
        return gates.push({
          type: 'approval',
          group: gate.group as string,
          notByPromoter: gate.notByPromoter === true,
        });
      case 'promotedFrom':
        if (!str('repository')) return problems.push(`${at}: a promotedFrom gate needs "repository"`);
        return gates.push({ type: 'promotedFrom', repository: gate.repository as string });
      case 'checklist': {
        const checks = gate.checks ?? [...CHECKS];
        const unknown = Array.isArray(checks)
          ? checks.filter((c) => !(CHECKS as readonly unknown[]).includes(c))
          : [checks];
        if (!Array.isArray(checks) || unknown.length > 0) {
          return problems.push(
            `${at}.checks has unknown checks ${JSON.stringify(unknown)}; checks are ${CHECKS.join(', ')}`,
          );
        }
        return gates.push({ type: 'checklist', checks: checks as CheckName[] });
      }
      case 'build': {
        if (gate.publishers === undefined) return gates.push({ type: 'build' });
        const publishers = buildPublishers(gate.publishers);
        if (typeof publishers === 'string') return problems.push(`${at}.publishers ${publishers}`);
        return gates.push({ type: 'build', publishers });
      }
      default:
        return problems.push(
          `${at}.type must be property, approval, promotedFrom, checklist or build; got ${JSON.stringify(gate.type)}`,
        );
    }
  };
  for (const [i, g] of raw.entries()) check(g, i);
  return { gates, problems };
}

export function describeGate(gate: Gate): string {
  switch (gate.type) {
    case 'property':
      return gate.equals === undefined
        ? `property ${gate.key} exists`
        : `property ${gate.key} = ${gate.equals}`;
    case 'approval':
      return `approval by a member of ${gate.group}${gate.notByPromoter ? ' other than the promoter' : ''}`;
    case 'promotedFrom':
      return `promoted from ${gate.repository}`;
    case 'checklist':
      return `checklist: ${gate.checks.join(', ')}`;
    case 'build':
      return gate.publishers
        ? `built by a recorded CI build published by ${describePublishers(gate.publishers)}`
        : 'built by a recorded CI build';
  }
}

function describePublishers(p: BuildPublishers): string {
  const parts = [
    ...(p.groups.length > 0 ? [`a member of ${p.groups.join(' or ')}`] : []),
    ...(p.tokens.length > 0 ? [`API token ${p.tokens.join(' or ')}`] : []),
  ];
  return parts.join(' or ');
}

/** `{groups?: [...], tokens?: [...]}` with at least one entry, or what is wrong with it. */
function buildPublishers(raw: unknown): BuildPublishers | string {
  const example = 'must be like {"groups": ["ci"], "tokens": ["<API token id>"]}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return example;
  const input = raw as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => k !== 'groups' && k !== 'tokens');
  if (unknown.length > 0) return `has unknown fields ${unknown.join(', ')}; ${example}`;
  const list = (v: unknown) =>
    v === undefined
      ? []
      : Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '')
        ? v
        : undefined;
  const groups = list(input.groups);
  const tokens = list(input.tokens);
  if (!groups || !tokens) return `groups and tokens must be lists of names; ${example}`;
  if (groups.length + tokens.length === 0) return `names no group and no token; ${example}`;
  return { groups, tokens };
}

function publishedAsRequired(b: BuildFact, p: BuildPublishers): boolean {
  return (
    p.groups.some((g) => b.publisherGroups.includes(g)) || (b.token !== null && p.tokens.includes(b.token.id))
  );
}

export async function evaluateGates(gates: readonly Gate[], facts: GateFacts): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const gate of gates) {
    const [passed, reason, approvers] = await evaluate(gate, facts);
    results.push({
      gate: describeGate(gate),
      type: gate.type,
      passed,
      reason,
      ...(approvers ? { approvers } : {}),
    });
  }
  return results;
}

async function evaluate(gate: Gate, facts: GateFacts): Promise<[boolean, string, string[]?]> {
  const short = facts.digest.slice(0, 19);
  switch (gate.type) {
    case 'property': {
      const values = (await facts.properties())[gate.key];
      if (!values || values.length === 0)
        return [false, `property ${gate.key} is not set; set it with gantry props set`];
      if (gate.equals === undefined || values.includes(gate.equals))
        return [true, `property ${gate.key} is ${quote(values)}`];
      return [false, `property ${gate.key} is ${quote(values)}, gate wants "${gate.equals}"`];
    }
    case 'approval': {
      const approvals = await facts.approvals();
      const approvers = approvals.map((a) => a.approver).sort();
      const valid = approvals.filter(
        (a) =>
          facts.groupsOf(a.approver).includes(gate.group) &&
          !(gate.notByPromoter && a.approver === facts.promoter),
      );
      if (valid.length > 0)
        return [true, `approved by ${valid.map((a) => a.approver).join(', ')}`, approvers];
      const others = approvals.map((a) => a.approver);
      const why = others.length > 0 ? ` (approvals by ${others.join(', ')} do not count)` : '';
      return [
        false,
        `no approval of ${short}… for ${facts.target} by a member of ${gate.group}${gate.notByPromoter ? ' other than the promoter' : ''}${why}; ask one to run gantry approve`,
        approvers,
      ];
    }
    case 'promotedFrom': {
      const reached = await facts.reached();
      if (reached.has(gate.repository)) return [true, `${short}… has been in ${gate.repository}`];
      return [false, `${short}… has never been in ${gate.repository}; promote it there first`];
    }
    case 'checklist': {
      const results = await facts.checklist();
      const failed = results.filter((r) => gate.checks.includes(r.check) && r.status === 'fail');
      if (failed.length === 0) return [true, `checks pass: ${gate.checks.join(', ')}`];
      return [false, failed.map((r) => `${r.check}: ${r.reason}`).join('; ')];
    }
    case 'build': {
      const builds = await facts.builds();
      const who = (b: BuildFact) =>
        `${b.label} (published by ${b.publisher}${b.token ? ` through API token ${b.token.name}` : ''})`;
      const required = gate.publishers;
      const counted = required ? builds.filter((b) => publishedAsRequired(b, required)) : builds;
      if (counted.length > 0) return [true, `built by ${counted.map(who).join(', ')}`];
      if (required && builds.length > 0)
        return [
          false,
          `${builds.map(who).join(', ')} do not count: this gate wants builds published by ${describePublishers(required)}`,
        ];
      return [
        false,
        `no recorded CI build produced ${short}…; publish build info from CI (gantry build publish)`,
      ];
    }
  }
}

function quote(values: string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}
