import { useState } from 'preact/hooks';
import { api } from '../../api';
import { DataTable, DeleteButton, EditButton } from '../../parts';
import { useSession } from '../../session';
import { ErrorBox, Load, Notice, useAction, useApi } from '../../ui';
import type { Target } from './shared';
import { bodyOf, draftOf, problemsOf, type TargetDraft, TargetForm } from './target-form';

// ------------------------------------------------------------------------ permission targets

export const TARGET_EXAMPLE = {
  name: 'team-a',
  description: 'Team A pushes its own images',
  repositories: { include: ['docker-*-local'], exclude: [] },
  images: { include: ['team-a/**'], exclude: [] },
  users: {},
  groups: { 'team-a': ['delete'] },
  anonymous: [],
};

export const grantText = (g: Record<string, string[]>) =>
  Object.entries(g)
    .map(([who, actions]) => `${who}: ${actions.join(', ')}`)
    .join('; ');

interface Editing {
  name: string | null;
  mode: 'form' | 'json';
  draft: TargetDraft;
  text: string;
  /** Field problems show once a save was tried, then follow every change. */
  checked: boolean;
  jsonError?: string;
}

export function Permissions() {
  const { me } = useSession();
  const state = useApi<{ permissions: Target[] }>('/permissions');
  const [editing, setEditing] = useState<Editing | null>(null);
  const save = useAction(async () => {
    if (!editing) return;
    let body: unknown;
    if (editing.mode === 'json') {
      try {
        body = JSON.parse(editing.text);
      } catch (e) {
        throw new Error(`not valid JSON: ${(e as Error).message}`);
      }
    } else {
      setEditing({ ...editing, checked: true });
      if (Object.keys(problemsOf(editing.draft)).length > 0)
        throw new Error('Some fields need attention (marked below); nothing was saved.');
      body = bodyOf(editing.draft);
    }
    const t = editing.name
      ? await api<Target>('PUT', `/permissions/${encodeURIComponent(editing.name)}`, body)
      : await api<Target>('POST', '/permissions', body);
    setEditing(null);
    state.reload();
    return t;
  });
  const open = (name: string | null, t: Target) =>
    setEditing({ name, mode: 'form', draft: draftOf(t), text: '', checked: false });
  const edit = (t: Target) => open(t.name, t);
  const toggle = () => {
    if (!editing) return;
    if (editing.mode === 'form') {
      setEditing({ ...editing, mode: 'json', text: JSON.stringify(bodyOf(editing.draft), null, 2) });
      return;
    }
    try {
      const parsed = JSON.parse(editing.text) as Target;
      setEditing({ ...editing, mode: 'form', draft: draftOf(parsed), jsonError: undefined });
    } catch (e) {
      setEditing({
        ...editing,
        jsonError: `Not valid JSON, so the form cannot show it: ${(e as Error).message}`,
      });
    }
  };
  return (
    <section aria-labelledby="permissions-title">
      <h2 id="permissions-title">Permission targets</h2>
      <p class="muted">
        Actions: read, annotate, deploy, delete, promote, manage (each brings the ones before it as the
        README's table says).
      </p>
      {save.result && <Notice>Permission target {save.result.name} was saved.</Notice>}
      <Load state={state} what="Loading permission targets">
        {({ permissions }) => (
          <DataTable
            testid="permissions"
            caption="Permission targets"
            columns={['Name', 'Repositories', 'Images', 'Grants']}
            actions={me.admin}
          >
            {permissions.map((t) => (
              <tr key={t.name}>
                <th scope="row" data-label="Name">
                  {t.name}
                  {t.description && <div class="muted small-text">{t.description}</div>}
                </th>
                <td data-label="Repositories">
                  {t.repositories.include.join(', ')}
                  {t.repositories.exclude.length > 0 && <> except {t.repositories.exclude.join(', ')}</>}
                </td>
                <td data-label="Images">
                  {t.images.include.join(', ')}
                  {t.images.exclude.length > 0 && <> except {t.images.exclude.join(', ')}</>}
                </td>
                <td data-label="Grants" class="small-text">
                  {Object.keys(t.users).length > 0 && <div>Users: {grantText(t.users)}</div>}
                  {Object.keys(t.groups).length > 0 && <div>Groups: {grantText(t.groups)}</div>}
                  {t.anonymous.length > 0 && <div>Anonymous: {t.anonymous.join(', ')}</div>}
                </td>
                {me.admin && (
                  <td data-label="Actions" class="row-actions">
                    <EditButton name={t.name} onClick={() => edit(t)} />{' '}
                    <DeleteButton
                      path={`/permissions/${encodeURIComponent(t.name)}`}
                      name={t.name}
                      onDone={state.reload}
                    />
                  </td>
                )}
              </tr>
            ))}
          </DataTable>
        )}
      </Load>
      {me.admin && !editing && (
        <p>
          <button type="button" onClick={() => open(null, TARGET_EXAMPLE as unknown as Target)}>
            New permission target
          </button>
        </p>
      )}
      {editing && (
        <form
          class="card stack"
          aria-label={editing.name ? `Edit ${editing.name}` : 'New permission target'}
          onSubmit={(e) => {
            e.preventDefault();
            save.go();
          }}
        >
          <p>
            <button
              type="button"
              class="secondary small"
              onClick={toggle}
              aria-pressed={editing.mode === 'json'}
            >
              {editing.mode === 'json' ? 'Edit as form' : 'View as JSON'}
            </button>
          </p>
          {editing.jsonError && <ErrorBox error={editing.jsonError} />}
          {editing.mode === 'form' ? (
            <TargetForm
              draft={editing.draft}
              nameFixed={editing.name !== null}
              problems={editing.checked ? problemsOf(editing.draft) : {}}
              onChange={(draft) => setEditing((o) => o && { ...o, draft })}
            />
          ) : (
            <div class="field">
              <label for="target-json">Permission target (JSON)</label>
              <textarea
                id="target-json"
                rows={16}
                spellcheck={false}
                value={editing.text}
                onInput={(e) => {
                  const v = e.currentTarget.value;
                  setEditing((o) => o && { ...o, text: v });
                }}
              />
            </div>
          )}
          {save.error && <ErrorBox error={save.error} />}
          <div class="actions">
            <button type="submit" disabled={save.busy}>
              Save
            </button>
            <button
              type="button"
              class="link"
              onClick={() => {
                setEditing(null);
                save.setError(undefined);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
