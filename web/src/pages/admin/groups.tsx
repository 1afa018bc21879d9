import { useState } from 'preact/hooks';
import { api } from '../../api';
import { DataTable, DeleteButton, EditButton, TextField } from '../../parts';
import { useSession } from '../../session';
import { Empty, ErrorBox, Load, Notice, useAction, useApi } from '../../ui';
import { type Group, list } from './shared';

// ----------------------------------------------------------------------------------- groups

export function Groups() {
  const { me } = useSession();
  const state = useApi<{ groups: Group[] }>('/groups');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [members, setMembers] = useState('');
  const [editing, setEditing] = useState<{ name: string; members: string; description: string } | null>(null);
  const create = useAction(async () => {
    const g = await api<Group>('POST', '/groups', { name: name.trim(), description, members: list(members) });
    setName('');
    setDescription('');
    setMembers('');
    state.reload();
    return g;
  });
  const save = useAction(async () => {
    if (!editing) return;
    const g = await api<Group>('PATCH', `/groups/${encodeURIComponent(editing.name)}`, {
      description: editing.description,
      members: list(editing.members),
    });
    setEditing(null);
    state.reload();
    return g;
  });
  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      <Load state={state} what="Loading groups">
        {({ groups }) =>
          groups.length === 0 ? (
            <Empty>No groups.</Empty>
          ) : (
            <DataTable
              testid="groups"
              caption="Groups"
              columns={['Name', 'Description', 'Members']}
              actions={me.admin}
            >
              {groups.map((g) => (
                <tr key={g.name}>
                  <th scope="row" data-label="Name">
                    {g.name}
                  </th>
                  <td data-label="Description">{g.description}</td>
                  <td data-label="Members">{g.members.join(', ') || <span class="muted">nobody</span>}</td>
                  {me.admin && (
                    <td data-label="Actions" class="row-actions">
                      <EditButton
                        name={g.name}
                        onClick={() =>
                          setEditing({
                            name: g.name,
                            members: g.members.join(', '),
                            description: g.description,
                          })
                        }
                      />{' '}
                      <DeleteButton
                        path={`/groups/${encodeURIComponent(g.name)}`}
                        name={g.name}
                        onDone={state.reload}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </DataTable>
          )
        }
      </Load>
      {editing && (
        <form
          class="card stack"
          aria-label={`Edit group ${editing.name}`}
          onSubmit={(e) => {
            e.preventDefault();
            save.go();
          }}
        >
          <h3>Edit {editing.name}</h3>
          <div class="field">
            <label for="edit-group-description">Description</label>
            <input
              id="edit-group-description"
              value={editing.description}
              onInput={(e) => {
                const v = e.currentTarget.value;
                setEditing((o) => o && { ...o, description: v });
              }}
            />
          </div>
          <div class="field">
            <label for="edit-group-members">Members</label>
            <input
              id="edit-group-members"
              value={editing.members}
              onInput={(e) => {
                const v = e.currentTarget.value;
                setEditing((o) => o && { ...o, members: v });
              }}
            />
          </div>
          {save.error && <ErrorBox error={save.error} />}
          <div class="actions">
            <button type="submit" disabled={save.busy}>
              Save
            </button>
            <button type="button" class="link" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {me.admin && (
        <form
          class="card stack"
          aria-labelledby="new-group-title"
          onSubmit={(e) => {
            e.preventDefault();
            create.go();
          }}
        >
          <h3 id="new-group-title">New group</h3>
          <div class="grid2">
            <TextField id="group-name" label="Name" value={name} onValue={setName} required />
            <TextField
              id="group-description"
              label="Description"
              value={description}
              onValue={setDescription}
            />
          </div>
          <TextField
            id="group-members"
            label="Members"
            value={members}
            onValue={setMembers}
            placeholder="alice, bob"
          />
          {create.error && <ErrorBox error={create.error} />}
          {create.result && <Notice>Group {create.result.name} was created.</Notice>}
          <div class="actions">
            <button type="submit" disabled={create.busy}>
              Create group
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
