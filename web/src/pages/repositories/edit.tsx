import { useEffect, useState } from 'preact/hooks';
import { api, type Repository } from '../../api';
import { TextField } from '../../parts';
import { Link, navigate } from '../../router';
import { ErrorBox, PageTitle, useAction, useApi } from '../../ui';
import { GatesEditor, gateProblems, parseGates } from './gates-form';
import { repoHref } from './shared';

// ----------------------------------------------------------------------- create and edit

export const LOCAL_EXAMPLE = {
  gates: [{ type: 'property', key: 'qa.status', equals: 'passed' }],
  tags: { immutable: ['semver', 'build'], floating: true },
};

export const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));

export function parseJson(
  text: string,
  what: string,
  kind: 'array' | 'object',
): { value?: unknown; error?: string } {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (
      kind === 'array'
        ? !Array.isArray(value)
        : typeof value !== 'object' || value === null || Array.isArray(value)
    )
      return { error: `${what} must be a JSON ${kind}` };
    return { value };
  } catch (e) {
    return { error: `${what} is not valid JSON: ${(e as Error).message}` };
  }
}

interface TagRules {
  immutable: string[];
  floating: boolean;
}

/** The server's defaults when a repository sets no tag rules (tag-rules.ts). */
const DEFAULT_RULES: TagRules = { immutable: ['semver', 'build'], floating: false };

/**
 * Tag rules as a form (named rules as checkboxes, other patterns as a list, floating as a
 * switch) over the same JSON the server takes; "View as JSON" shows and edits that text. Empty
 * text means the server's defaults and stays empty until something is changed.
 */
function TagRulesEditor({ value, onValue }: { value: string; onValue(v: string): void }) {
  const [mode, setMode] = useState<'form' | 'json'>('form');
  let rules: TagRules = DEFAULT_RULES;
  let broken = '';
  if (value.trim()) {
    try {
      const parsed = JSON.parse(value) as Partial<TagRules>;
      rules = {
        immutable: Array.isArray(parsed.immutable) ? parsed.immutable : DEFAULT_RULES.immutable,
        floating: parsed.floating === true,
      };
    } catch (e) {
      broken = (e as Error).message;
    }
  }
  const write = (change: Partial<TagRules>) => onValue(JSON.stringify({ ...rules, ...change }));
  const named = (rule: string, on: boolean) =>
    write({
      immutable: on
        ? [...rules.immutable.filter((r) => r !== rule), rule]
        : rules.immutable.filter((r) => r !== rule),
    });
  const others = rules.immutable.filter((r) => r !== 'semver' && r !== 'build');
  // The text as typed (a trailing comma included); the rules follow it.
  const [patternText, setPatternText] = useState(others.join(', '));
  const json = mode === 'json' || broken !== '';
  return (
    <fieldset class="field" data-testid="tag-rules">
      <legend>Tag rules</legend>
      <p>
        <button
          type="button"
          class="secondary small"
          aria-pressed={json}
          disabled={broken !== ''}
          onClick={() => {
            setPatternText(others.join(', '));
            setMode(json ? 'form' : 'json');
          }}
        >
          {json ? 'Edit as form' : 'View as JSON'}
        </button>
      </p>
      {json ? (
        <>
          <label for="repo-tags">Tag rules (JSON)</label>
          <textarea
            id="repo-tags"
            rows={4}
            spellcheck={false}
            value={value}
            placeholder={JSON.stringify(LOCAL_EXAMPLE.tags)}
            aria-invalid={broken ? true : undefined}
            aria-describedby="repo-tags-hint"
            onInput={(e) => onValue(e.currentTarget.value)}
          />
          <small id="repo-tags-hint" class={broken ? 'field-error' : undefined}>
            {broken
              ? `Not valid JSON (${broken}); fix it here to edit the rules as a form.`
              : 'Immutable tag patterns (semver, build, release-*) and whether X.Y, X and latest float.'}
          </small>
        </>
      ) : (
        <>
          <label>
            <input
              type="checkbox"
              checked={rules.immutable.includes('semver')}
              onChange={(e) => named('semver', e.currentTarget.checked)}
            />{' '}
            Version tags (1.4.2) never move
          </label>
          <label>
            <input
              type="checkbox"
              checked={rules.immutable.includes('build')}
              onChange={(e) => named('build', e.currentTarget.checked)}
            />{' '}
            Build tags (main-3f2a9c1-20261125100000) never move
          </label>
          <label for="repo-tag-patterns">Other tags that never move (patterns, separated by commas)</label>
          <input
            id="repo-tag-patterns"
            value={patternText}
            placeholder="release-*"
            onInput={(e) => {
              const typed = e.currentTarget.value;
              setPatternText(typed);
              write({
                immutable: [
                  ...rules.immutable.filter((r) => r === 'semver' || r === 'build'),
                  ...typed
                    .split(',')
                    .map((x) => x.trim())
                    .filter(Boolean),
                ],
              });
            }}
          />
          <label>
            <input
              type="checkbox"
              checked={rules.floating}
              onChange={(e) => write({ floating: e.currentTarget.checked })}
            />{' '}
            Floating tags: the server points latest, X and X.Y at the highest stable X.Y.Z
          </label>
        </>
      )}
    </fieldset>
  );
}

export function RepositoryEditPage({ repoKey }: { repoKey?: string }) {
  const creating = repoKey === undefined;
  const existing = useApi<Repository>(creating ? null : `/repositories/${encodeURIComponent(repoKey)}`);
  const all = useApi<{ repositories: Repository[] }>('/repositories');
  const [key, setKey] = useState('');
  const [kind, setKind] = useState<Repository['kind']>('local');
  const [description, setDescription] = useState('');
  // local
  const [gates, setGates] = useState('');
  const [tagRules, setTagRules] = useState('');
  // remote
  const [url, setUrl] = useState('');
  const [pathPrefix, setPathPrefix] = useState('');
  const [ttl, setTtl] = useState('');
  const [offline, setOffline] = useState(false);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // virtual
  const [members, setMembers] = useState('');
  const [deployTo, setDeployTo] = useState('');
  // anything else
  const [other, setOther] = useState('');
  const [clientError, setClientError] = useState('');

  useEffect(() => {
    const r = existing.data;
    if (!r) return;
    const {
      gates: g,
      tags: t,
      url: u,
      pathPrefix: pp,
      ttlSeconds,
      offline: off,
      username: un,
      password: _pw,
      members: m,
      deploymentRepository,
      ...rest
    } = r.settings as Record<string, unknown>;
    setKey(r.key);
    setKind(r.kind);
    setDescription(r.description);
    setGates(json(g));
    setTagRules(json(t));
    setUrl((u as string) ?? '');
    setPathPrefix((pp as string) ?? '');
    setTtl(ttlSeconds === undefined ? '' : String(ttlSeconds));
    setOffline(Boolean(off));
    setUsername((un as string) ?? '');
    setMembers(Array.isArray(m) ? (m as string[]).join('\n') : '');
    setDeployTo((deploymentRepository as string) ?? '');
    setOther(Object.keys(rest).length ? json(rest) : '');
  }, [existing.data]);

  const save = useAction(async (settings: Record<string, unknown>) => {
    const body = creating ? { key: key.trim(), kind, description, settings } : { description, settings };
    const r = creating
      ? await api<Repository>('POST', '/repositories', body)
      : await api<Repository>('PATCH', `/repositories/${encodeURIComponent(repoKey)}`, body);
    navigate(repoHref(r.key));
    return r;
  });

  const submit = (e: Event) => {
    e.preventDefault();
    setClientError('');
    const o = parseJson(other, 'Other settings', 'object');
    if (o.error) return setClientError(o.error);
    const settings: Record<string, unknown> = { ...((o.value as object) ?? {}) };
    if (kind === 'local') {
      const g = parseJson(gates, 'Gates', 'array');
      const t = parseJson(tagRules, 'Tag rules', 'object');
      if (g.error || t.error) return setClientError((g.error ?? t.error)!);
      const missing = gateProblems(parseGates(gates).gates);
      if (missing.length > 0) return setClientError(`Nothing was saved. ${missing.join(' ')}`);
      if (g.value !== undefined) settings.gates = g.value;
      if (t.value !== undefined) settings.tags = t.value;
    } else if (kind === 'remote') {
      settings.url = url.trim();
      if (pathPrefix) settings.pathPrefix = pathPrefix;
      if (ttl.trim()) settings.ttlSeconds = Number(ttl);
      if (offline) settings.offline = true;
      if (username) settings.username = username;
      if (password) settings.password = password;
    } else {
      settings.members = members
        .split(/[\s,]+/)
        .map((m) => m.trim())
        .filter(Boolean);
      if (deployTo) settings.deploymentRepository = deployTo;
    }
    save.go(settings);
  };

  const title = creating ? 'New repository' : `Edit ${repoKey}`;
  const keys = (all.data?.repositories ?? []).map((r) => r.key).filter((k) => k !== repoKey);
  const hadPassword =
    !creating && (existing.data?.settings as Record<string, unknown> | undefined)?.password !== undefined;

  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/repositories">Repositories</Link> /{' '}
        {!creating && (
          <>
            <Link href={repoHref(repoKey)}>{repoKey}</Link> /{' '}
          </>
        )}
        <span aria-current="page">{creating ? 'new' : 'edit'}</span>
      </nav>
      <PageTitle title={title}>{title}</PageTitle>
      {existing.error && <ErrorBox error={existing.error} />}
      <form class="card stack wide-form" onSubmit={submit} aria-labelledby="page-title">
        <TextField
          id="repo-key"
          label="Key"
          value={key}
          onValue={setKey}
          required
          disabled={!creating}
          placeholder="docker-qa-local"
        />
        <div class="field">
          <label for="repo-kind">Kind</label>
          <select
            id="repo-kind"
            disabled={!creating}
            value={kind}
            onChange={(e) => setKind(e.currentTarget.value as Repository['kind'])}
          >
            <option value="local">local — hosted images, a stage of the pipeline</option>
            <option value="remote">remote — pull-through cache of another registry</option>
            <option value="virtual">virtual — one address over member repositories</option>
          </select>
        </div>
        <TextField id="repo-description" label="Description" value={description} onValue={setDescription} />

        {kind === 'local' && (
          <>
            <GatesEditor value={gates} onValue={setGates} />
            <TagRulesEditor value={tagRules} onValue={setTagRules} />
          </>
        )}

        {kind === 'remote' && (
          <>
            <TextField
              id="repo-url"
              label="Upstream URL"
              value={url}
              onValue={setUrl}
              type="url"
              required
              placeholder="https://registry-1.docker.io"
            />
            <TextField
              id="repo-prefix"
              label="Path prefix"
              value={pathPrefix}
              onValue={setPathPrefix}
              placeholder="library/"
            />
            <TextField
              id="repo-ttl"
              label="Tag cache time (seconds)"
              value={ttl}
              onValue={setTtl}
              inputMode="numeric"
              placeholder="300"
            />
            <div class="field check">
              <label>
                <input
                  type="checkbox"
                  checked={offline}
                  onChange={(e) => setOffline(e.currentTarget.checked)}
                />{' '}
                Offline (serve only what is cached)
              </label>
            </div>
            <TextField
              id="repo-username"
              label="Upstream user"
              value={username}
              onValue={setUsername}
              autoComplete="off"
            />
            <div class="field">
              <label for="repo-password">Upstream password</label>
              <input
                id="repo-password"
                type="password"
                autoComplete="new-password"
                value={password}
                aria-describedby="repo-password-hint"
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
              <small id="repo-password-hint">
                {hadPassword
                  ? 'A password is stored; it is never shown. Enter it again when you keep the user.'
                  : 'Goes with the user.'}
              </small>
            </div>
          </>
        )}

        {kind === 'virtual' && (
          <>
            <div class="field">
              <label for="repo-members">Members, in order</label>
              <textarea
                id="repo-members"
                rows={4}
                spellcheck={false}
                value={members}
                aria-describedby="repo-members-hint"
                onInput={(e) => setMembers(e.currentTarget.value)}
              />
              <small id="repo-members-hint">
                One repository key per line; earlier members shadow later ones. Known: {keys.join(', ')}
              </small>
            </div>
            <div class="field">
              <label for="repo-deploy">Deployment repository</label>
              <select id="repo-deploy" value={deployTo} onChange={(e) => setDeployTo(e.currentTarget.value)}>
                <option value="">none (refuse pushes)</option>
                {(all.data?.repositories ?? [])
                  .filter((r) => r.kind === 'local')
                  .map((r) => (
                    <option key={r.key} value={r.key}>
                      {r.key}
                    </option>
                  ))}
              </select>
            </div>
          </>
        )}

        <div class="field">
          <label for="repo-other">Other settings (JSON)</label>
          <textarea
            id="repo-other"
            rows={3}
            spellcheck={false}
            value={other}
            placeholder={
              kind === 'local'
                ? '{ "promotion": { "copyProperties": true }, "checklist": { "maxLayers": 50 } }'
                : '{}'
            }
            onInput={(e) => setOther(e.currentTarget.value)}
          />
        </div>
        {clientError && <ErrorBox error={clientError} />}
        {save.error && <ErrorBox error={save.error} />}
        <div class="actions">
          <button type="submit" disabled={save.busy || (!creating && !existing.data)}>
            {creating ? 'Create' : 'Save'}
          </button>
          <Link href={creating ? '/repositories' : repoHref(repoKey)} class="button link">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
