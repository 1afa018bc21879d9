import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, type Repository } from './api';
import { Link, useLocation } from './router';
import { useSession } from './session';

// ------------------------------------------------------------------------------- data loading

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/** GETs `path` (null: nothing yet) and re-GETs when it changes or on reload(). */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; path: string | null }>({
    loading: path !== null,
    path,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) {
      setState({ loading: false, path });
      return;
    }
    let live = true;
    setState((s) => ({ ...(s.path === path ? s : {}), loading: true, path }));
    get<T>(path).then(
      (data) => live && setState({ data, loading: false, path }),
      (error: ApiError) => live && setState({ error, loading: false, path }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Runs a change against the API, keeping its busy flag, error and result. */
export function useAction<A extends unknown[], R>(run: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [result, setResult] = useState<R | undefined>();
  const go = async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await run(...args);
      setResult(r);
      return r;
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, (e as Error).message, null));
      setResult(undefined);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { go, busy, error, result, setError, setResult };
}

// ----------------------------------------------------------------------------------- states

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite" data-testid="loading">
      <span class="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

/**
 * An error as the caller should read it. Anonymous visitors get the sign-in offer where signing
 * in can help: always for 401/403, and for a 404 unless the page knows the place is readable
 * anonymously (then the thing really is missing, and signing in would not find it).
 * `read`: the error of loading a page's data (Load). There a 401 only means "no credentials", and
 * the API's wording for API clients (Basic credentials, tokens) becomes "Sign in to read this";
 * elsewhere (the sign-in form: wrong password) the server's detail is what the visitor needs.
 */
export function ErrorBox({
  error,
  title,
  signIn = true,
  read = false,
}: {
  error: ApiError | Error | string;
  title?: string;
  signIn?: boolean;
  read?: boolean;
}) {
  const { me } = useSession();
  const status = error instanceof ApiError ? error.status : 0;
  const detail =
    read && !me.authenticated && status === 401
      ? 'Sign in to read this.'
      : typeof error === 'string'
        ? error
        : error instanceof ApiError
          ? error.detail
          : error.message;
  const offer = !me.authenticated && (status === 401 || status === 403 || (status === 404 && signIn));
  return (
    <div class="state error" role="alert" data-testid="error">
      {title && <strong>{title}: </strong>}
      <span class="detail">{detail}</span>
      {offer && (
        <>
          {' '}
          <Link href={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`}>
            Sign in
          </Link>
        </>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <div class="state empty" data-testid="empty">
      {children}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="state ok" role="status">
      {children}
    </p>
  );
}

/** Shows loading / error states, else the content for the data. */
export function Load<T>({
  state,
  what,
  signIn,
  children,
}: {
  state: Loaded<T>;
  what?: string;
  /** Passed to ErrorBox: false where the place is known to be readable anonymously. */
  signIn?: boolean;
  children: (data: T) => ComponentChildren;
}) {
  if (state.error) return <ErrorBox error={state.error} signIn={signIn} read />;
  if (state.data === undefined) return state.loading ? <Loading what={what} /> : null;
  return <>{children(state.data)}</>;
}

// --------------------------------------------------------------------------------- formatting

export const short = (digest: string | null | undefined) =>
  digest
    ? digest.replace(/^(sha256:|sha512:)?([0-9a-f]{12})[0-9a-f]*$/, (_m, alg, hex) => `${alg ?? ''}${hex}`)
    : '—';

export function Digest({ value, href }: { value: string | null | undefined; href?: string }) {
  if (!value) return <span class="muted">—</span>;
  const text = (
    <code class="digest" title={value}>
      {short(value)}
    </code>
  );
  return href ? (
    // No aria-label: a name that does not contain the visible (shortened) text fails WCAG 2.5.3
    // (speech users say what they see); the full digest is in the title.
    <Link href={href} title={value}>
      {text}
    </Link>
  ) : (
    text
  );
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return <span>{at}</span>;
  return (
    // The user's locale and time zone; the exact moment (seconds, zone) on hover.
    <time dateTime={at} title={d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'long' })}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

export function TagKind({ kind, rule }: { kind: string; rule?: string | undefined }) {
  return (
    <span
      class={`badge badge-${kind}`}
      title={rule ? `rule ${rule}` : undefined}
      data-testid={`badge-${kind}`}
    >
      {kind}
      {rule ? <span class="visually-hidden"> (rule {rule})</span> : null}
    </span>
  );
}

export function Verdict({
  passed,
  status,
  label: text,
}: {
  passed?: boolean;
  status?: string;
  label?: string;
}) {
  const s = status ?? (passed ? 'pass' : 'fail');
  const label = text ?? { pass: 'passed', warn: 'warning', fail: 'failed' }[s] ?? s;
  const icon = { pass: '✓', warn: '!', fail: '✗' }[s] ?? '•';
  return (
    <span class={`verdict verdict-${s}`}>
      <span aria-hidden="true">{icon}</span> {label}
    </span>
  );
}

// -------------------------------------------------------------------------------- copy line

/** A command to copy, with a Copy button (clipboard API, else the text is selected for Ctrl+C). */
export function CopyLine({ command, label = 'Command' }: { command: string; label?: string }) {
  const ref = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied('Copied');
    } catch {
      ref.current?.focus();
      ref.current?.select();
      setCopied('Selected: press Ctrl+C to copy');
    }
    setTimeout(() => setCopied(''), 2500);
  };
  return (
    <div class="copyline" data-testid="copy-line">
      <label>
        <span class="visually-hidden">{label}</span>
        <input
          ref={ref}
          readOnly
          value={command}
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
          spellcheck={false}
        />
      </label>
      <button type="button" class="secondary" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
        Copy
      </button>
      <span class="copied" role="status" aria-live="polite">
        {copied}
      </span>
    </div>
  );
}

export const host = () => location.host;

export const pullCommand = (repository: string, image: string, ref: string) =>
  `docker pull ${host()}/${repository}/${image}${ref.includes(':') && ref.startsWith('sha') ? '@' : ':'}${ref}`;

export const skopeoCommand = (repository: string, image: string, ref: string) =>
  `skopeo copy docker://${host()}/${repository}/${image}${ref.startsWith('sha') ? '@' : ':'}${ref} oci:${image.split('/').pop()}:${ref.startsWith('sha') ? 'latest' : ref}`;

export const pushExample = (repository = 'docker') =>
  `skopeo copy oci:my-layout:latest docker://${host()}/${repository}/team/app:1.0`;

/**
 * Where the caller may push: `repository` when given and it allows `deploy` there, else the
 * first repository that does (the virtual `docker` first); undefined when nowhere. From the
 * repositories API's `actions`, so customers and anonymous visitors are never shown a push
 * command they could not use.
 */
export function pushTarget(
  repos: readonly Repository[] | undefined,
  repository?: string,
): string | undefined {
  const deploys = (r: Repository) => r.actions?.includes('deploy') ?? false;
  if (repository !== undefined)
    return repos?.some((r) => r.key === repository && deploys(r)) ? repository : undefined;
  const all = (repos ?? []).filter(deploys);
  return (all.find((r) => r.key === 'docker') ?? all[0])?.key;
}

/** The example push command for the caller's push target, or nothing when there is none. */
export function PushLine({
  repos,
  repository,
}: {
  repos: readonly Repository[] | undefined;
  repository?: string;
}) {
  const target = pushTarget(repos, repository);
  return target ? <CopyLine command={pushExample(target)} label="Push command" /> : null;
}

// ------------------------------------------------------------------------------------ dialog

/** A modal <dialog>: focus is kept inside, Escape closes, focus returns to the opener. */
export function Dialog({
  title,
  onClose,
  children,
  testid,
}: {
  title: string;
  onClose(): void;
  children: ComponentChildren;
  testid?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => opener?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="dialog-title"
      data-testid={testid}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id="dialog-title">{title}</h2>
        <button type="button" class="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** Sets the document title and moves focus to the page heading after navigation. */
export function PageTitle({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Gantry`;
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1} id="page-title">
      {children}
    </h1>
  );
}

export function Pager({
  next,
  onNext,
  onPrevious,
  label = 'Next page',
  previousLabel = 'Previous page',
}: {
  next?: string | undefined;
  onNext(): void;
  /** Shown when given: the way back to the page before this one. */
  onPrevious?: (() => void) | undefined;
  label?: string;
  previousLabel?: string;
}) {
  if (!next && !onPrevious) return null;
  return (
    <div class="pager">
      {onPrevious && (
        <button type="button" class="secondary" onClick={onPrevious}>
          {previousLabel}
        </button>
      )}{' '}
      {next && (
        <button type="button" class="secondary" onClick={onNext}>
          {label}
        </button>
      )}
    </div>
  );
}

/**
 * Previous and next over a keyset-paged list. The API pages forward only (the cursor names the
 * last row seen); the way back is the trail of cursors that led here, kept in the address as
 * `trail` (space-separated: cursors are image names and ids, which never hold a space). So
 * Previous is exact, survives a reload and a shared link, and the server needs no backward
 * query. `param` is the list's cursor parameter (`last`, `before`).
 */
export function usePageTrail(param = 'last') {
  const loc = useLocation();
  const at = loc.query.get(param) || '';
  const trail = (loc.query.get('trail') || '').split(' ').filter(Boolean);
  const joined = (list: string[]) => (list.length ? list.join(' ') : undefined);
  return {
    /** The cursor of the page shown ('' on the first page). */
    at,
    /** Query parameters of the page after `cursor` (the cursor the API's `next` carries). */
    forward: (cursor: string): Record<string, string | undefined> => ({
      [param]: cursor,
      trail: joined(at ? [...trail, at] : trail),
    }),
    /** Query parameters of the page before this one; undefined on the first page. */
    back: at
      ? (): Record<string, string | undefined> => ({
          [param]: trail.at(-1),
          trail: joined(trail.slice(0, -1)),
        })
      : undefined,
  };
}

/** A small button copying `text`; its name says what it copies. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      window.prompt('Copy this command', text);
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <button type="button" class="secondary tiny" onClick={copy} aria-label={label} title={text}>
      {done ? 'Copied' : 'Copy pull'}
    </button>
  );
}
