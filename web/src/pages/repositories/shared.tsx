import { useState } from 'preact/hooks';
import { api, type ImageSummary, type Repository } from '../../api';
import { ErrorBox, useAction } from '../../ui';

export const imageName = (i: ImageSummary) => i.image ?? i.name ?? '';
export const repoHref = (key: string) => `/repositories/${encodeURIComponent(key)}`;

export function describe(r: Repository): string {
  const s = r.settings ?? {};
  if (r.kind === 'virtual') {
    const members = Array.isArray(s.members) ? (s.members as string[]).join(', ') : '';
    return `over ${members || 'no members'}${s.deploymentRepository ? `; pushes land in ${s.deploymentRepository}` : ''}`;
  }
  if (r.kind === 'remote') return `cache of ${String(s.url ?? '?')}${s.offline ? ' (offline)' : ''}`;
  const gates = Array.isArray(s.gates) ? s.gates.length : 0;
  return gates ? `${gates} gate${gates > 1 ? 's' : ''}` : '';
}

export function DeleteRepository({ repoKey, onDeleted }: { repoKey: string; onDeleted(): void }) {
  const [asking, setAsking] = useState(false);
  const del = useAction(() => api('DELETE', `/repositories/${encodeURIComponent(repoKey)}`));
  if (!asking)
    return (
      <button
        type="button"
        class="danger small"
        onClick={() => setAsking(true)}
        aria-label={`Delete ${repoKey}`}
      >
        Delete
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend>Delete {repoKey} and everything in it?</legend>
      <button
        type="button"
        class="danger small"
        disabled={del.busy}
        onClick={async () => (await del.go()) !== undefined && onDeleted()}
      >
        Confirm delete
      </button>{' '}
      <button
        type="button"
        class="secondary small"
        onClick={() => {
          setAsking(false);
          del.setError(undefined);
        }}
      >
        Cancel
      </button>
      {del.error && <ErrorBox error={del.error} />}
    </fieldset>
  );
}
