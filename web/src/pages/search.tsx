import { useEffect, useState } from 'preact/hooks';
import { imagePath, qs, type Repository } from '../api';
import { Link, setQuery, useLocation } from '../router';
import { CopyLine, Digest, Empty, Load, PageTitle, PushLine, pullCommand, useApi } from '../ui';

interface Hit {
  repository: string;
  image: string;
  digest: string;
  tags: string[];
  properties: Record<string, string[]>;
}

const FIELDS = [
  { name: 'name', label: 'Name', hint: 'part of repository/image, e.g. team/app', placeholder: 'team/app' },
  { name: 'tag', label: 'Tag', hint: 'e.g. 1.4.2', placeholder: '1.4.2' },
  {
    name: 'digest',
    label: 'Digest prefix',
    hint: 'sha256:1a2b… (at least a few hex digits)',
    placeholder: 'sha256:1a2b…',
  },
  {
    name: 'property',
    label: 'Property',
    hint: 'key=value, e.g. qa.status=passed',
    placeholder: 'qa.status=passed',
  },
  {
    name: 'label',
    label: 'Label',
    hint: 'key=value, e.g. org.opencontainers.image.revision=abc',
    placeholder: 'key=value',
  },
  { name: 'annotation', label: 'Annotation', hint: 'key=value', placeholder: 'key=value' },
  { name: 'repository', label: 'Repository', hint: 'a repository key', placeholder: 'docker-prod-local' },
] as const;

type Form = Record<(typeof FIELDS)[number]['name'], string>;

function fromQuery(q: URLSearchParams): Form {
  return Object.fromEntries(FIELDS.map((f) => [f.name, q.get(f.name) ?? ''])) as Form;
}

export function SearchPage() {
  const loc = useLocation();
  const [form, setForm] = useState<Form>(() => fromQuery(loc.query));
  useEffect(() => setForm(fromQuery(loc.query)), [loc.href]);
  const asked = fromQuery(loc.query);
  const any = Object.values(asked).some((v) => v.trim());
  const repos = useApi<{ repositories: Repository[] }>(any ? null : '/repositories');
  const state = useApi<{ results: Hit[]; truncated?: boolean }>(
    any ? `/search${qs({ ...asked, limit: 200 })}` : null,
  );
  return (
    <>
      <PageTitle title="Search">Search</PageTitle>
      <form
        class="card search-form"
        aria-label="Search images"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()])));
        }}
      >
        {FIELDS.map((f) => (
          <div class="field" key={f.name}>
            <label for={`search-${f.name}`}>{f.label}</label>
            <input
              id={`search-${f.name}`}
              name={f.name}
              value={form[f.name]}
              placeholder={f.placeholder}
              aria-describedby={`search-${f.name}-hint`}
              spellcheck={false}
              onInput={(e) => {
                const v = e.currentTarget.value;
                setForm((o) => ({ ...o, [f.name]: v }));
              }}
            />
            <small id={`search-${f.name}-hint`} class="visually-hidden">
              {f.hint}
            </small>
          </div>
        ))}
        <div class="actions">
          <button type="submit">Search</button>
          <button type="button" class="link" onClick={() => setQuery({})}>
            Clear
          </button>
        </div>
      </form>
      {!any ? (
        <>
          <p class="muted">Every field narrows the search; results are limited to what you may read.</p>
          <PushLine repos={repos.data?.repositories} />
        </>
      ) : (
        <Load state={state} what="Searching">
          {({ results, truncated }) =>
            results.length === 0 ? (
              <Empty>Nothing matches.</Empty>
            ) : (
              <>
                <CopyLine
                  command={pullCommand(results[0]!.repository, results[0]!.image, results[0]!.digest)}
                  label="Pull command"
                />
                <div class="table-wrap">
                  <table class="responsive" data-testid="search-results">
                    <caption>
                      {results.length} result{results.length === 1 ? '' : 's'}
                      {truncated ? ' (more exist: narrow the search)' : ''}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Image</th>
                        <th scope="col">Digest</th>
                        <th scope="col">Tags</th>
                        <th scope="col">Properties</th>
                      </tr>
                    </thead>
                    <tbody>
                      {results.map((h) => (
                        <tr key={h.repository + h.image + h.digest}>
                          <th scope="row" data-label="Image">
                            <Link href={imagePath(h.repository, h.image)}>
                              {h.repository}/{h.image}
                            </Link>
                          </th>
                          <td data-label="Digest">
                            <Digest
                              value={h.digest}
                              href={`${imagePath(h.repository, h.image)}?digest=${encodeURIComponent(h.digest)}`}
                            />
                          </td>
                          <td data-label="Tags">
                            {h.tags.join(', ') || <span class="muted">untagged</span>}
                          </td>
                          <td data-label="Properties" class="small-text">
                            {Object.entries(h.properties ?? {})
                              .map(([k, v]) => `${k}=${v.join(',')}`)
                              .join('; ') || <span class="muted">none</span>}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )
          }
        </Load>
      )}
    </>
  );
}
