import { useState } from 'preact/hooks';
import {
  ApiError,
  api,
  type GateVerdict,
  type Pipeline,
  type PromotionResult,
  promoteTargets,
  type Repository,
} from '../api';
import { TextField } from '../parts';
import {
  CopyLine,
  Dialog,
  Digest,
  ErrorBox,
  Loading,
  pullCommand,
  short,
  useAction,
  useApi,
  Verdict,
} from '../ui';

export interface PromoteSource {
  repository: string;
  image: string;
  digest: string;
  tags?: string[];
  target?: string;
}

function GateTable({ gates, caption }: { gates: GateVerdict[]; caption: string }) {
  if (gates.length === 0)
    return <p class="muted">The target declares no gates: anything readable may enter.</p>;
  return (
    <table class="responsive" data-testid="gate-verdicts">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Gate</th>
          <th scope="col">Verdict</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {gates.map((g) => (
          <tr key={g.gate} class={g.passed ? '' : 'row-fail'}>
            <td data-label="Gate">{g.gate}</td>
            <td data-label="Verdict">
              <Verdict passed={g.passed} />
            </td>
            <td data-label="Reason">{g.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * What "Confirm promotion" will do, in one sentence: the irreversible parts (a move leaves the
 * source, tags are set, floating tags follow, production-like stages take content only so).
 */
function promoteEffect(p: {
  digest: string;
  from: string;
  target: Repository | undefined;
  tags: string[];
  mode: 'copy' | 'move';
}): string {
  const key = p.target?.key ?? '?';
  const only = p.target?.settings?.writes === 'promotion-only';
  return [
    `Confirm promotion ${p.mode === 'move' ? 'moves' : 'copies'} ${short(p.digest)} ${p.mode === 'move' ? `out of ${p.from} ` : ''}into ${key}`,
    p.tags.length ? ` and sets ${p.tags.join(', ')} there` : ' without tags',
    only ? ` (${key} takes content only by promotion: this is what its users will pull)` : '',
    p.target?.settings?.tags && (p.target.settings.tags as { floating?: boolean }).floating
      ? '; floating tags (latest, X, X.Y) follow.'
      : '.',
  ].join('');
}

export function PromoteDialog({
  source,
  onClose,
  onDone,
}: {
  source: PromoteSource;
  onClose(): void;
  /** After a real promotion (not a dry run): where the digest went and whether it left the source. */
  onDone?(done: { target: string; mode: 'copy' | 'move' }): void;
}) {
  const repos = useApi<{ repositories: Repository[] }>('/repositories');
  // The pipeline's order says which stage comes next: the natural target.
  const pipeline = useApi<Pipeline>(source.target ? null : '/pipeline?n=1');
  const [target, setTarget] = useState(source.target ?? '');
  // Floating tags (latest, X, X.Y) follow by themselves where the target floats them.
  const [tags, setTags] = useState(
    (source.tags ?? []).filter((t) => !/^(latest|\d+|\d+\.\d+)$/.test(t)).join(', '),
  );
  const [mode, setMode] = useState<'copy' | 'move'>('copy');
  const [comment, setComment] = useState('');
  const [dry, setDry] = useState<PromotionResult | null>(null);
  const [refused, setRefused] = useState<{ detail: string; gates: GateVerdict[] } | null>(null);

  // Only where the caller may promote: an empty or refused choice is never offered.
  const locals = promoteTargets(repos.data?.repositories, source.repository);
  const order = (pipeline.data?.stages ?? []).map((s) => s.repository);
  const next = order[order.indexOf(source.repository) + 1];
  const chosen = target || (next && locals.some((r) => r.key === next) ? next : locals[0]?.key) || '';
  const body = (dryRun: boolean) => ({
    source: `${source.repository}/${source.image}@${source.digest}`,
    target: chosen,
    tags: tags
      .split(/[\s,]+/)
      .map((t) => t.trim())
      .filter(Boolean),
    mode,
    comment,
    dryRun,
  });
  const promote = useAction(async (dryRun: boolean) => {
    setRefused(null);
    if (!dryRun) setDry(null);
    try {
      const result = await api<PromotionResult>('POST', '/promotions', body(dryRun));
      if (dryRun) setDry(result);
      else onDone?.({ target: chosen, mode });
      return result;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && Array.isArray(e.body?.gates)) {
        setRefused({ detail: e.detail, gates: e.body.gates as GateVerdict[] });
        return undefined;
      }
      throw e;
    }
  });
  const changed = () => {
    setDry(null);
    setRefused(null);
    promote.setResult(undefined);
    promote.setError(undefined);
  };
  const done = promote.result && !promote.result.dryRun ? promote.result : null;

  return (
    <Dialog title="Promote" onClose={onClose} testid="promote-dialog">
      <p>
        <code>
          {source.repository}/{source.image}
        </code>{' '}
        @ <Digest value={source.digest} />
      </p>
      {repos.error && <ErrorBox error={repos.error} />}
      {repos.loading && !repos.data && <Loading what="Loading repositories" />}
      {done ? (
        <div class="stack" data-testid="promotion-done">
          <p class="state ok" role="status">
            Promoted into <strong>{chosen}</strong>
            {done.tags.length > 0 && <> as {done.tags.map((t) => t.tag).join(', ')}</>}
            {done.floating && done.floating.length > 0 && (
              <> (floating tags moved: {done.floating.map((f) => f.tag).join(', ')})</>
            )}
            .
          </p>
          <CopyLine command={pullCommand(chosen, source.image, source.digest)} label="Pull command" />
          <div class="actions">
            <button type="button" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form
          class="stack"
          // Enter in any field submits the form: that is always a dry run, never the promotion.
          onSubmit={(e) => {
            e.preventDefault();
            promote.go(true);
          }}
        >
          <div class="field">
            <label for="promote-target">Target repository</label>
            <select
              id="promote-target"
              value={chosen}
              onChange={(e) => {
                setTarget(e.currentTarget.value);
                changed();
              }}
            >
              {locals.map((r) => (
                <option key={r.key} value={r.key}>
                  {r.key}
                  {r.description ? ` — ${r.description}` : ''}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="promote-tags">Tags</label>
            <input
              id="promote-tags"
              value={tags}
              aria-describedby="promote-tags-hint"
              onInput={(e) => {
                setTags(e.currentTarget.value);
                changed();
              }}
            />
            <small id="promote-tags-hint">Separate tags with commas; none promotes the digest alone.</small>
          </div>
          <fieldset class="field inline">
            <legend>Mode</legend>
            <label>
              <input
                type="radio"
                name="promote-mode"
                checked={mode === 'copy'}
                onChange={() => {
                  setMode('copy');
                  changed();
                }}
              />{' '}
              Copy (the source keeps it)
            </label>
            <label>
              <input
                type="radio"
                name="promote-mode"
                checked={mode === 'move'}
                onChange={() => {
                  setMode('move');
                  changed();
                }}
              />{' '}
              Move
            </label>
          </fieldset>
          <TextField id="promote-comment" label="Comment" value={comment} onValue={setComment} />
          {dry && (
            <div data-testid="dry-run-result">
              <p role="status" class={dry.promoted ? 'state ok' : 'state error'}>
                Dry run:{' '}
                {dry.promoted
                  ? 'every gate passes; the promotion would succeed.'
                  : 'the promotion would be refused.'}
              </p>
              <GateTable gates={dry.gates} caption={`Gates of ${chosen}`} />
            </div>
          )}
          {refused && (
            <div data-testid="promotion-refused">
              <ErrorBox error={refused.detail} title="Refused" />
              <GateTable gates={refused.gates} caption={`Gates of ${chosen}`} />
            </div>
          )}
          {promote.error && <ErrorBox error={promote.error} />}
          {chosen && (
            <p class="confirm-effect" data-testid="promote-effect">
              {promoteEffect({
                digest: source.digest,
                from: source.repository,
                target: locals.find((r) => r.key === chosen),
                tags: body(false).tags,
                mode,
              })}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="secondary" disabled={promote.busy || !chosen}>
              Dry run
            </button>
            <button type="button" disabled={promote.busy || !chosen} onClick={() => promote.go(false)}>
              Confirm promotion
            </button>
            <button type="button" class="link" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export { GateTable };
