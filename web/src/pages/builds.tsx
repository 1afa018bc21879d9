import { useState } from 'preact/hooks';
import { imagePath, qs } from '../api';
import { DataTable } from '../parts';
import { Link, setQuery, useLocation } from '../router';
import { Digest, Empty, Load, PageTitle, Time, useApi } from '../ui';
import { commitUrl } from './image/provenance';

/** A build record as `/api/v1/builds` shows it, artifacts with where each is now. */
interface Build {
  name: string;
  number: string;
  startedAt: string;
  durationMs: number | null;
  vcs: { url: string | null; revision: string | null; branch: string | null };
  ciUrl: string | null;
  artifacts: {
    digest: string;
    name: string;
    locations: { repository: string; image: string; tags: string[] }[];
  }[];
  publishedBy: string;
  publishedAt: string;
}

const buildHref = (b: Pick<Build, 'name' | 'number'>) =>
  `/builds/${encodeURIComponent(b.name)}/${encodeURIComponent(b.number)}`;

/** The commit, linked to its page on the forge when the URL says which one. */
function Commit({ vcs }: { vcs: Build['vcs'] }) {
  if (!vcs.revision) return <span class="muted">—</span>;
  const url = commitUrl(vcs.url, vcs.revision);
  const text = <code>{vcs.revision.slice(0, 12)}</code>;
  return (
    <>
      {url ? (
        <a href={url} rel="noopener noreferrer" target="_blank">
          {text}
        </a>
      ) : (
        text
      )}
      {vcs.branch && <span class="muted"> on {vcs.branch}</span>}
    </>
  );
}

/** Builds, newest first, narrowed by build name (the server filters; `limit` pages forward). */
export function BuildsPage() {
  const loc = useLocation();
  const name = loc.query.get('name') || '';
  const limit = Number(loc.query.get('limit')) || 50;
  const [typed, setTyped] = useState(name);
  const state = useApi<{ builds: Build[] }>(`/builds${qs({ name: name || undefined, limit })}`);
  return (
    <>
      <PageTitle title="Builds">Builds</PageTitle>
      <search>
        <form
          class="card audit-form"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ name: typed.trim() || undefined }, true);
          }}
        >
          <div class="field">
            <label for="builds-name">Build name</label>
            <input id="builds-name" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
          </div>
          <div class="actions">
            <button type="submit">Filter</button>
          </div>
        </form>
      </search>
      <Load state={state} what="Loading builds">
        {({ builds }) =>
          builds.length === 0 ? (
            <Empty>{name ? `No build named ${name} that you may see.` : 'No builds you may see.'}</Empty>
          ) : (
            <>
              <DataTable
                testid="builds"
                caption="Builds, newest first"
                columns={['Build', 'Commit', 'Started', 'Artifacts', 'Published by']}
                numeric={['Artifacts']}
              >
                {builds.map((b) => (
                  <tr key={`${b.name}#${b.number}`} data-testid="build-row">
                    <th scope="row" data-label="Build">
                      <Link href={buildHref(b)}>
                        {b.name} #{b.number}
                      </Link>
                    </th>
                    <td data-label="Commit">
                      <Commit vcs={b.vcs} />
                    </td>
                    <td data-label="Started">
                      <Time at={b.startedAt} />
                    </td>
                    <td data-label="Artifacts" class="num">
                      {b.artifacts.length}
                    </td>
                    <td data-label="Published by">{b.publishedBy}</td>
                  </tr>
                ))}
              </DataTable>
              {builds.length >= limit && (
                <p>
                  <Link href={`/builds${qs({ name: name || undefined, limit: limit * 2 })}`}>
                    Show more builds
                  </Link>
                </p>
              )}
            </>
          )
        }
      </Load>
    </>
  );
}

/** One build: its commit and CI run, and each artifact with where it is now. */
export function BuildPage({ name, number }: { name: string; number: string }) {
  const state = useApi<Build>(buildHref({ name, number }));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/builds">Builds</Link> / <span aria-current="page">{name}</span>
      </nav>
      <PageTitle title={`Build ${name} #${number}`}>
        Build {name} #{number}
      </PageTitle>
      <Load state={state} what="Loading the build">
        {(b) => (
          <>
            <dl class="facts" data-testid="build-facts">
              <dt>Commit</dt>
              <dd>
                <Commit vcs={b.vcs} />
              </dd>
              <dt>Repository</dt>
              <dd>{b.vcs.url ? <code class="break">{b.vcs.url}</code> : <span class="muted">—</span>}</dd>
              <dt>CI run</dt>
              <dd>
                {b.ciUrl ? (
                  <a href={b.ciUrl} rel="noopener noreferrer" target="_blank">
                    {b.ciUrl}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </dd>
              <dt>Started</dt>
              <dd>
                <Time at={b.startedAt} />
                {b.durationMs !== null && <> ({Math.round(b.durationMs / 1000)} s)</>}
              </dd>
              <dt>Published</dt>
              <dd>
                by {b.publishedBy}, <Time at={b.publishedAt} />
              </dd>
            </dl>
            <DataTable
              testid="build-artifacts"
              caption="Artifacts and where they are now"
              columns={['Artifact', 'Digest', 'Now in']}
            >
              {b.artifacts.map((a) => (
                <tr key={a.digest + a.name}>
                  <th scope="row" data-label="Artifact">
                    {a.name}
                  </th>
                  <td data-label="Digest">
                    <Digest value={a.digest} />
                  </td>
                  <td data-label="Now in">
                    {a.locations.length === 0 ? (
                      <span class="muted">nowhere you may read</span>
                    ) : (
                      <ul class="plain">
                        {a.locations.map((l) => (
                          <li key={l.repository + l.image}>
                            <Link href={`${imagePath(l.repository, l.image)}${qs({ digest: a.digest })}`}>
                              {l.repository}/{l.image}
                            </Link>
                            {l.tags.length > 0 && <span class="muted"> {l.tags.join(', ')}</span>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </Load>
    </>
  );
}
