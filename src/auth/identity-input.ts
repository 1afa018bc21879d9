import { badRequest } from '../domain/errors.ts';
import { ACTIONS, type Action, type Grants, type PatternSet } from '../meta/identity-records.ts';
import { isAction, normaliseActions } from './actions.ts';
import { patternProblem } from './patterns.ts';

/**
 * Checks of what people send to create or change users, groups, permission targets and API
 * tokens. Each returns clean values or throws a 400 problem saying what to send instead.
 */

const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const RESERVED_NAMES = new Set(['anonymous', 'me']);

export function checkPrincipalName(kind: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw badRequest(
      `${kind} name ${JSON.stringify(value)} is invalid: use 1-64 lowercase letters, digits and . _ @ -, starting with a letter or digit`,
    );
  }
  if (RESERVED_NAMES.has(value)) throw badRequest(`${kind} name ${value} is reserved`);
  return value;
}

export function objectBody(body: unknown, example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`send a JSON object like ${example}`);
  }
  return body as Record<string, unknown>;
}

export function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  return value;
}

export function optionalBoolean(input: Record<string, unknown>, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${field} must be true or false`);
  return value;
}

export function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw badRequest(`${field} must be a list of strings`);
  }
  return [...new Set(value as string[])].sort();
}

export function actionList(value: unknown, field: string): Action[] {
  if (!Array.isArray(value)) throw badRequest(`${field} must be a list of actions (${ACTIONS.join(', ')})`);
  const bad = value.filter((a) => !isAction(a));
  if (bad.length > 0) {
    throw badRequest(
      `${field} has unknown actions ${bad.map((b) => JSON.stringify(b)).join(', ')}; actions are ${ACTIONS.join(', ')}`,
    );
  }
  return normaliseActions(value as Action[]);
}

/** A pattern set from `["a", "b-*"]` (include only) or `{include: [...], exclude: [...]}`. */
export function patternSet(value: unknown, field: string, fallback?: PatternSet): PatternSet {
  if (value === undefined && fallback) return fallback;
  const raw = Array.isArray(value) ? { include: value } : value;
  if (typeof raw !== 'object' || raw === null) {
    throw badRequest(`${field} must be a list of patterns or {"include": [...], "exclude": [...]}`);
  }
  const { include = [], exclude = [] } = raw as { include?: unknown; exclude?: unknown };
  const set = {
    include: stringList(include, `${field}.include`),
    exclude: stringList(exclude, `${field}.exclude`),
  };
  if (set.include.length === 0)
    throw badRequest(`${field}.include needs at least one pattern (use "*" for all)`);
  for (const p of [...set.include, ...set.exclude]) {
    const problem = patternProblem(p);
    if (problem) throw badRequest(`pattern ${JSON.stringify(p)} in ${field} ${problem}`);
  }
  return set;
}

/** `{users: {alice: ["read"]}, groups: {...}, anonymous: ["read"]}`; missing parts are empty. */
export function grants(input: Record<string, unknown>): Grants {
  const byName = (field: 'users' | 'groups'): Record<string, Action[]> => {
    const value = input[field] ?? {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw badRequest(`${field} must map names to lists of actions, like {"alice": ["read", "deploy"]}`);
    }
    const out: Record<string, Action[]> = {};
    for (const [name, actions] of Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const list = actionList(actions, `${field}.${name}`);
      if (list.length > 0) out[name] = list;
    }
    return out;
  };
  return {
    users: byName('users'),
    groups: byName('groups'),
    anonymous: input.anonymous === undefined ? [] : actionList(input.anonymous, 'anonymous'),
  };
}

/** Days until a new token expires; 0 for never. Default 90. */
export function expiryDays(value: unknown): number {
  if (value === undefined) return 90;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3650) {
    throw badRequest('expiresInDays must be a whole number of days from 0 (never) to 3650');
  }
  return value;
}
