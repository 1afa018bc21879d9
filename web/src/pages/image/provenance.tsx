import { type Manifest, type PromotionRecord, qs } from '../../api';
import { DataTable } from '../../parts';
import { bytes, Load, short, Time, useApi, Verdict } from '../../ui';

// ------------------------------------------------------------------- builds, source, checks

export function commitUrl(
  vcsUrl: string | null | undefined,
  revision: string | null | undefined,
): string | undefined {
  if (!vcsUrl || !revision) return undefined;
  const base = vcsUrl.replace(/^git@([^:]+):/, 'https://$1/').replace(/\.git$/, '');
  if (!/^https?:\/\//.test(base)) return undefined;
  return base.includes('gitlab') ? `${base}/-/commit/${revision}` : `${base}/commit/${revision}`;
}

export function BuildsView({ builds, digest }: { builds: NonNullable<Manifest['builds']>; digest: string }) {
  const trace = useApi<{
    source: { vcsUrl?: string; revision?: string; branch?: string; build?: string; number?: string } | null;
    // Only where a build is recorded: the source comes from builds, and without one the lookup
    // answers 404 to readers who see nothing else of the digest (customers of production).
  }>(builds.length > 0 ? `/digests/${digest}` : null);
  const source = trace.data?.source;
  const link = commitUrl(source?.vcsUrl, source?.revision);
  return (
    <section aria-labelledby="builds-title" data-testid="builds">
      <h3 id="builds-title">Build and source</h3>
      {builds.length === 0 ? (
        <p class="muted">No recorded build produced this digest.</p>
      ) : (
        <ul>
          {builds.map((b) => {
            const url = commitUrl(b.vcsUrl, b.revision);
            return (
              <li key={b.name + b.number}>
                Build <strong>{b.name}</strong> #{b.number}
                {b.revision && (
                  <>
                    {' '}
                    from commit{' '}
                    {url ? (
                      <a href={url} rel="noopener noreferrer" target="_blank">
                        <code>{b.revision.slice(0, 12)}</code>
                      </a>
                    ) : (
                      <code>{b.revision.slice(0, 12)}</code>
                    )}
                  </>
                )}
                {b.vcsUrl && <span class="muted"> of {b.vcsUrl}</span>}
              </li>
            );
          })}
        </ul>
      )}
      {source?.revision && (
        <p>
          Source:{' '}
          {link ? (
            <a href={link} rel="noopener noreferrer" target="_blank">
              commit {source.revision.slice(0, 12)}
            </a>
          ) : (
            <code>{source.revision}</code>
          )}
          {source.branch && <> on branch {source.branch}</>}
        </p>
      )}
    </section>
  );
}

export function ChecklistView({ path }: { path: string }) {
  const state = useApi<{ verdict: string; results: { check: string; status: string; reason: string }[] }>(
    path,
  );
  return (
    <section aria-labelledby="checklist-title" data-testid="checklist">
      <h3 id="checklist-title">Checklist</h3>
      <Load state={state} what="Evaluating the checklist">
        {(c) => (
          <>
            <p>
              Verdict: <Verdict status={c.verdict} />
            </p>
            <DataTable caption="Checklist results" columns={['Check', 'Result', 'Why']}>
              {c.results.map((r) => (
                <tr key={r.check}>
                  <th scope="row" data-label="Check">
                    {r.check}
                  </th>
                  <td data-label="Result">
                    <Verdict status={r.status} />
                  </td>
                  <td data-label="Why">{r.reason}</td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </Load>
    </section>
  );
}

export function ReferrersView({
  referrers,
  onSelect,
}: {
  referrers: NonNullable<Manifest['referrers']>;
  onSelect(d: string): void;
}) {
  return (
    <section aria-labelledby="referrers-title" data-testid="referrers">
      <h3 id="referrers-title">Referrers</h3>
      {referrers.length === 0 ? (
        <p class="muted">No signatures, SBOMs or other artifacts refer to this digest.</p>
      ) : (
        <DataTable
          caption="Artifacts referring to this digest"
          columns={['Artifact type', 'Digest', 'Size']}
          numeric={['Size']}
        >
          {referrers.map((r) => (
            <tr key={r.digest}>
              <td data-label="Artifact type">{r.artifactType || r.mediaType}</td>
              <td data-label="Digest">
                <button
                  type="button"
                  class="link"
                  onClick={() => onSelect(r.digest)}
                  aria-label={`${short(r.digest)}: show referrer`}
                  title={r.digest}
                >
                  <code class="digest">{short(r.digest)}</code>
                </button>
              </td>
              <td data-label="Size" class="num">
                {bytes(r.size)}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

export function PromotionHistory({ digest }: { digest: string }) {
  const state = useApi<{ promotions: PromotionRecord[] }>(`/promotions${qs({ digest })}`);
  return (
    <section aria-labelledby="promotions-title" data-testid="promotion-history">
      <h3 id="promotions-title">Promotion history</h3>
      <Load state={state} what="Loading promotions">
        {({ promotions }) =>
          promotions.length === 0 ? (
            <p class="muted">Never promoted.</p>
          ) : (
            <div class="table-wrap">
              <table class="responsive">
                <caption>Promotions of this digest, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">From → to</th>
                    <th scope="col">Tags</th>
                    <th scope="col">Who</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {promotions.map((p, i) => (
                    <tr key={p.id ?? i}>
                      <td data-label="When">
                        <Time at={p.at} />
                      </td>
                      <td data-label="From → to">
                        {p.sourceRepository} → {p.targetRepository}
                        {p.mode === 'move' && ' (move)'}
                      </td>
                      <td data-label="Tags">{p.tags.join(', ') || '—'}</td>
                      <td data-label="Who">
                        {p.actor}
                        {p.comment && <div class="muted small-text">“{p.comment}”</div>}
                      </td>
                      <td data-label="Outcome">
                        <Verdict status={p.outcome === 'promoted' ? 'pass' : 'fail'} label={p.outcome} />{' '}
                        {p.outcome === 'refused' && (
                          <ul class="gates">
                            {p.gates
                              .filter((g) => !g.passed)
                              .map((g) => (
                                <li key={g.gate}>{g.reason}</li>
                              ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Load>
    </section>
  );
}
