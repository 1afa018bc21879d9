import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, mayManage, type Repository } from '../api';
import { DataTable } from '../parts';
import { setQuery, useLocation } from '../router';
import { bytes, Digest, Empty, ErrorBox, Load, Notice, PageTitle, Time, useAction, useApi } from '../ui';

// The Storage page: usage per repository with quota warnings, garbage-collection runs (when the
// server has GC), and the retention rules of one repository edited in a form whose dry-run
// preview follows every change. Retention is saved in the repository's settings (PATCH).

interface Usage {
  repositories: {
    key: string;
    kind: string;
    logicalBytes: number;
    uniqueBytes: number;
    quota: { bytes: number; warnAt: number; state: 'ok' | 'warning' | 'exceeded' } | null;
    retention: { schedule?: string; rules: Rule[] } | null;
  }[];
  total: { logicalBytes: number; uniqueBytes: number };
}

interface GcRun {
  id: string;
  state: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string | null;
  blobsRemoved: number;
  manifestsRemoved: number;
  bytesFreed: number;
  errors: number | unknown[];
}

type Rule = Record<string, unknown>;

interface PreviewItem {
  image: string;
  tag?: string;
  digest: string;
  action: 'keep' | 'remove';
  rule: string;
}

export function StoragePage() {
  const loc = useLocation();
  const editing = loc.query.get('retention');
  const usage = useApi<Usage>('/usage');
  const repos = useApi<{ repositories: Repository[] }>('/repositories');
  const manageable = new Set((repos.data?.repositories ?? []).filter(mayManage).map((r) => r.key));
  return (
    <>
      <PageTitle title="Storage">Storage</PageTitle>
      <section aria-labelledby="usage-head">
        <h2 id="usage-head">Usage</h2>
        <Load state={usage} what="Loading usage">
          {(u) => (
            <DataTable
              testid="usage"
              caption={
                <>
                  Unique bytes count each blob once per repository; logical bytes count every image's blobs as
                  if nothing were shared. Total: {bytes(u.total.uniqueBytes)} unique,{' '}
                  {bytes(u.total.logicalBytes)} logical.
                </>
              }
              columns={['Repository', 'Unique', 'Logical', 'Quota', 'Retention']}
              numeric={['Unique', 'Logical']}
              actions
            >
              {u.repositories.map((r) => (
                <tr key={r.key}>
                  <th scope="row" data-label="Repository">
                    {r.key}
                  </th>
                  <td data-label="Unique" class="num">
                    {bytes(r.uniqueBytes)}
                  </td>
                  <td data-label="Logical" class="num">
                    {bytes(r.logicalBytes)}
                  </td>
                  <td data-label="Quota">
                    {r.quota ? (
                      <>
                        {bytes(r.quota.bytes)}{' '}
                        {r.quota.state !== 'ok' && (
                          <span
                            class={`verdict ${r.quota.state === 'exceeded' ? 'verdict-fail' : 'verdict-warn'}`}
                            data-testid={`quota-${r.key}`}
                          >
                            {r.quota.state === 'exceeded'
                              ? 'quota exceeded'
                              : `over ${Math.round(r.quota.warnAt * 100)}% of quota`}
                          </span>
                        )}
                      </>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td data-label="Retention">
                    {r.retention ? `${r.retention.rules.length} rules` : <span class="muted">none</span>}
                    {r.retention?.schedule && <span class="muted"> · {r.retention.schedule}</span>}
                  </td>
                  <td data-label="Actions" class="row-actions">
                    {r.kind === 'local' && manageable.has(r.key) && (
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Edit retention rules of ${r.key}`}
                        onClick={() => setQuery({ retention: r.key })}
                      >
                        Retention rules
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </Load>
      </section>
      {editing && (
        <RetentionEditor
          key={editing}
          repoKey={editing}
          initial={usage.data?.repositories.find((r) => r.key === editing)?.retention ?? null}
          onSaved={usage.reload}
        />
      )}
      <GcSection />
    </>
  );
}

function GcSection() {
  const runs = useApi<{ runs: GcRun[] }>('/gc/runs');
  const start = useAction((dryRun: boolean) => api<{ run: GcRun }>('POST', '/gc', { dryRun }));
  const unavailable = runs.error instanceof ApiError && runs.error.status === 404;
  return (
    <section aria-labelledby="gc-head">
      <h2 id="gc-head">Garbage collection</h2>
      {unavailable ? (
        <Empty>Garbage collection is not available on this server.</Empty>
      ) : (
        <>
          <div class="toolbar">
            <button
              type="button"
              disabled={start.busy}
              onClick={async () => (await start.go(false)) && runs.reload()}
            >
              Run now
            </button>
            <button
              type="button"
              class="secondary"
              disabled={start.busy}
              onClick={async () => (await start.go(true)) && runs.reload()}
            >
              Dry run
            </button>
          </div>
          {start.error && <ErrorBox error={start.error} title="Garbage collection" />}
          {start.result && <Notice>Run {start.result.run.id} started.</Notice>}
          <Load state={runs} what="Loading garbage collection runs">
            {(r) =>
              r.runs.length === 0 ? (
                <Empty>No garbage collection has run yet.</Empty>
              ) : (
                <DataTable
                  testid="gc-runs"
                  caption="Garbage collection runs, newest first"
                  columns={['Started', 'Finished', 'State', 'Blobs', 'Manifests', 'Freed', 'Errors']}
                  numeric={['Blobs', 'Manifests', 'Freed', 'Errors']}
                >
                  {r.runs.map((run) => (
                    <tr key={run.id}>
                      <td data-label="Started">
                        <Time at={run.startedAt} />
                      </td>
                      <td data-label="Finished">
                        <Time at={run.finishedAt} />
                      </td>
                      <td data-label="State">
                        {run.state}
                        {run.dryRun && ' (dry run)'}
                      </td>
                      <td data-label="Blobs" class="num">
                        {run.blobsRemoved}
                      </td>
                      <td data-label="Manifests" class="num">
                        {run.manifestsRemoved}
                      </td>
                      <td data-label="Freed" class="num">
                        {bytes(run.bytesFreed)}
                      </td>
                      <td data-label="Errors" class="num">
                        {Array.isArray(run.errors) ? run.errors.length : run.errors}
                      </td>
                    </tr>
                  ))}
                </DataTable>
              )
            }
          </Load>
        </>
      )}
    </section>
  );
}

const KINDS = [
  { value: 'keep-last', label: 'Keep the last N tags' },
  { value: 'keep-newer', label: 'Keep tags newer than D days' },
  { value: 'remove-untagged', label: 'Remove untagged manifests older than D days' },
  { value: 'remove-not-pulled', label: 'Remove images not pulled for D days' },
] as const;

type Kind = (typeof KINDS)[number]['value'];

interface RuleForm {
  kind: Kind;
  number: string;
  tags: string;
  order: 'pushed' | 'semver';
  immutable: boolean;
}

function toForm(rule: Rule): RuleForm {
  const kind: Kind =
    rule.keep === 'last'
      ? 'keep-last'
      : rule.keep === 'newer'
        ? 'keep-newer'
        : rule.remove === 'untagged'
          ? 'remove-untagged'
          : 'remove-not-pulled';
  return {
    kind,
    number: String(rule.count ?? rule.days ?? ''),
    tags: typeof rule.tags === 'string' ? rule.tags : '',
    order: rule.order === 'semver' ? 'semver' : 'pushed',
    immutable: rule.immutable === true,
  };
}

/** The form's rules as the API takes them; numbers left as typed so the server names bad ones. */
function toRule(f: RuleForm): Rule {
  const n = f.number.trim() === '' ? f.number : Number(f.number);
  const extra = { ...(f.immutable ? { immutable: true } : {}) };
  const tags = f.tags.trim() ? { tags: f.tags.trim() } : {};
  switch (f.kind) {
    case 'keep-last':
      return { keep: 'last', count: n, ...tags, order: f.order, ...extra };
    case 'keep-newer':
      return { keep: 'newer', days: n, ...tags, ...extra };
    case 'remove-untagged':
      return { remove: 'untagged', days: n, ...extra };
    default:
      return { remove: 'not-pulled', days: n, ...extra };
  }
}

function RetentionEditor({
  repoKey,
  initial,
  onSaved,
}: {
  repoKey: string;
  initial: { schedule?: string; rules: Rule[] } | null;
  onSaved(): void;
}) {
  const [rules, setRules] = useState<RuleForm[]>(() =>
    (initial?.rules ?? [{ keep: 'last', count: 10 }]).map(toForm),
  );
  const [schedule, setSchedule] = useState(initial?.schedule ?? '');
  const [preview, setPreview] = useState<{ items?: PreviewItem[]; error?: ApiError; busy: boolean }>({
    busy: true,
  });
  const save = useAction(async () => {
    const repo = await api<{ settings: Record<string, unknown> }>('GET', `/repositories/${repoKey}`);
    const retention = { rules: rules.map(toRule), ...(schedule.trim() ? { schedule: schedule.trim() } : {}) };
    await api('PATCH', `/repositories/${repoKey}`, { settings: { ...repo.settings, retention } });
    onSaved();
    return true;
  });
  // The live preview: a dry run of the rules as they stand in the form, after typing pauses.
  const asSent = JSON.stringify(rules.map(toRule));
  useEffect(() => {
    let live = true;
    setPreview((p) => ({ ...p, busy: true }));
    const timer = setTimeout(() => {
      api<{ items: PreviewItem[] }>('POST', `/retention/${repoKey}/evaluate`, {
        dryRun: true,
        rules: JSON.parse(asSent),
      }).then(
        (r) => live && setPreview({ items: r.items, busy: false }),
        (error: ApiError) => live && setPreview({ error, busy: false }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [repoKey, asSent]);
  const change = (i: number, patch: Partial<RuleForm>) =>
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const removing = preview.items?.filter((i) => i.action === 'remove') ?? [];
  return (
    <section aria-labelledby="retention-head" class="card">
      <h2 id="retention-head">Retention rules of {repoKey}</h2>
      <p class="muted">
        A tag stays when any keep rule keeps it; with keep rules, the other tags go. Floating-tag targets,
        digests in a later stage, digests with the property gantry.hold=true, and immutable tags (unless a
        rule says so) always stay.
      </p>
      <form
        aria-label={`Retention rules of ${repoKey}`}
        onSubmit={(e) => {
          e.preventDefault();
          void save.go();
        }}
      >
        {rules.map((r, i) => (
          <fieldset class="field" key={i} data-testid="retention-rule">
            <legend>Rule {i + 1}</legend>
            <label for={`rule-${i}-kind`}>Kind</label>
            <select
              id={`rule-${i}-kind`}
              value={r.kind}
              onChange={(e) => change(i, { kind: e.currentTarget.value as Kind })}
            >
              {KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
            <label for={`rule-${i}-number`}>{r.kind === 'keep-last' ? 'Tags to keep (N)' : 'Days (D)'}</label>
            <input
              id={`rule-${i}-number`}
              inputMode="numeric"
              value={r.number}
              onInput={(e) => change(i, { number: e.currentTarget.value })}
            />
            {(r.kind === 'keep-last' || r.kind === 'keep-newer') && (
              <>
                <label for={`rule-${i}-tags`}>Tags matching (glob, empty: all)</label>
                <input
                  id={`rule-${i}-tags`}
                  value={r.tags}
                  placeholder="v*"
                  spellcheck={false}
                  onInput={(e) => change(i, { tags: e.currentTarget.value })}
                />
              </>
            )}
            {r.kind === 'keep-last' && (
              <>
                <label for={`rule-${i}-order`}>Order</label>
                <select
                  id={`rule-${i}-order`}
                  value={r.order}
                  onChange={(e) => change(i, { order: e.currentTarget.value as RuleForm['order'] })}
                >
                  <option value="pushed">newest push first</option>
                  <option value="semver">highest version first</option>
                </select>
              </>
            )}
            <label>
              <input
                type="checkbox"
                checked={r.immutable}
                onChange={(e) => change(i, { immutable: e.currentTarget.checked })}
              />{' '}
              may remove immutable tags
            </label>
            <button
              type="button"
              class="secondary small"
              onClick={() => setRules((rs) => rs.filter((_, j) => j !== i))}
              aria-label={`Remove rule ${i + 1}`}
            >
              Remove rule
            </button>
          </fieldset>
        ))}
        <div class="actions">
          <button
            type="button"
            class="secondary"
            onClick={() =>
              setRules((rs) => [
                ...rs,
                { kind: 'remove-untagged', number: '7', tags: '', order: 'pushed', immutable: false },
              ])
            }
          >
            Add rule
          </button>
        </div>
        <div class="field">
          <label for="retention-schedule">Schedule (cron, UTC; empty: on demand only)</label>
          <input
            id="retention-schedule"
            value={schedule}
            placeholder="0 3 * * *"
            spellcheck={false}
            onInput={(e) => setSchedule(e.currentTarget.value)}
          />
        </div>
        <div class="actions">
          <button type="submit" disabled={save.busy}>
            Save rules
          </button>
          <button type="button" class="secondary" onClick={() => setQuery({})}>
            Close
          </button>
        </div>
        {save.error && <ErrorBox error={save.error} title="Not saved" />}
        {save.result && !save.busy && <Notice>Rules saved.</Notice>}
      </form>
      <h3 id="preview-head">Preview (dry run)</h3>
      <div aria-live="polite" data-testid="retention-preview">
        {preview.error ? (
          <ErrorBox error={preview.error} title="These rules cannot be evaluated" />
        ) : preview.items === undefined ? (
          <p class="muted">Evaluating…</p>
        ) : removing.length === 0 ? (
          <Empty>These rules remove nothing now.</Empty>
        ) : (
          <DataTable
            testid="retention-removals"
            caption={`These rules would remove ${removing.length} items${preview.busy ? ' (updating…)' : ''}`}
            columns={['Image', 'Tag', 'Digest', 'Rule']}
          >
            {removing.map((i) => (
              <tr key={`${i.image}:${i.tag ?? ''}@${i.digest}`}>
                <td data-label="Image">{i.image}</td>
                <td data-label="Tag">{i.tag ?? <span class="muted">untagged</span>}</td>
                <td data-label="Digest">
                  <Digest value={i.digest} />
                </td>
                <td data-label="Rule">{i.rule}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </div>
    </section>
  );
}
