import { ACTIONS } from '../../../../src/meta/identity-records.ts';
import type { Target } from './shared';

/**
 * A permission target as a form: who may do what on which repositories and images, with
 * validation messages next to each field; "View as JSON" switches to the raw document for power
 * users (and back, when it parses). The server validates again and has the last word.
 */

/** One grant row: a user, a group or anonymous callers, and the actions given. */
interface Grant {
  id: number;
  kind: 'user' | 'group' | 'anonymous';
  who: string;
  actions: string[];
}

export interface TargetDraft {
  name: string;
  description: string;
  repoInclude: string;
  repoExclude: string;
  imageInclude: string;
  imageExclude: string;
  grants: Grant[];
}

let grantId = 0;
const patterns = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The server's rule for user, group and target names (identity-input.ts). */
const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export function draftOf(t: Target): TargetDraft {
  const grants: Grant[] = [
    ...Object.entries(t.users ?? {}).map(([who, actions]) => ({
      id: ++grantId,
      kind: 'user' as const,
      who,
      actions,
    })),
    ...Object.entries(t.groups ?? {}).map(([who, actions]) => ({
      id: ++grantId,
      kind: 'group' as const,
      who,
      actions,
    })),
    ...((t.anonymous ?? []).length
      ? [{ id: ++grantId, kind: 'anonymous' as const, who: '', actions: t.anonymous }]
      : []),
  ];
  return {
    name: t.name ?? '',
    description: t.description ?? '',
    repoInclude: (t.repositories?.include ?? []).join(', '),
    repoExclude: (t.repositories?.exclude ?? []).join(', '),
    imageInclude: (t.images?.include ?? []).join(', '),
    imageExclude: (t.images?.exclude ?? []).join(', '),
    grants,
  };
}

export function bodyOf(d: TargetDraft): Target {
  const users: Record<string, string[]> = {};
  const groups: Record<string, string[]> = {};
  let anonymous: string[] = [];
  for (const g of d.grants) {
    if (g.kind === 'anonymous') anonymous = [...new Set([...anonymous, ...g.actions])];
    else (g.kind === 'user' ? users : groups)[g.who.trim()] = g.actions;
  }
  return {
    name: d.name.trim(),
    description: d.description.trim(),
    repositories: { include: patterns(d.repoInclude), exclude: patterns(d.repoExclude) },
    images: { include: patterns(d.imageInclude), exclude: patterns(d.imageExclude) },
    users,
    groups,
    anonymous,
  };
}

/** Field → what is wrong with it; empty when the draft may be sent. */
export function problemsOf(d: TargetDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (!NAME.test(d.name.trim()))
    out.name = 'Use 1-64 lowercase letters, digits and . _ @ -, starting with a letter or digit.';
  if (patterns(d.repoInclude).length === 0)
    out.repoInclude = 'Name at least one repository or pattern (docker-*-local, or ** for every one).';
  if (patterns(d.imageInclude).length === 0)
    out.imageInclude = 'Name at least one image pattern (** for every image).';
  const seen = new Set<string>();
  for (const g of d.grants) {
    if (g.kind !== 'anonymous' && !NAME.test(g.who.trim()))
      out[`who-${g.id}`] = `Name the ${g.kind} (lowercase letters, digits and . _ @ -).`;
    const key = `${g.kind}:${g.who.trim()}`;
    if (g.kind !== 'anonymous' && seen.has(key)) out[`who-${g.id}`] = `${g.who} has a grant above already.`;
    seen.add(key);
    if (g.actions.length === 0) out[`actions-${g.id}`] = 'Choose at least one action.';
  }
  return out;
}

/** A message under a field, referenced by the field's aria-describedby. */
function Problem({ id, text }: { id: string; text: string | undefined }) {
  return text ? (
    <small id={id} class="field-error" data-testid="field-error">
      {text}
    </small>
  ) : null;
}

export function TargetForm({
  draft,
  onChange,
  problems,
  nameFixed,
}: {
  draft: TargetDraft;
  onChange(d: TargetDraft): void;
  problems: Record<string, string>;
  nameFixed: boolean;
}) {
  const set = (change: Partial<TargetDraft>) => onChange({ ...draft, ...change });
  const setGrant = (id: number, change: Partial<Grant>) =>
    set({ grants: draft.grants.map((g) => (g.id === id ? { ...g, ...change } : g)) });
  const text = (field: keyof TargetDraft & string, label: string, hint?: string) => (
    <div class="field">
      <label for={`target-${field}`}>{label}</label>
      <input
        id={`target-${field}`}
        value={draft[field] as string}
        disabled={field === 'name' && nameFixed}
        aria-invalid={problems[field] ? true : undefined}
        aria-describedby={
          problems[field] ? `target-${field}-problem` : hint ? `target-${field}-hint` : undefined
        }
        onInput={(e) => set({ [field]: e.currentTarget.value })}
      />
      {hint && !problems[field] && <small id={`target-${field}-hint`}>{hint}</small>}
      <Problem id={`target-${field}-problem`} text={problems[field]} />
    </div>
  );
  return (
    <div class="stack">
      {text('name', 'Name')}
      {text('description', 'Description')}
      {text('repoInclude', 'Repositories', 'Keys or patterns, separated by commas: docker-*-local, docker')}
      {text('repoExclude', 'Except repositories')}
      {text('imageInclude', 'Images', 'Patterns: team-a/** (any depth), team-a/* (one level), ** for all')}
      {text('imageExclude', 'Except images')}
      <fieldset class="grants">
        <legend>Grants</legend>
        <p class="muted small-text">
          Each action brings the ones before it (read, annotate, deploy, delete, promote, publish, manage).
        </p>
        {draft.grants.map((g, i) => (
          <fieldset key={g.id} class="grant-row" data-testid="grant-row">
            <legend class="visually-hidden">Grant {i + 1}</legend>
            <div class="field">
              <label for={`grant-kind-${g.id}`}>To</label>
              <select
                id={`grant-kind-${g.id}`}
                value={g.kind}
                onChange={(e) => setGrant(g.id, { kind: e.currentTarget.value as Grant['kind'] })}
              >
                <option value="group">group</option>
                <option value="user">user</option>
                <option value="anonymous">anonymous callers</option>
              </select>
            </div>
            {g.kind !== 'anonymous' && (
              <div class="field">
                <label for={`grant-who-${g.id}`}>{g.kind === 'user' ? 'User' : 'Group'}</label>
                <input
                  id={`grant-who-${g.id}`}
                  value={g.who}
                  aria-invalid={problems[`who-${g.id}`] ? true : undefined}
                  aria-describedby={problems[`who-${g.id}`] ? `grant-who-${g.id}-problem` : undefined}
                  onInput={(e) => setGrant(g.id, { who: e.currentTarget.value })}
                />
                <Problem id={`grant-who-${g.id}-problem`} text={problems[`who-${g.id}`]} />
              </div>
            )}
            <fieldset
              class="field inline"
              aria-describedby={problems[`actions-${g.id}`] ? `grant-actions-${g.id}-problem` : undefined}
            >
              <legend>Actions</legend>
              {ACTIONS.map((a) => (
                <label key={a}>
                  <input
                    type="checkbox"
                    checked={g.actions.includes(a)}
                    onChange={(e) =>
                      setGrant(g.id, {
                        actions: e.currentTarget.checked
                          ? ACTIONS.filter((x) => x === a || g.actions.includes(x))
                          : g.actions.filter((x) => x !== a),
                      })
                    }
                  />{' '}
                  {a}
                </label>
              ))}
              <Problem id={`grant-actions-${g.id}-problem`} text={problems[`actions-${g.id}`]} />
            </fieldset>
            <button
              type="button"
              class="secondary small"
              onClick={() => set({ grants: draft.grants.filter((x) => x.id !== g.id) })}
            >
              Remove grant {i + 1}
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          class="secondary small"
          onClick={() =>
            set({ grants: [...draft.grants, { id: ++grantId, kind: 'group', who: '', actions: ['read'] }] })
          }
        >
          Add a grant
        </button>
      </fieldset>
    </div>
  );
}
