import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ErrorBox, Notice, useAction } from '../../ui';
import { KeyValues } from './config';
import { manifestPath, type Props } from './shared';

// ------------------------------------------------------------------------------ properties

export interface Row {
  id: number;
  key: string;
  values: string;
  original?: string;
}

let rowId = 0;
export const toRows = (p: Record<string, string[]>): Row[] =>
  Object.entries(p).map(([key, v]) => ({ id: ++rowId, key, values: v.join(', '), original: key }));

/** `mayEdit`: the caller may annotate in `repository` (the one holding the digest). */
export function PropertiesEditor(
  props: Props & { digest: string; initial: Record<string, string[]>; mayEdit: boolean },
) {
  const [saved, setSaved] = useState(props.initial);
  const [rows, setRows] = useState<Row[]>(() => toRows(props.initial));
  const [editing, setEditing] = useState(false);
  const initialKey = JSON.stringify(props.initial);
  useEffect(() => {
    setSaved(props.initial);
    setRows(toRows(props.initial));
  }, [initialKey]);
  const save = useAction(async () => {
    const changes: Record<string, string[] | null> = {};
    const keep = new Set<string>();
    for (const r of rows) {
      const key = r.key.trim();
      if (!key) continue;
      const values = r.values
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      changes[key] = values.length ? values : null;
      keep.add(key);
    }
    for (const k of Object.keys(saved)) if (!keep.has(k)) changes[k] = null;
    const r = await api<{ properties: Record<string, string[]> }>(
      'PATCH',
      `${manifestPath(props, props.digest)}/properties`,
      {
        properties: changes,
      },
    );
    setSaved(r.properties);
    setRows(toRows(r.properties));
    setEditing(false);
    return r;
  });
  const update = (id: number, change: Partial<Row>) =>
    setRows((now) => now.map((r) => (r.id === id ? { ...r, ...change } : r)));
  const entries = Object.entries(saved);
  return (
    <section aria-labelledby="props-title" data-testid="properties">
      <div class="section-head">
        <h3 id="props-title">Properties</h3>
        {!editing && props.mayEdit && (
          <button type="button" class="secondary small" onClick={() => setEditing(true)}>
            Edit properties
          </button>
        )}
      </div>
      {save.result && !editing && <Notice>Properties saved.</Notice>}
      {!editing ? (
        entries.length === 0 ? (
          <p class="muted">No properties on this digest in {props.repository}.</p>
        ) : (
          <KeyValues
            caption={`Properties in ${props.repository}`}
            values={Object.fromEntries(entries.map(([k, v]) => [k, v.join(', ')]))}
          />
        )
      ) : (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            save.go();
          }}
        >
          <p class="muted small-text" id="props-hint">
            Separate several values with commas; an empty value removes the key.
          </p>
          {rows.map((r, i) => (
            <fieldset class="prop-row" key={r.id}>
              <legend class="visually-hidden">Property {i + 1}</legend>
              <div class="field">
                <label for={`prop-key-${r.id}`}>Key</label>
                <input
                  id={`prop-key-${r.id}`}
                  value={r.key}
                  onInput={(e) => update(r.id, { key: e.currentTarget.value })}
                />
              </div>
              <div class="field">
                <label for={`prop-values-${r.id}`}>Values</label>
                <input
                  id={`prop-values-${r.id}`}
                  value={r.values}
                  aria-describedby="props-hint"
                  onInput={(e) => update(r.id, { values: e.currentTarget.value })}
                />
              </div>
              <button
                type="button"
                class="secondary small"
                onClick={() => setRows((now) => now.filter((x) => x.id !== r.id))}
                aria-label={`Remove property ${r.key || i + 1}`}
              >
                Remove
              </button>
            </fieldset>
          ))}
          {save.error && <ErrorBox error={save.error} />}
          <div class="actions">
            <button
              type="button"
              class="secondary"
              onClick={() => setRows((now) => [...now, { id: ++rowId, key: '', values: '' }])}
            >
              Add property
            </button>
            <button type="submit" disabled={save.busy}>
              Save
            </button>
            <button
              type="button"
              class="link"
              onClick={() => {
                setRows(toRows(saved));
                setEditing(false);
                save.setError(undefined);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
