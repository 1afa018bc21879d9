import { type ImageSummary, imagePath, mayManage, nextPage, qs, type Repository } from '../../api';
import { DataTable } from '../../parts';
import { Link, setQuery, useLocation } from '../../router';
import {
  bytes,
  CopyLine,
  Empty,
  Load,
  Pager,
  PageTitle,
  PushLine,
  pullCommand,
  pushTarget,
  Time,
  useApi,
} from '../../ui';
import { describe, imageName, repoHref } from './shared';

// ------------------------------------------------------------------------ one repository

export function RepositoryPage({ repoKey }: { repoKey: string }) {
  const loc = useLocation();
  const last = loc.query.get('last') || '';
  const repo = useApi<Repository>(`/repositories/${encodeURIComponent(repoKey)}`);
  const path = `/repositories/${encodeURIComponent(repoKey)}/images${qs({ n: 50, last })}`;
  const images = useApi<{ images: ImageSummary[]; next?: string }>(path);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/repositories">Repositories</Link> / <span aria-current="page">{repoKey}</span>
      </nav>
      <PageTitle title={repoKey}>{repoKey}</PageTitle>
      <Load state={repo} what="Loading the repository">
        {(r) => (
          <div class="repo-head">
            <p>
              <span class={`badge badge-kind kind-${r.kind}`}>{r.kind}</span> {r.description}
            </p>
            {describe(r) && <p class="muted">{describe(r)}</p>}
            {r.stats && (
              <p class="muted">
                {r.stats.imageCount} images, {bytes(r.stats.sizeBytes)}, last push{' '}
                <Time at={r.stats.lastPushAt} />
              </p>
            )}
            {mayManage(r) && (
              <p>
                <Link href={`${repoHref(r.key)}/edit`} class="button secondary small">
                  Edit settings
                </Link>
              </p>
            )}
          </div>
        )}
      </Load>
      <Load state={images} what="Loading images">
        {({ images: list, next }) => (
          <>
            {list[0] ? (
              <CopyLine command={pullCommand(repoKey, imageName(list[0]), 'latest')} label="Pull command" />
            ) : (
              <PushLine repos={repo.data ? [repo.data] : undefined} repository={repoKey} />
            )}
            {list.length === 0 ? (
              <Empty>
                <p>
                  {last
                    ? 'No more images.'
                    : pushTarget(repo.data ? [repo.data] : undefined, repoKey)
                      ? 'No images yet: push one with the command above.'
                      : `No images in ${repoKey} that you may read.`}
                </p>
              </Empty>
            ) : (
              <DataTable
                testid="images"
                caption={<>Images in {repoKey}</>}
                columns={['Image', 'Tags', 'Last push']}
                numeric={['Tags']}
              >
                {list.map((i) => (
                  <tr key={imageName(i)}>
                    <th scope="row" data-label="Image">
                      <Link href={imagePath(repoKey, imageName(i))}>{imageName(i)}</Link>
                    </th>
                    <td data-label="Tags" class="num">
                      {i.tagCount}
                    </td>
                    <td data-label="Last push">
                      <Time at={i.lastPushAt} />
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
            <Pager
              next={next}
              onNext={() => {
                const n = nextPage(path, next);
                setQuery({ last: n ? (new URL(n, location.origin).searchParams.get('last') ?? '') : '' });
              }}
            />
            {last && (
              <p>
                <Link href={repoHref(repoKey)}>Back to the first page</Link>
              </p>
            )}
          </>
        )}
      </Load>
    </>
  );
}
