import { ApiError, api, mayManage, type Repository } from '../api';
import { DataTable } from '../parts';
import { setQuery, useLocation } from '../router';
import { useSession } from '../session';
import { bytes, Empty, ErrorBox, Load, Notice, PageTitle, Time, useAction, useApi } from '../ui';
import { RetentionEditor, type Rule } from './retention-editor';

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

export function StoragePage() {
  const { me } = useSession();
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
      {/* Only administrators may list or start runs: others would get buttons that answer 403. */}
      {me.admin && <GcSection />}
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
