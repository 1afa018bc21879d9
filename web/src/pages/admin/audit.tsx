import { useState } from 'preact/hooks';
import { nextPage, qs } from '../../api';
import { DataTable } from '../../parts';
import { setQuery, useLocation } from '../../router';
import { Empty, Load, Pager, Time, useApi, usePageTrail } from '../../ui';
import type { AuditEvent } from './shared';

// ----------------------------------------------------------------------------------- audit

export const AUDIT_FIELDS = ['actor', 'repository', 'action', 'outcome', 'since', 'until'] as const;

export function Audit() {
  const loc = useLocation();
  const asked = Object.fromEntries(AUDIT_FIELDS.map((f) => [f, loc.query.get(f) ?? ''])) as Record<
    (typeof AUDIT_FIELDS)[number],
    string
  >;
  const pages = usePageTrail('before');
  const before = pages.at;
  const [form, setForm] = useState(asked);
  const path = `/audit${qs({ ...asked, before, limit: 50 })}`;
  const state = useApi<{ events: AuditEvent[]; next?: string }>(path);
  const change = (f: (typeof AUDIT_FIELDS)[number]) => (e: { currentTarget: HTMLInputElement }) => {
    const v = e.currentTarget.value;
    setForm((o) => ({ ...o, [f]: v }));
  };
  const field = (f: (typeof AUDIT_FIELDS)[number], label: string, hint: string) => (
    <div class="field">
      <label for={`audit-${f}`}>{label}</label>
      {f === 'since' || f === 'until' ? (
        // A date picker for the time bounds (the server takes a date or a full timestamp).
        <input id={`audit-${f}`} type="date" value={form[f].slice(0, 10)} onInput={change(f)} />
      ) : (
        <input id={`audit-${f}`} value={form[f]} placeholder={hint} onInput={change(f)} />
      )}
    </div>
  );
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form
        class="card audit-form"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(form);
        }}
      >
        {field('actor', 'Actor', 'alice')}
        {field('repository', 'Repository', 'docker-prod-local')}
        {field('action', 'Action', 'user. or manifest.push')}
        <div class="field">
          <label for="audit-outcome">Outcome</label>
          <select
            id="audit-outcome"
            value={form.outcome}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setForm((o) => ({ ...o, outcome: v }));
            }}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="denied">denied</option>
            <option value="failure">failure</option>
          </select>
        </div>
        {field('since', 'Since', '2026-11-01T00:00:00Z')}
        {field('until', 'Until', '2026-12-01')}
        <div class="actions">
          <button type="submit">Filter</button>
          <button
            type="button"
            class="link"
            onClick={() => {
              setForm(Object.fromEntries(AUDIT_FIELDS.map((f) => [f, ''])) as typeof form);
              setQuery({});
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <Load state={state} what="Loading the audit log">
        {({ events, next }) => (
          <>
            {events.length === 0 ? (
              <Empty>No events match.</Empty>
            ) : (
              <DataTable
                testid="audit"
                caption="Audit events, newest first"
                columns={['When', 'Actor', 'Action', 'Repository', 'Target', 'Outcome', 'Address']}
              >
                {events.map((ev, i) => (
                  <tr key={ev.id ?? i} class={ev.outcome === 'success' ? '' : 'row-fail'}>
                    <td data-label="When">
                      <Time at={ev.at} />
                    </td>
                    <td data-label="Actor">{ev.actor}</td>
                    <td data-label="Action">
                      <code>{ev.action}</code>
                    </td>
                    <td data-label="Repository">{ev.repository ?? '—'}</td>
                    <td
                      data-label="Target"
                      class="break"
                      title={ev.detail ? JSON.stringify(ev.detail) : undefined}
                    >
                      {ev.target}
                    </td>
                    <td data-label="Outcome">{ev.outcome}</td>
                    <td data-label="Address">{ev.address ?? '—'}</td>
                  </tr>
                ))}
              </DataTable>
            )}
            <Pager
              next={next}
              label="Older events"
              onNext={() => {
                const n = nextPage(path, next, 'before');
                const b = n ? (new URL(n, location.origin).searchParams.get('before') ?? '') : '';
                setQuery({ ...asked, ...pages.forward(b) });
              }}
              previousLabel="Newer events"
              onPrevious={pages.back && (() => setQuery({ ...asked, ...pages.back?.() }))}
            />
            {before && (
              <p>
                <button type="button" class="link" onClick={() => setQuery(asked)}>
                  Back to the newest events
                </button>
              </p>
            )}
          </>
        )}
      </Load>
    </section>
  );
}
