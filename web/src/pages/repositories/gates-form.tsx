import { useState } from 'preact/hooks';

/**
 * A repository's gates as a form over the JSON list the server takes (`settings.gates`): one
 * row per gate with the fields its type needs and a message where one is missing; settings the
 * form has no field for (a checklist's checks, a build gate's publishers) are kept as they are.
 * "View as JSON" edits the text itself. The server validates again and has the last word.
 */

type GateJson = Record<string, unknown> & { type?: unknown };

const TYPES = [
  ['property', 'a property is set'],
  ['approval', 'an approval'],
  ['promotedFrom', 'promoted from a stage'],
  ['checklist', 'the image checklist passes'],
  ['build', 'built by CI'],
] as const;

/** What each gate needs before it can be saved, as "Gate n: …" sentences. */
export function gateProblems(gates: readonly GateJson[]): string[] {
  const out: string[] = [];
  gates.forEach((g, i) => {
    const at = `Gate ${i + 1}`;
    const blank = (v: unknown) => typeof v !== 'string' || v.trim() === '';
    if (g.type === 'property' && blank(g.key)) out.push(`${at}: name the property (key), e.g. qa.status.`);
    if (g.type === 'approval' && blank(g.group)) out.push(`${at}: name the group whose members approve.`);
    if (g.type === 'promotedFrom' && blank(g.repository))
      out.push(`${at}: name the repository the digest must come from.`);
  });
  return out;
}

/** The gates in `text`, or why they cannot be read as a list. */
export function parseGates(text: string): { gates: GateJson[]; error?: string } {
  if (!text.trim()) return { gates: [] };
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return { gates: [], error: 'gates must be a JSON list' };
    return { gates: v as GateJson[] };
  } catch (e) {
    return { gates: [], error: (e as Error).message };
  }
}

export function GatesEditor({ value, onValue }: { value: string; onValue(v: string): void }) {
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const { gates, error } = parseGates(value);
  const json = mode === 'json' || error !== undefined;
  const problems = gateProblems(gates);
  const write = (next: GateJson[]) => onValue(next.length ? JSON.stringify(next, null, 2) : '');
  const change = (i: number, patch: GateJson) =>
    write(
      gates.map((g, j) =>
        j === i
          ? Object.fromEntries(Object.entries({ ...g, ...patch }).filter(([, v]) => v !== undefined))
          : g,
      ),
    );
  const field = (i: number, g: GateJson, name: string, label: string) => {
    const missing = problems.some((p) => p.startsWith(`Gate ${i + 1}:`));
    return (
      <div class="field">
        <label for={`gate-${i}-${name}`}>{label}</label>
        <input
          id={`gate-${i}-${name}`}
          value={typeof g[name] === 'string' ? (g[name] as string) : ''}
          aria-invalid={missing && name !== 'equals' ? true : undefined}
          onInput={(e) => change(i, { [name]: e.currentTarget.value || undefined })}
        />
      </div>
    );
  };
  return (
    <fieldset class="field grants" data-testid="gates">
      <legend>Gates (all must pass for a promotion into this repository)</legend>
      <p>
        <button
          type="button"
          class="secondary small"
          aria-pressed={json}
          disabled={error !== undefined}
          onClick={() => setMode(json ? 'form' : 'json')}
        >
          {json ? 'Edit as form' : 'View as JSON'}
        </button>
      </p>
      {json ? (
        <>
          <label for="repo-gates">Gates (JSON)</label>
          <textarea
            id="repo-gates"
            rows={6}
            spellcheck={false}
            value={value}
            aria-invalid={error ? true : undefined}
            aria-describedby="repo-gates-hint"
            onInput={(e) => onValue(e.currentTarget.value)}
          />
          <small id="repo-gates-hint" class={error ? 'field-error' : undefined}>
            {error
              ? `Not a list of gates (${error}); fix it here to edit the gates as a form.`
              : 'A list of gates, all must pass: property, approval, promotedFrom, checklist, build. Empty: no gates.'}
          </small>
        </>
      ) : (
        <>
          {gates.length === 0 && <p class="muted">No gates: anything may be promoted here.</p>}
          {gates.map((g, i) => (
            <fieldset class="grant-row" key={i} data-testid="gate-row">
              <legend class="visually-hidden">Gate {i + 1}</legend>
              <div class="field">
                <label for={`gate-${i}-type`}>Gate {i + 1}: passes when</label>
                <select
                  id={`gate-${i}-type`}
                  value={String(g.type)}
                  onChange={(e) => {
                    const next = [...gates];
                    next[i] = { type: e.currentTarget.value };
                    write(next);
                  }}
                >
                  {TYPES.map(([t, text]) => (
                    <option key={t} value={t}>
                      {text}
                    </option>
                  ))}
                </select>
              </div>
              {g.type === 'property' && (
                <>
                  {field(i, g, 'key', 'Property')}
                  {field(i, g, 'equals', 'Equal to (empty: whatever value)')}
                </>
              )}
              {g.type === 'approval' && (
                <>
                  {field(i, g, 'group', 'Approved by a member of')}
                  <label>
                    <input
                      type="checkbox"
                      checked={g.notByPromoter === true}
                      onChange={(e) => change(i, { notByPromoter: e.currentTarget.checked || undefined })}
                    />{' '}
                    not by the promoter
                  </label>
                </>
              )}
              {g.type === 'promotedFrom' && field(i, g, 'repository', 'Repository')}
              {g.type === 'checklist' && (
                <p class="muted small-text">
                  {Array.isArray(g.checks)
                    ? `Checks: ${(g.checks as string[]).join(', ')}`
                    : 'Every image check.'}
                </p>
              )}
              {g.type === 'build' && (
                <p class="muted small-text">
                  {g.publishers
                    ? 'Published by the publishers set in the JSON view.'
                    : 'Any recorded CI build.'}
                </p>
              )}
              {problems
                .filter((p) => p.startsWith(`Gate ${i + 1}:`))
                .map((p) => (
                  <small key={p} class="field-error" data-testid="field-error">
                    {p}
                  </small>
                ))}
              <button
                type="button"
                class="secondary small"
                onClick={() => write(gates.filter((_, j) => j !== i))}
              >
                Remove gate {i + 1}
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            class="secondary small"
            onClick={() => write([...gates, { type: 'property', key: '' }])}
          >
            Add a gate
          </button>
        </>
      )}
    </fieldset>
  );
}
