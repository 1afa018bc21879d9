import { useState } from 'preact/hooks';
import { api, imagePath, nextPage, type Pipeline, qs, type Repository, type Waiting } from '../api';
import { Link, setQuery, useLocation } from '../router';
import { useSession } from '../session';
import {
  CopyButton,
  CopyLine,
  Digest,
  Empty,
  ErrorBox,
  Load,
  Pager,
  PageTitle,
  PushLine,
  pullCommand,
  useAction,
  useApi,
  usePageTrail,
  Verdict,
} from '../ui';
import { PromoteDialog, type PromoteSource } from './promote';

const uiImage = (repo: string, image: string, digest?: string) =>
  `${imagePath(repo, image)}${digest ? `?digest=${encodeURIComponent(digest)}` : ''}`;

function WaitingBox({
  w,
  image,
  tags,
  onPromote,
  onApproved,
}: {
  w: Waiting;
  image: string;
  tags: string[];
  onPromote(s: PromoteSource): void;
  onApproved(): void;
}) {
  const { me } = useSession();
  const id = `wait-${image}-${w.to}-${w.digest}`.replace(/[^a-zA-Z0-9-]/g, '-');
  const approve = useAction(() =>
    api('POST', '/approvals', { repository: w.to, digest: w.digest, comment: '' }),
  );
  const withdraw = useAction(async () => {
    await api('DELETE', `/approvals${qs({ digest: w.digest, repository: w.to })}`);
    return true;
  });
  return (
    <div class="waiting" data-testid="waiting">
      <p id={id}>
        <strong>Waiting</strong> from {w.from}:{' '}
        <Digest value={w.digest} href={uiImage(w.from, image, w.digest)} />
        {tags.length > 0 && <span class="tags"> {tags.join(', ')}</span>}
      </p>
      {w.gates.length > 0 && (
        <ul class="gates" aria-label={`Gates of ${w.to} for ${image}`}>
          {w.gates.map((g) => (
            <li key={g.gate} class={g.passed ? 'gate-pass' : 'gate-fail'}>
              <Verdict passed={g.passed} /> <span class="gate-name">{g.gate}</span>
              {!g.passed && <span class="reason">: {g.reason}</span>}
              {!g.passed && g.type === 'approval' && w.mayApprove && (
                <>
                  {' '}
                  <button
                    type="button"
                    class="secondary tiny"
                    disabled={approve.busy}
                    aria-describedby={id}
                    onClick={async () => (await approve.go()) && onApproved()}
                  >
                    Approve
                  </button>
                </>
              )}
              {g.type === 'approval' && me.authenticated && g.approvers?.includes(me.name) && (
                <>
                  {' '}
                  <button
                    type="button"
                    class="secondary tiny"
                    disabled={withdraw.busy}
                    aria-describedby={id}
                    onClick={async () => (await withdraw.go()) && onApproved()}
                  >
                    Withdraw my approval
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {approve.error && <ErrorBox error={approve.error} />}
      {withdraw.error && <ErrorBox error={withdraw.error} />}
      {w.promotable ? (
        <button
          type="button"
          class="small"
          aria-describedby={id}
          data-testid="promote"
          onClick={() => onPromote({ repository: w.from, image, digest: w.digest, tags, target: w.to })}
        >
          Promote
        </button>
      ) : (
        <p class="muted small-text" data-testid="unavailable">
          Not promotable{w.unavailable ? `: ${w.unavailable}` : ''}.
        </p>
      )}
    </div>
  );
}

/** The other builds a stage still holds besides the followed tag's: older releases, hotfixes. */
function OtherDigests({
  repository,
  image,
  others,
}: {
  repository: string;
  image: string;
  others: Pipeline['images'][number]['otherDigests'][string] | undefined;
}) {
  if (!others || others.digests.length === 0) return null;
  return (
    <details class="other-digests" data-testid="other-digests">
      <summary>
        {others.digests.length + others.more} other{' '}
        {others.digests.length + others.more === 1 ? 'digest' : 'digests'}
      </summary>
      <ul>
        {others.digests.map((d) => (
          <li key={d.digest}>
            <Digest value={d.digest} href={uiImage(repository, image, d.digest)} />{' '}
            <span class="tags">{d.tags.join(', ')}</span>
          </li>
        ))}
        {others.more > 0 && (
          <li>
            <Link href={uiImage(repository, image)}>
              {others.more} more in {repository}
            </Link>
          </li>
        )}
      </ul>
    </details>
  );
}

export function PipelinePage() {
  const { me } = useSession();
  const loc = useLocation();
  const tag = loc.query.get('tag') || 'latest';
  const pages = usePageTrail();
  const last = pages.at;
  const image = loc.query.get('image') || '';
  const stage = loc.query.get('stage') || '';
  const path = `/pipeline${qs({ n: 20, tag, last, image, stage })}`;
  const state = useApi<Pipeline>(path);
  const repos = useApi<{ repositories: Repository[] }>('/repositories');
  const [tagInput, setTagInput] = useState(tag);
  const [imageInput, setImageInput] = useState(image);
  const [stageInput, setStageInput] = useState(stage);
  const [promoting, setPromoting] = useState<PromoteSource | null>(null);

  return (
    <>
      <PageTitle title="Pipeline">Pipeline</PageTitle>
      <form
        class="toolbar"
        aria-label="Tag line"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({
            tag: tagInput.trim() || 'latest',
            image: imageInput.trim() || undefined,
            stage: stageInput || undefined,
          });
        }}
      >
        <div class="field inline">
          <label for="pipeline-image">Image</label>
          <input
            id="pipeline-image"
            type="search"
            value={imageInput}
            placeholder="team/app"
            onInput={(e) => setImageInput(e.currentTarget.value)}
          />
        </div>
        <div class="field inline">
          <label for="pipeline-stage">Stage</label>
          <select
            id="pipeline-stage"
            value={stageInput}
            onChange={(e) => setStageInput(e.currentTarget.value)}
          >
            <option value="">every stage</option>
            {(state.data?.stages ?? []).map((s) => (
              <option key={s.repository} value={s.repository}>
                in {s.repository}
              </option>
            ))}
          </select>
        </div>
        <div class="field inline">
          <label for="pipeline-tag">Tag line</label>
          <input
            id="pipeline-tag"
            value={tagInput}
            onInput={(e) => setTagInput(e.currentTarget.value)}
            aria-describedby="pipeline-tag-hint"
          />
        </div>
        <button type="submit" class="secondary">
          Show
        </button>
        <small id="pipeline-tag-hint">Which tag to follow through the stages: latest, 1.4, main, …</small>
      </form>
      <Load state={state} what="Loading the pipeline">
        {(p) => {
          const stages = p.stages;
          // The server applies both filters before paging: a page is never emptied by them.
          const images = p.images;
          const firstHeld = p.images
            .map((img) => {
              const held = [...stages].reverse().find((s) => img.stages[s.repository]);
              return held
                ? { image: img.image, repo: held.repository, digest: img.stages[held.repository]!.digest }
                : null;
            })
            .find(Boolean);
          return (
            <>
              {firstHeld ? (
                <CopyLine
                  command={pullCommand(firstHeld.repo, firstHeld.image, firstHeld.digest)}
                  label="Pull command"
                />
              ) : (
                <PushLine repos={repos.data?.repositories} />
              )}
              {stages.length === 0 ? (
                <Empty>
                  {me.authenticated ? (
                    <>
                      No local repositories you may read form a pipeline yet.{' '}
                      {me.admin && <Link href="/repositories/new">Create a repository</Link>}
                    </>
                  ) : (
                    <>
                      Nothing here is readable without signing in.{' '}
                      <Link href="/sign-in?next=/ui/pipeline">Sign in</Link> to see the pipeline.
                    </>
                  )}
                </Empty>
              ) : images.length === 0 ? (
                <Empty>
                  <p>
                    {image || stage
                      ? `No image${image ? ` named like ${image}` : ''}${stage ? ` in ${stage}` : ''} on the tag line ${tag}.`
                      : `No images yet${tag !== 'latest' ? ` on the tag line ${tag}` : ''}.`}
                  </p>
                </Empty>
              ) : (
                <div class="table-wrap">
                  <table class="pipeline responsive" data-testid="pipeline">
                    <caption>
                      Stages in pipeline order, tag line <strong>{tag}</strong>
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Image</th>
                        {stages.map((s) => (
                          <th scope="col" key={s.repository}>
                            <Link href={`/repositories/${encodeURIComponent(s.repository)}`}>
                              {s.repository}
                            </Link>
                            {s.gates.length > 0 && (
                              <span class="stage-gates">
                                <span class="visually-hidden">gates: </span>
                                {s.gates.join('; ')}
                              </span>
                            )}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {images.map((img) => (
                        <tr key={img.image} data-testid="pipeline-row">
                          <th scope="row" data-label="Image">
                            {img.image}
                          </th>
                          {stages.map((s) => {
                            const held = img.stages[s.repository];
                            const waits = img.waiting.filter((w) => w.to === s.repository);
                            return (
                              <td key={s.repository} data-label={s.repository}>
                                {held ? (
                                  <div class="held">
                                    <Digest
                                      value={held.digest}
                                      href={uiImage(s.repository, img.image, held.digest)}
                                    />
                                    {held.tags.length > 0 && <span class="tags">{held.tags.join(', ')}</span>}
                                    <CopyButton
                                      text={pullCommand(s.repository, img.image, held.digest)}
                                      label={`Copy pull command for ${s.repository}/${img.image}`}
                                    />
                                  </div>
                                ) : (
                                  <span class="muted">not here</span>
                                )}
                                <OtherDigests
                                  repository={s.repository}
                                  image={img.image}
                                  others={img.otherDigests[s.repository]}
                                />
                                {waits.map((w) => (
                                  <WaitingBox
                                    key={w.digest + w.from}
                                    w={w}
                                    image={img.image}
                                    tags={
                                      img.stages[w.from]?.digest === w.digest ? img.stages[w.from]!.tags : []
                                    }
                                    onPromote={setPromoting}
                                    onApproved={state.reload}
                                  />
                                ))}
                              </td>
                            );
                          })}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <Pager
                next={p.next}
                onNext={() => {
                  const n = nextPage(path, p.next);
                  const last = n ? (new URL(n, location.origin).searchParams.get('last') ?? '') : '';
                  setQuery({
                    tag,
                    image: image || undefined,
                    stage: stage || undefined,
                    ...pages.forward(last),
                  });
                }}
                onPrevious={
                  pages.back &&
                  (() =>
                    setQuery({
                      tag,
                      image: image || undefined,
                      stage: stage || undefined,
                      ...pages.back?.(),
                    }))
                }
              />
              {last && (
                <p>
                  <Link href={`/pipeline${qs({ tag, image, stage })}`}>Back to the first page</Link>
                </p>
              )}
              {p.others.length > 0 && (
                <section aria-labelledby="others-title">
                  <h2 id="others-title">Virtual and remote repositories</h2>
                  <ul class="others" data-testid="other-repositories">
                    {p.others.map((o) => (
                      <li key={o.repository}>
                        <Link href={`/repositories/${encodeURIComponent(o.repository)}`}>{o.repository}</Link>{' '}
                        <span class={`badge badge-kind`}>{o.kind}</span>{' '}
                        {o.kind === 'virtual' && o.members
                          ? `one address over ${o.members.join(', ')}`
                          : o.kind === 'remote'
                            ? 'a pull-through cache'
                            : ''}
                        {o.description && <span class="muted"> — {o.description}</span>}
                      </li>
                    ))}
                  </ul>
                </section>
              )}
            </>
          );
        }}
      </Load>
      {promoting && (
        <PromoteDialog source={promoting} onClose={() => setPromoting(null)} onDone={() => state.reload()} />
      )}
    </>
  );
}
