import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api } from '../api';
import { DataTable } from '../parts';
import { setQuery } from '../router';
import { Digest, Empty, ErrorBox, Notice, useAction } from '../ui';

// The retention rules of one repository, edited in a form whose dry-run preview follows every
// change (POST /retention/<key>/evaluate with the form's rules); saved in the repository's
// settings with PATCH, keeping its other settings.

export type Rule = Record<string, unknown>;

interface PreviewItem {
  image: string;
  tag?: string;
  digest: string;
  action: 'keep' | 'remove';
  rule: string;
}

const KINDS = [
  { value: 'keep-last', label: 'Keep the last N tags' },
  { value: 'keep-newer', label: 'Keep tags newer than D days' },
  { value: 'remove-untagged', label: 'Remove untagged manifests older than D days' },
  { value: 'remove-not-pulled', label: 'Remove images not pulled for D days' },
] as const;

type Kind = (typeof KINDS)[number]['value'];

interface RuleForm {
  kind: Kind;
  number: string;
  tags: string;
  order: 'pushed' | 'semver';
  immutable: boolean;
}

function toForm(rule: Rule): RuleForm {
  const kind: Kind =
    rule.keep === 'last'
      ? 'keep-last'
      : rule.keep === 'newer'
        ? 'keep-newer'
        : rule.remove === 'untagged'
          ? 'remove-untagged'
          : 'remove-not-pulled';
  return {
    kind,
    number: String(rule.count ?? rule.days ?? ''),
    tags: typeof rule.tags === 'string' ? rule.tags : '',
    order: rule.order === 'semver' ? 'semver' : 'pushed',
    immutable: rule.immutable === true,
  };
}

/** The form's rules as the API takes them; numbers left as typed so the server names bad ones. */
function toRule(f: RuleForm): Rule {
  const n = f.number.trim() === '' ? f.number : Number(f.number);
  const extra = { ...(f.immutable ? { immutable: true } : {}) };
  const tags = f.tags.trim() ? { tags: f.tags.trim() } : {};
  switch (f.kind) {
    case 'keep-last':
      return { keep: 'last', count: n, ...tags, order: f.order, ...extra };
    case 'keep-newer':
      return { keep: 'newer', days: n, ...tags, ...extra };
    case 'remove-untagged':
      return { remove: 'untagged', days: n, ...extra };
    default:
      return { remove: 'not-pulled', days: n, ...extra };
  }
}

export function RetentionEditor({
  repoKey,
  initial,
  onSaved,
}: {
  repoKey: string;
  initial: { schedule?: string; rules: Rule[] } | null;
  onSaved(): void;
}) {
  const [rules, setRules] = useState<RuleForm[]>(() =>
    (initial?.rules ?? [{ keep: 'last', count: 10 }]).map(toForm),
  );
  const [schedule, setSchedule] = useState(initial?.schedule ?? '');
  const [preview, setPreview] = useState<{ items?: PreviewItem[]; error?: ApiError; busy: boolean }>({
    busy: true,
  });
  const save = useAction(async () => {
    const repo = await api<{ settings: Record<string, unknown> }>('GET', `/repositories/${repoKey}`);
    const retention = { rules: rules.map(toRule), ...(schedule.trim() ? { schedule: schedule.trim() } : {}) };
    await api('PATCH', `/repositories/${repoKey}`, { settings: { ...repo.settings, retention } });
    onSaved();
    return true;
  });
  // The live preview: a dry run of the rules as they stand in the form, after typing pauses.
  const asSent = JSON.stringify(rules.map(toRule));
  useEffect(() => {
    let live = true;
    setPreview((p) => ({ ...p, busy: true }));
    const timer = setTimeout(() => {
      api<{ items: PreviewItem[] }>('POST', `/retention/${repoKey}/evaluate`, {
        dryRun: true,
        rules: JSON.parse(asSent),
      }).then(
        (r) => live && setPreview({ items: r.items, busy: false }),
        (error: ApiError) => live && setPreview({ error, busy: false }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [repoKey, asSent]);
  const change = (i: number, patch: Partial<RuleForm>) =>
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const removing = preview.items?.filter((i) => i.action === 'remove') ?? [];
  return (
    <section aria-labelledby="retention-head" class="card">
      <h2 id="retention-head">Retention rules of {repoKey}</h2>
      <p class="muted">
        A tag stays when any keep rule keeps it; with keep rules, the other tags go. Floating-tag targets,
        digests in a later stage, digests with the property gantry.hold=true, and immutable tags (unless a
        rule says so) always stay.
      </p>
      <form
        aria-label={`Retention rules of ${repoKey}`}
        onSubmit={(e) => {
          e.preventDefault();
          void save.go();
        }}
      >
        {rules.map((r, i) => (
          <fieldset class="field" key={i} data-testid="retention-rule">
            <legend>Rule {i + 1}</legend>
            <label for={`rule-${i}-kind`}>Kind</label>
            <select
              id={`rule-${i}-kind`}
              value={r.kind}
              onChange={(e) => change(i, { kind: e.currentTarget.value as Kind })}
            >
              {KINDS.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
            <label for={`rule-${i}-number`}>{r.kind === 'keep-last' ? 'Tags to keep (N)' : 'Days (D)'}</label>
            <input
              id={`rule-${i}-number`}
              inputMode="numeric"
              value={r.number}
              onInput={(e) => change(i, { number: e.currentTarget.value })}
            />
            {(r.kind === 'keep-last' || r.kind === 'keep-newer') && (
              <>
                <label for={`rule-${i}-tags`}>Tags matching (glob, empty: all)</label>
                <input
                  id={`rule-${i}-tags`}
                  value={r.tags}
                  placeholder="v*"
                  spellcheck={false}
                  onInput={(e) => change(i, { tags: e.currentTarget.value })}
                />
              </>
            )}
            {r.kind === 'keep-last' && (
              <>
                <label for={`rule-${i}-order`}>Order</label>
                <select
                  id={`rule-${i}-order`}
                  value={r.order}
                  onChange={(e) => change(i, { order: e.currentTarget.value as RuleForm['order'] })}
                >
                  <option value="pushed">newest push first</option>
                  <option value="semver">highest version first</option>
                </select>
              </>
            )}
            <label>
              <input
                type="checkbox"
                checked={r.immutable}
                onChange={(e) => change(i, { immutable: e.currentTarget.checked })}
              />{' '}
              may remove immutable tags
            </label>
            <button
              type="button"
              class="secondary small"
              onClick={() => setRules((rs) => rs.filter((_, j) => j !== i))}
              aria-label={`Remove rule ${i + 1}`}
            >
              Remove rule
            </button>
          </fieldset>
        ))}
        <div class="actions">
          <button
            type="button"
            class="secondary"
            onClick={() =>
              setRules((rs) => [
                ...rs,
                { kind: 'remove-untagged', number: '7', tags: '', order: 'pushed', immutable: false },
              ])
            }
          >
            Add rule
          </button>
        </div>
        <div class="field">
          <label for="retention-schedule">Schedule (cron, UTC; empty: on demand only)</label>
          <input
            id="retention-schedule"
            value={schedule}
            placeholder="0 3 * * *"
            spellcheck={false}
            onInput={(e) => setSchedule(e.currentTarget.value)}
          />
        </div>
        <div class="actions">
          <button type="submit" disabled={save.busy}>
            Save rules
          </button>
          <button type="button" class="secondary" onClick={() => setQuery({})}>
            Close
          </button>
        </div>
        {save.error && <ErrorBox error={save.error} title="Not saved" />}
        {save.result && !save.busy && <Notice>Rules saved.</Notice>}
      </form>
      <h3 id="preview-head">Preview (dry run)</h3>
      <div aria-live="polite" data-testid="retention-preview">
        {preview.error ? (
          <ErrorBox error={preview.error} title="These rules cannot be evaluated" />
        ) : preview.items === undefined ? (
          <p class="muted">Evaluating…</p>
        ) : removing.length === 0 ? (
          <Empty>These rules remove nothing now.</Empty>
        ) : (
          <DataTable
            testid="retention-removals"
            caption={`These rules would remove ${removing.length} items${preview.busy ? ' (updating…)' : ''}`}
            columns={['Image', 'Tag', 'Digest', 'Rule']}
          >
            {removing.map((i) => (
              <tr key={`${i.image}:${i.tag ?? ''}@${i.digest}`}>
                <td data-label="Image">{i.image}</td>
                <td data-label="Tag">{i.tag ?? <span class="muted">untagged</span>}</td>
                <td data-label="Digest">
                  <Digest value={i.digest} />
                </td>
                <td data-label="Rule">{i.rule}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </div>
    </section>
  );
}
