import { imagePath, type Repository, type TagInfo } from '../../api';
import { Link, setQuery, useLocation } from '../../router';
import { Empty, Load, PageTitle, PushLine, useApi } from '../../ui';
import { ManifestView } from './manifest';
import type { Props } from './shared';
import { TagHistory, TagsTable } from './tags';

const REFERRER_TAG = /^sha(256|512)-[0-9a-f]{64}(\..*)?$/;

export function ImagePage(props: Props) {
  const { repository, image } = props;
  const loc = useLocation();
  const base = imagePath(repository, image);
  const tags = useApi<{ tags: TagInfo[] }>(`${base}/tags`);
  const repos = useApi<{ repositories: Repository[] }>('/repositories');
  const list = tags.data?.tags ?? [];
  const wantedTag = loc.query.get('tag');
  // Never open on a signature or an SBOM by default: clients without the referrers API tag them
  // `<alg>-<hex>[.suffix]` (the OCI tag schema), often after the image itself.
  const runnable = list.filter((t) => !REFERRER_TAG.test(t.tag));
  const newest = [...(runnable.length ? runnable : list)].sort((a, b) =>
    a.updatedAt < b.updatedAt ? 1 : -1,
  )[0];
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
      {/* The pull command is the manifest's (below): a signature or an SBOM has none. */}
      {!digest && <PushLine repos={repos.data?.repositories} repository={repository} />}
      {/* A missing image in a repository the visitor can already read is missing for everyone:
          no sign-in offer there. */}
      <Load
        state={tags}
        what="Loading tags"
        signIn={!repos.data?.repositories.some((r) => r.key === repository)}
      >
        {() =>
          list.length === 0 && !digest ? (
            <Empty>
              No tags in {repository}/{image}.
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
      {/* A tag's history lives in the repository holding the tag: through a virtual
          repository, the member serving it (the virtual one has no history and refuses). */}
      {historyOf && tags.data && (
        <TagHistory
          {...props}
          repository={list.find((t) => t.tag === historyOf)?.repository ?? repository}
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
