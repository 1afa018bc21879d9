import { useState } from 'preact/hooks';
import { mayManage, type Repository } from '../../api';
import { DataTable } from '../../parts';
import { Link } from '../../router';
import { useSession } from '../../session';
import { bytes, Empty, Load, Notice, PageTitle, PushLine, Time, useApi } from '../../ui';
import { DeleteRepository, describe, repoHref } from './shared';

export function RepositoriesPage() {
  const { me } = useSession();
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
        {({ repositories }) =>
          repositories.length === 0 ? (
            <Empty>
              {me.authenticated ? 'No repositories you may read.' : 'Nothing is readable anonymously.'}{' '}
              {!me.authenticated && <Link href="/sign-in?next=/ui/repositories">Sign in</Link>}
            </Empty>
          ) : (
            <DataTable
              testid="repositories"
              caption="Repositories you may read"
              columns={['Key', 'Kind', 'Description', 'Images', 'Size', 'Last push']}
              numeric={['Images', 'Size']}
              actions
            >
              {repositories.map((r) => (
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
          )
        }
      </Load>
    </>
  );
}
