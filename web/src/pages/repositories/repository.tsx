import { useState } from 'preact/hooks';
import {
  type ImageSummary,
  imagePath,
  mayManage,
  nextPage,
  qs,
  type Repository,
  type TagInfo,
} from '../../api';
import { DataTable } from '../../parts';
import { Link, setQuery, useLocation } from '../../router';
import { useSession } from '../../session';
import {
  bytes,
  CopyLine,
  Empty,
  host,
  Load,
  Pager,
  PageTitle,
  pushTarget,
  Time,
  useApi,
  usePageTrail,
} from '../../ui';
import { describe, imageName, repoHref } from './shared';

// ------------------------------------------------------------------------ one repository

/**
 * The commands to use this repository from this host: log in (when reading needs it), pull,
 * copy with skopeo, and push where the caller may. `image` is a real image of the repository
 * when there is one, so the commands work as they are.
 */
function SetMeUp({
  repository,
  image,
  signedIn,
  real,
}: {
  repository: Repository;
  image: string;
  signedIn: boolean;
  /** Whether `image` exists (its tags are read to name one that does). */
  real: boolean;
}) {
  const key = repository.key;
  const ref = `${host()}/${key}/${image}`;
  const tags = useApi<{ tags: TagInfo[] }>(real ? `${imagePath(key, image)}/tags` : null);
  const list = tags.data?.tags ?? [];
  const newest = [...list].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))[0];
  const tag = list.some((t) => t.tag === 'latest') ? 'latest' : (newest?.tag ?? 'latest');
  const mayPush = pushTarget([repository], key) !== undefined;
  return (
    <section aria-labelledby="setup-title" class="card" data-testid="set-me-up">
      <h2 id="setup-title">Set me up</h2>
      {signedIn && <CopyLine command={`docker login ${host()}`} label="Docker login command" />}
      <CopyLine command={`docker pull ${ref}:${tag}`} label="Docker pull command" />
      <CopyLine
        command={`skopeo copy docker://${ref}:${tag} oci:${image.split('/').pop()}:${tag}`}
        label="Skopeo copy command"
      />
      {mayPush && <CopyLine command={`docker push ${ref}:1.0`} label="Docker push command" />}
      <p class="muted small-text">
        {signedIn
          ? 'docker login asks for your user name and password or an API token (Administration → API tokens).'
          : 'These work without credentials where anonymous reading is allowed.'}{' '}
        Over plain HTTP, add the host to Docker's insecure registries and use{' '}
        <code>skopeo --src-tls-verify=false</code>.
      </p>
    </section>
  );
}

export function RepositoryPage({ repoKey }: { repoKey: string }) {
  const { me } = useSession();
  const loc = useLocation();
  const pages = usePageTrail();
  const last = pages.at;
  const filter = loc.query.get('image') || '';
  const [typed, setTyped] = useState(filter);
  const repo = useApi<Repository>(`/repositories/${encodeURIComponent(repoKey)}`);
  const path = `/repositories/${encodeURIComponent(repoKey)}/images${qs({ n: 50, last, image: filter })}`;
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
              <p class="muted" data-testid="storage">
                {r.stats.imageCount} images, {bytes(r.stats.sizeBytes)} of storage used, last push{' '}
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
            {repo.data && (
              <SetMeUp
                repository={repo.data}
                image={list[0] ? imageName(list[0]) : 'team/app'}
                real={Boolean(list[0])}
                signedIn={me.authenticated}
              />
            )}
            <form
              class="list-controls"
              onSubmit={(e) => {
                e.preventDefault();
                setQuery({ image: typed.trim() || undefined });
              }}
            >
              <div class="field">
                <label for="image-filter">Find an image</label>
                <input
                  id="image-filter"
                  type="search"
                  value={typed}
                  onInput={(e) => setTyped(e.currentTarget.value)}
                />
              </div>
              <button type="submit" class="secondary">
                Find
              </button>
            </form>
            {list.length === 0 ? (
              <Empty>
                <p>
                  {filter
                    ? `No image named like ${filter} in ${repoKey} that you may read.`
                    : last
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
                setQuery({
                  image: filter || undefined,
                  ...pages.forward(n ? (new URL(n, location.origin).searchParams.get('last') ?? '') : ''),
                });
              }}
              onPrevious={pages.back && (() => setQuery({ image: filter || undefined, ...pages.back?.() }))}
            />
            {last && (
              <p>
                <Link href={`${repoHref(repoKey)}${qs({ image: filter })}`}>Back to the first page</Link>
              </p>
            )}
          </>
        )}
      </Load>
    </>
  );
}
