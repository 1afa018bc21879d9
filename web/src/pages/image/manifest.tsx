import { useState } from 'preact/hooks';
import { actionsIn, type Manifest, promoteTargets, type Repository } from '../../api';
import { DataTable } from '../../parts';
import { navigate } from '../../router';
import { useSession } from '../../session';
import { bytes, CopyLine, Digest, Load, pullCommand, short, skopeoCommand, useApi } from '../../ui';
import { PromoteDialog } from '../promote';
import { ConfigView, KeyValues } from './config';
import { PropertiesEditor } from './properties';
import { BuildsView, ChecklistView, PromotionHistory, ReferrersView } from './provenance';
import { manifestPath, type Props } from './shared';

export function ManifestView(
  props: Props & { digest: string; tagsReload(): void; onSelect(d: string): void },
) {
  const { repository, image, digest } = props;
  const m = useApi<Manifest>(manifestPath(props, digest));
  const repos = useApi<{ repositories: Repository[] }>('/repositories');
  const targets = promoteTargets(repos.data?.repositories, m.data?.repository ?? repository);
  const { me } = useSession();
  const [promoting, setPromoting] = useState(false);
  const [movedTo, setMovedTo] = useState('');
  const [generation, setGeneration] = useState(0);
  // A signature or an SBOM is not something to pull and run, nor promoted on its own (it travels
  // with its subject): no pull, copy or promote for it, and a way back to what it belongs to.
  const artifact = m.data ? Boolean(m.data.artifactType || m.data.subject) : undefined;
  return (
    <section aria-labelledby="manifest-title" data-testid="manifest">
      <div class="section-head">
        <h2 id="manifest-title">
          <code title={digest}>{short(digest)}</code>
        </h2>
        {me.authenticated && artifact === false && targets.length > 0 && (
          <button type="button" onClick={() => setPromoting(true)} data-testid="promote">
            Promote
          </button>
        )}
        {me.authenticated && artifact === false && repos.data && targets.length === 0 && (
          <span class="muted small-text" data-testid="promote-unavailable">
            No Promote: {me.name} may not promote into any repository.
          </span>
        )}
      </div>
      {artifact === false && (
        <>
          <CopyLine command={pullCommand(repository, image, digest)} label="Pull command" />
          <CopyLine command={skopeoCommand(repository, image, digest)} label="Skopeo command" />
        </>
      )}
      <Load state={m} what="Loading the manifest">
        {(man) => (
          <>
            {artifact && (
              <p class="state empty" data-testid="artifact">
                An artifact
                {man.artifactType ? (
                  <>
                    {' '}
                    of type <code class="break">{man.artifactType}</code>
                  </>
                ) : null}
                , not an image to run
                {man.subject ? (
                  <>
                    : it belongs to{' '}
                    <button
                      type="button"
                      class="link"
                      onClick={() => props.onSelect(man.subject!)}
                      title={man.subject}
                    >
                      <code class="digest">{short(man.subject)}</code>
                    </button>{' '}
                    and is promoted with it
                  </>
                ) : null}
                .
              </p>
            )}
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
                        aria-label={`${short(p.digest)}: show ${p.platform}`}
                        title={p.digest}
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
            {/* Properties belong to the repository holding the digest, also when it is viewed
                through a virtual one (which holds nothing and refuses them). */}
            <PropertiesEditor
              {...props}
              repository={man.repository ?? repository}
              initial={man.properties ?? {}}
              mayEdit={actionsIn(repos.data?.repositories, man.repository ?? repository).includes('annotate')}
            />
            <BuildsView builds={man.builds ?? []} digest={digest} />
            {!artifact && <ChecklistView path={`${manifestPath(props, digest)}/checklist`} />}
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
            // After a move the digest is no longer here: follow it to where it went.
            if (movedTo)
              navigate(
                `/repositories/${encodeURIComponent(movedTo)}/images/${image}?digest=${encodeURIComponent(digest)}`,
              );
          }}
          // Not reloading the tags after a move: the image may be gone from here, and the
          // reload would take the page (and the dialog saying where it went) with it.
          onDone={(done) => (done.mode === 'move' ? setMovedTo(done.target) : props.tagsReload())}
        />
      )}
    </section>
  );
}
