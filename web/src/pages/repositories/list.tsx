import { useState } from 'preact/hooks';
import { mayManage, type Repository } from '../../api';
import { DataTable } from '../../parts';
import { Link, setQuery, useLocation } from '../../router';
import { useSession } from '../../session';
import { bytes, Empty, Load, Notice, PageTitle, PushLine, Time, useApi } from '../../ui';
import { DeleteRepository, describe, repoHref } from './shared';

type RepositoryOrder = 'key' | 'size' | 'images' | 'pushed';

/** Repositories in the chosen order; ones without stats (virtual) last, by key. */
function sortRepositories(list: readonly Repository[], order: RepositoryOrder): Repository[] {
  const value = (r: Repository): number | string | undefined =>
    order === 'size'
      ? r.stats?.sizeBytes
      : order === 'images'
        ? r.stats?.imageCount
        : order === 'pushed'
          ? (r.stats?.lastPushAt ?? undefined)
          : undefined;
  return [...list].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === y || order === 'key') return a.key.localeCompare(b.key);
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return x < y ? 1 : -1;
  });
}

export function RepositoriesPage() {
  const { me } = useSession();
  const loc = useLocation();
  // In the URL, so a filtered, sorted list can be shared and survives a reload.
  const filter = loc.query.get('q') ?? '';
  const order = (loc.query.get('sort') ?? 'key') as RepositoryOrder;
  const state = useApi<{ repositories: Repository[] }>('/repositories');
  const [deleted, setDeleted] = useState('');
  return (
    <>
      <PageTitle title="Repositories">Repositories</PageTitle>
      {me.admin && (
        <p>
          <Link href="/repositories/new" class="button">
            New repository
          </Link>
        </p>
      )}
      {deleted && <Notice>Repository {deleted} was deleted.</Notice>}
      <PushLine repos={state.data?.repositories} />
      <Load state={state} what="Loading repositories">
        {({ repositories }) => {
          const shown = sortRepositories(
            repositories.filter((r) =>
              `${r.key} ${r.description}`.toLowerCase().includes(filter.trim().toLowerCase()),
            ),
            order,
          );
          return repositories.length === 0 ? (
            <Empty>
              {me.authenticated ? 'No repositories you may read.' : 'Nothing is readable anonymously.'}{' '}
              {!me.authenticated && <Link href="/sign-in?next=/ui/repositories">Sign in</Link>}
            </Empty>
          ) : (
            <>
              <div class="list-controls" data-testid="repository-controls">
                <div class="field">
                  <label for="repo-filter">Find a repository</label>
                  <input
                    id="repo-filter"
                    type="search"
                    value={filter}
                    onInput={(e) => setQuery({ q: e.currentTarget.value || undefined, sort: order }, true)}
                  />
                </div>
                <div class="field">
                  <label for="repo-order">Sort by</label>
                  <select
                    id="repo-order"
                    value={order}
                    onChange={(e) => setQuery({ q: filter || undefined, sort: e.currentTarget.value }, true)}
                  >
                    <option value="key">Key</option>
                    <option value="size">Size, largest first</option>
                    <option value="images">Images, most first</option>
                    <option value="pushed">Last push, newest first</option>
                  </select>
                </div>
              </div>
              {shown.length === 0 ? (
                // The catalog is not empty, only the filter hides everything: say so, not "no repositories".
                <Empty>
                  No repository you may read matches “{filter.trim()}”.{' '}
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() => setQuery({ sort: order }, true)}
                  >
                    Clear the filter
                  </button>
                </Empty>
              ) : (
                <DataTable
                  testid="repositories"
                  caption="Repositories you may read"
                  columns={['Key', 'Kind', 'Description', 'Images', 'Size', 'Last push']}
                  numeric={['Images', 'Size']}
                  actions
                >
                  {shown.map((r) => (
                    <tr key={r.key}>
                      <th scope="row" data-label="Key">
                        <Link href={repoHref(r.key)}>{r.key}</Link>
                      </th>
                      <td data-label="Kind">
                        <span class={`badge badge-kind kind-${r.kind}`}>{r.kind}</span>
                      </td>
                      <td data-label="Description">
                        {r.description}
                        {describe(r) && <div class="muted small-text">{describe(r)}</div>}
                      </td>
                      <td data-label="Images" class="num">
                        {r.stats ? r.stats.imageCount : '—'}
                      </td>
                      <td data-label="Size" class="num">
                        {r.stats ? bytes(r.stats.sizeBytes) : '—'}
                      </td>
                      <td data-label="Last push">
                        <Time at={r.stats?.lastPushAt} />
                      </td>
                      <td data-label="Actions" class="row-actions">
                        {mayManage(r) && (
                          <>
                            <Link
                              href={`${repoHref(r.key)}/edit`}
                              class="button secondary small"
                              aria-label={`Edit ${r.key}`}
                            >
                              Edit
                            </Link>{' '}
                            <DeleteRepository
                              repoKey={r.key}
                              onDeleted={() => {
                                setDeleted(r.key);
                                state.reload();
                              }}
                            />
                          </>
                        )}
                      </td>
                    </tr>
                  ))}
                </DataTable>
              )}
            </>
          );
        }}
      </Load>
    </>
  );
}
