import { type ComponentChildren, Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, imagePath, type Manifest, type PromotionRecord, qs, type TagEvent, type TagInfo } from '../api';
import { DataTable } from '../parts';
import { Link, setQuery, useLocation } from '../router';
import { useSession } from '../session';
import {
  bytes,
  CopyLine,
  Digest,
  Empty,
  ErrorBox,
  Load,
  Notice,
  PageTitle,
  pullCommand,
  pushExample,
  short,
  skopeoCommand,
  TagKind,
  Time,
  useAction,
  useApi,
  Verdict,
} from '../ui';
import { PromoteDialog } from './promote';

interface Props {
  repository: string;
  image: string;
}

const manifestPath = (p: Props, digest: string) => `${imagePath(p.repository, p.image)}/manifests/${digest}`;

export function ImagePage(props: Props) {
  const { repository, image } = props;
  const loc = useLocation();
  const base = imagePath(repository, image);
  const tags = useApi<{ tags: TagInfo[] }>(`${base}/tags`);
  const list = tags.data?.tags ?? [];
  const wantedTag = loc.query.get('tag');
  const newest = [...list].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))[0];
  const digest =
    loc.query.get('digest') ||
    list.find((t) => t.tag === wantedTag)?.digest ||
    list.find((t) => t.tag === 'latest')?.digest ||
    newest?.digest ||
    '';
  const historyOf = loc.query.get('history') || '';
  const select = (d: string) => setQuery({ digest: d, history: historyOf });

  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/repositories">Repositories</Link> /{' '}
        <Link href={`/repositories/${encodeURIComponent(repository)}`}>{repository}</Link> /{' '}
        <span aria-current="page">{image}</span>
      </nav>
      <PageTitle title={`${repository}/${image}`}>
        <span class="muted">{repository}/</span>
        {image}
      </PageTitle>
      {digest ? (
        <CopyLine command={pullCommand(repository, image, digest)} label="Pull command" />
      ) : (
        <CopyLine command={pushExample(repository)} label="Push command" />
      )}
      <Load state={tags} what="Loading tags">
        {() =>
          list.length === 0 && !digest ? (
            <Empty>
              No tags in {repository}/{image} — push one with <code>{pushExample(repository)}</code>
            </Empty>
          ) : (
            <TagsTable
              list={list}
              digest={digest}
              onSelect={select}
              onHistory={(t) => setQuery({ digest, history: t })}
            />
          )
        }
      </Load>
      {historyOf && (
        <TagHistory
          {...props}
          tag={historyOf}
          key={historyOf}
          onClose={() => setQuery({ digest })}
          onRolledBack={(to) => {
            // Show what the tag points at now, not the digest selected before the rollback.
            setQuery({ digest: to, history: historyOf });
            tags.reload();
          }}
        />
      )}
      {digest && (
        <ManifestView {...props} digest={digest} key={digest} tagsReload={tags.reload} onSelect={select} />
      )}
    </>
  );
}

function TagsTable({
  list,
  digest,
  onSelect,
  onHistory,
}: {
  list: TagInfo[];
  digest: string;
  onSelect(d: string): void;
  onHistory(tag: string): void;
}) {
  return (
    <DataTable testid="tags" caption="Tags" columns={['Tag', 'Kind', 'Digest', 'Updated']} actions>
      {list.map((t) => (
        <tr key={t.tag} class={t.digest === digest ? 'selected' : ''} data-testid="tag-row">
          <th scope="row" data-label="Tag">
            {t.tag}
          </th>
          <td data-label="Kind">
            <TagKind kind={t.kind} rule={t.rule} />
          </td>
          <td data-label="Digest">
            <button
              type="button"
              class="link"
              aria-pressed={t.digest === digest}
              aria-label={`Show ${t.tag} (${t.digest})`}
              onClick={() => onSelect(t.digest)}
            >
              <code class="digest">{short(t.digest)}</code>
            </button>
          </td>
          <td data-label="Updated">
            <Time at={t.updatedAt} />
          </td>
          <td data-label="Actions">
            <button
              type="button"
              class="secondary small"
              onClick={() => onHistory(t.tag)}
              aria-label={`History of ${t.tag}`}
            >
              History
            </button>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function TagHistory({
  repository,
  image,
  tag,
  onClose,
  onRolledBack,
}: Props & { tag: string; onClose(): void; onRolledBack(to: string): void }) {
  const base = `${imagePath(repository, image)}/tags/${encodeURIComponent(tag)}`;
  const history = useApi<{ events: TagEvent[] }>(`${base}/history`);
  const rollback = useAction(async (body: { steps: number } | { to: string }) => {
    const r = await api<{ tag: string; from: string | null; to: string }>('POST', `${base}/rollback`, body);
    history.reload();
    onRolledBack(r.to);
    return r;
  });
  const current = history.data?.events[0]?.newDigest;
  return (
    <section aria-labelledby="history-title" class="card" data-testid="tag-history">
      <div class="section-head">
        <h2 id="history-title">History of {tag}</h2>
        <button type="button" class="secondary small" onClick={onClose}>
          Close history
        </button>
      </div>
      {rollback.result && (
        <Notice>
          {tag} now points at <Digest value={rollback.result.to} /> (was{' '}
          <Digest value={rollback.result.from} />
          ).
        </Notice>
      )}
      {rollback.error && <ErrorBox error={rollback.error} />}
      <Load state={history} what="Loading history">
        {({ events }) =>
          events.length === 0 ? (
            <Empty>No moves recorded for {tag}.</Empty>
          ) : (
            <>
              <p>
                <button
                  type="button"
                  disabled={rollback.busy || events.length < 2}
                  onClick={() => rollback.go({ steps: 1 })}
                >
                  Rollback
                </button>{' '}
                <span class="muted">points {tag} back at where it was before its last move.</span>
              </p>
              <DataTable
                caption={<>Moves of {tag}, newest first</>}
                columns={['When', 'From', 'To', 'Cause', 'Actor']}
                actions
              >
                {events.map((e, i) => (
                  <tr key={i}>
                    <td data-label="When">
                      <Time at={e.at} />
                    </td>
                    <td data-label="From">
                      <Digest value={e.oldDigest} />
                    </td>
                    <td data-label="To">
                      <Digest value={e.newDigest} />
                    </td>
                    <td data-label="Cause">{e.cause}</td>
                    <td data-label="Actor">{e.actor}</td>
                    <td data-label="Actions">
                      {e.newDigest && e.newDigest !== current && (
                        <button
                          type="button"
                          class="secondary small"
                          disabled={rollback.busy}
                          onClick={() => rollback.go({ to: e.newDigest! })}
                          aria-label={`Rollback ${tag} to ${e.newDigest}`}
                        >
                          Rollback to this
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </DataTable>
            </>
          )
        }
      </Load>
    </section>
  );
}

function ManifestView(props: Props & { digest: string; tagsReload(): void; onSelect(d: string): void }) {
  const { repository, image, digest } = props;
  const m = useApi<Manifest>(manifestPath(props, digest));
  const { me } = useSession();
  const [promoting, setPromoting] = useState(false);
  const [generation, setGeneration] = useState(0);
  return (
    <section aria-labelledby="manifest-title" data-testid="manifest">
      <div class="section-head">
        <h2 id="manifest-title">
          <code title={digest}>{short(digest)}</code>
        </h2>
        {me.authenticated && (
          <button type="button" onClick={() => setPromoting(true)} data-testid="promote">
            Promote
          </button>
        )}
      </div>
      <CopyLine command={skopeoCommand(repository, image, digest)} label="Skopeo command" />
      <Load state={m} what="Loading the manifest">
        {(man) => (
          <>
            <dl class="facts">
              <dt>Digest</dt>
              <dd>
                <code class="break">{man.digest}</code>
              </dd>
              <dt>Media type</dt>
              <dd>{man.mediaType}</dd>
              <dt>Size</dt>
              <dd>{bytes(man.size)} (manifest)</dd>
              <dt>Tags</dt>
              <dd>{man.tags.length ? man.tags.join(', ') : <span class="muted">untagged</span>}</dd>
              {man.layers && man.layers.length > 0 && (
                <>
                  <dt>Image size</dt>
                  <dd>
                    {bytes(man.layers.reduce((s, l) => s + l.size, 0))} in {man.layers.length} layers
                  </dd>
                </>
              )}
            </dl>
            {man.platforms && man.platforms.length > 0 && (
              <DataTable
                testid="platforms"
                caption="Platforms of this index"
                columns={['Platform', 'Digest']}
              >
                {man.platforms.map((p) => (
                  <tr key={p.digest}>
                    <th scope="row" data-label="Platform">
                      {p.platform}
                    </th>
                    <td data-label="Digest">
                      <button
                        type="button"
                        class="link"
                        onClick={() => props.onSelect(p.digest)}
                        aria-label={`Show ${p.platform} (${p.digest})`}
                      >
                        <code class="digest">{short(p.digest)}</code>
                      </button>
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
            {man.config && <ConfigView config={man.config} />}
            {man.layers && man.layers.length > 0 && (
              <div class="table-wrap">
                <table class="responsive" data-testid="layers">
                  <caption>Layers</caption>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Digest</th>
                      <th scope="col" class="num">
                        Size
                      </th>
                      <th scope="col">Media type</th>
                    </tr>
                  </thead>
                  <tbody>
                    {man.layers.map((l, i) => (
                      <tr key={l.digest + i}>
                        <td data-label="#">{i + 1}</td>
                        <td data-label="Digest">
                          <Digest value={l.digest} />
                        </td>
                        <td data-label="Size" class="num">
                          {bytes(l.size)}
                        </td>
                        <td data-label="Media type" class="small-text">
                          {l.mediaType}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {man.annotations && Object.keys(man.annotations).length > 0 && (
              <KeyValues caption="Annotations" values={man.annotations} />
            )}
            <PropertiesEditor {...props} initial={man.properties ?? {}} />
            <BuildsView builds={man.builds ?? []} digest={digest} />
            <ChecklistView path={`${manifestPath(props, digest)}/checklist`} />
            <ReferrersView referrers={man.referrers ?? []} onSelect={props.onSelect} />
            <PromotionHistory digest={digest} key={generation} />
          </>
        )}
      </Load>
      {promoting && (
        <PromoteDialog
          source={{ repository, image, digest, tags: m.data?.tags ?? [] }}
          onClose={() => {
            setPromoting(false);
            setGeneration((g) => g + 1);
          }}
          onDone={props.tagsReload}
        />
      )}
    </section>
  );
}

function KeyValues({ caption, values }: { caption: string; values: Record<string, string> }) {
  return (
    <div class="table-wrap">
      <table class="responsive kv">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(values).map(([k, v]) => (
            <tr key={k}>
              <th scope="row" data-label="Key">
                <code>{k}</code>
              </th>
              <td data-label="Value" class="break">
                {v}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const cmd = (v: string[] | null | undefined) => (v?.length ? JSON.stringify(v) : undefined);

function ConfigView({ config }: { config: NonNullable<Manifest['config']> }) {
  const hc = config.healthcheck;
  const rows: [string, ComponentChildren][] = [
    ['Platform', [config.os, config.architecture].filter(Boolean).join('/') || undefined],
    ['Created', config.created ? <Time at={config.created} /> : undefined],
    ['Entrypoint', cmd(config.entrypoint)],
    ['Command', cmd(config.cmd)],
    ['User', config.user || <span class="warn-text">root (no user set)</span>],
    ['Working directory', config.workingDir],
    ['Healthcheck', hc?.Test ? <code>{hc.Test.join(' ')}</code> : <span class="muted">none</span>],
  ];
  return (
    <section aria-labelledby="config-title" data-testid="config">
      <h3 id="config-title">Configuration</h3>
      <dl class="facts">
        {rows
          .filter(([, v]) => v !== undefined && v !== '')
          .map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === 'string' ? <code class="break">{v}</code> : v}</dd>
            </Fragment>
          ))}
      </dl>
      {config.env && config.env.length > 0 && (
        <div class="table-wrap">
          <table class="responsive kv" data-testid="env">
            <caption>Environment</caption>
            <thead>
              <tr>
                <th scope="col">Variable</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {config.env.map((e) => {
                const i = e.indexOf('=');
                return (
                  <tr key={e}>
                    <th scope="row" data-label="Variable">
                      <code>{i < 0 ? e : e.slice(0, i)}</code>
                    </th>
                    <td data-label="Value" class="break">
                      {i < 0 ? '' : e.slice(i + 1)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {config.labels && Object.keys(config.labels).length > 0 && (
        <KeyValues caption="Labels" values={config.labels} />
      )}
    </section>
  );
}

// ------------------------------------------------------------------------------ properties

interface Row {
  id: number;
  key: string;
  values: string;
  original?: string;
}

let rowId = 0;
const toRows = (p: Record<string, string[]>): Row[] =>
  Object.entries(p).map(([key, v]) => ({ id: ++rowId, key, values: v.join(', '), original: key }));

function PropertiesEditor(props: Props & { digest: string; initial: Record<string, string[]> }) {
  const { me } = useSession();
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
        {!editing && me.authenticated && (
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

function BuildsView({ builds, digest }: { builds: NonNullable<Manifest['builds']>; digest: string }) {
  const trace = useApi<{
    source: { vcsUrl?: string; revision?: string; branch?: string; build?: string; number?: string } | null;
  }>(`/digests/${digest}`);
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

function ChecklistView({ path }: { path: string }) {
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

function ReferrersView({
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
                  aria-label={`Show referrer ${r.digest}`}
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

function PromotionHistory({ digest }: { digest: string }) {
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
