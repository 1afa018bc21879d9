import { useState } from 'preact/hooks';
import { api, imagePath, type TagEvent, type TagInfo } from '../../api';
import { ConfirmButton, DataTable } from '../../parts';
import { Digest, Empty, ErrorBox, Load, Notice, short, TagKind, Time, useAction, useApi } from '../../ui';
import type { Props } from './shared';

export function TagsTable({
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
  const [filter, setFilter] = useState('');
  const [order, setOrder] = useState<TagOrder>('semver');
  const shown = sortTags(
    list.filter((t) => t.tag.toLowerCase().includes(filter.trim().toLowerCase())),
    order,
  );
  return (
    <>
      <div class="list-controls" data-testid="tag-controls">
        <div class="field">
          <label for="tag-filter">Find a tag</label>
          <input
            id="tag-filter"
            type="search"
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="tag-order">Sort by</label>
          <select id="tag-order" value={order} onChange={(e) => setOrder(e.currentTarget.value as TagOrder)}>
            <option value="semver">Version, newest first</option>
            <option value="pushed">Push time, newest first</option>
            <option value="name">Name</option>
          </select>
        </div>
        <p class="muted small-text" role="status">
          {shown.length === list.length ? `${list.length} tags` : `${shown.length} of ${list.length} tags`}
        </p>
      </div>
      <DataTable testid="tags" caption="Tags" columns={['Tag', 'Kind', 'Digest', 'Updated']} actions>
        {shown.map((t) => (
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
                aria-label={`${short(t.digest)}: show ${t.tag}`}
                title={t.digest}
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
    </>
  );
}

type TagOrder = 'semver' | 'pushed' | 'name';

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/;

/**
 * Semantic-version order, highest first: numbers compared as numbers, a pre-release below its
 * release; tags that are not versions follow, by name.
 */
function compareSemver(a: string, b: string): number {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return x ? -1 : y ? 1 : a.localeCompare(b);
  for (let i = 1; i <= 3; i++) {
    const d = Number(y[i]) - Number(x[i]);
    if (d !== 0) return d;
  }
  if (!x[4] !== !y[4]) return x[4] ? 1 : -1;
  return (y[4] ?? '').localeCompare(x[4] ?? '', undefined, { numeric: true });
}

export function sortTags(tags: readonly TagInfo[], order: TagOrder): TagInfo[] {
  const out = [...tags];
  if (order === 'name') return out.sort((a, b) => a.tag.localeCompare(b.tag));
  if (order === 'pushed')
    return out.sort((a, b) =>
      a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.tag.localeCompare(b.tag),
    );
  return out.sort((a, b) => compareSemver(a.tag, b.tag));
}

export function TagHistory({
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
        <h2 id="history-title">
          History of {tag} <span class="muted">in {repository}</span>
        </h2>
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
                {events.length < 2 ? (
                  <span class="muted">{tag} has not moved: there is nothing to roll back to.</span>
                ) : (
                  <>
                    <ConfirmButton
                      label="Rollback"
                      name={tag}
                      confirm={`Roll ${tag} back`}
                      effect={`${tag} in ${repository}/${image} moves from ${short(events[0]?.newDigest)} back to ${short(events[0]?.oldDigest)}, where it was before its last move; everyone pulling ${tag} gets that image from now on.`}
                      run={() => rollback.go({ steps: 1 })}
                    />{' '}
                    <span class="muted">points {tag} back at where it was before its last move.</span>
                  </>
                )}
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
                        <ConfirmButton
                          label="Rollback to this"
                          name={`${tag} at ${short(e.newDigest)}`}
                          confirm={`Point ${tag} here`}
                          effect={`${tag} moves from ${short(current)} to ${short(e.newDigest)}; everyone pulling ${tag} gets that image from now on.`}
                          run={() => rollback.go({ to: e.newDigest! })}
                        />
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
