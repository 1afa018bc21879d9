import { useState } from 'preact/hooks';
import { api } from '../../api';
import { ConfirmButton, DataTable, DeleteButton, TextField } from '../../parts';
import { useSession } from '../../session';
import { ErrorBox, Load, Notice, Time, useAction, useApi } from '../../ui';
import { type Group, list, type User } from './shared';

// ------------------------------------------------------------------------------------ users

export function Users() {
  const { me } = useSession();
  const state = useApi<{ users: User[] }>('/users');
  const groups = useApi<{ groups: Group[] }>('/groups');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [robot, setRobot] = useState(false);
  const [admin, setAdmin] = useState(false);
  const [userGroups, setUserGroups] = useState('');
  const create = useAction(async () => {
    const u = await api<User>('POST', '/users', {
      name: name.trim(),
      ...(email ? { email } : {}),
      ...(robot ? { robot: true } : { password }),
      admin,
      groups: list(userGroups),
    });
    setName('');
    setEmail('');
    setPassword('');
    setUserGroups('');
    state.reload();
    return u;
  });
  const patch = useAction(async (user: string, body: Record<string, unknown>) => {
    const u = await api<User>('PATCH', `/users/${encodeURIComponent(user)}`, body);
    state.reload();
    return u;
  });
  const [resetFor, setResetFor] = useState('');
  const [newPassword, setNewPassword] = useState('');
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {patch.error && <ErrorBox error={patch.error} />}
      {patch.result && <Notice>{patch.result.name} was updated.</Notice>}
      <Load state={state} what="Loading users">
        {({ users }) => (
          <DataTable
            testid="users"
            caption="Users"
            columns={['Name', 'Email', 'Role', 'Groups', 'Created']}
            actions
          >
            {users.map((u) => (
              <tr key={u.name}>
                <th scope="row" data-label="Name">
                  {u.name}
                </th>
                <td data-label="Email">{u.email || <span class="muted">—</span>}</td>
                <td data-label="Role">
                  {[u.admin && 'administrator', u.robot && 'robot', u.disabled && 'disabled']
                    .filter(Boolean)
                    .join(', ') || 'user'}
                </td>
                <td data-label="Groups">{u.groups.join(', ') || <span class="muted">none</span>}</td>
                <td data-label="Created">
                  <Time at={u.createdAt} />
                </td>
                <td data-label="Actions" class="row-actions">
                  {u.name === me.name && !u.disabled ? (
                    // Locking oneself out takes a second click that says so; the server still
                    // refuses to disable or demote the last administrator.
                    <ConfirmButton
                      label="Disable"
                      name={u.name}
                      confirm="Disable my account"
                      effect="You are signed out at once and cannot sign in again until another administrator enables your account."
                      run={() => patch.go(u.name, { disabled: true })}
                    />
                  ) : (
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() => patch.go(u.name, { disabled: !u.disabled })}
                      aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}{' '}
                  {u.name === me.name && u.admin ? (
                    <ConfirmButton
                      label="Remove admin"
                      name={u.name}
                      confirm="Give up administration"
                      effect="You lose access to users, groups, permissions, repositories and the audit log at once; only another administrator can give it back."
                      run={() => patch.go(u.name, { admin: false })}
                    />
                  ) : (
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() => patch.go(u.name, { admin: !u.admin })}
                      aria-label={`${u.admin ? 'Remove admin' : 'Make admin'} ${u.name}`}
                    >
                      {u.admin ? 'Remove admin' : 'Make admin'}
                    </button>
                  )}{' '}
                  {!u.robot && (
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() => setResetFor(u.name)}
                      aria-label={`Set password of ${u.name}`}
                    >
                      Set password
                    </button>
                  )}{' '}
                  <DeleteButton
                    path={`/users/${encodeURIComponent(u.name)}`}
                    name={u.name}
                    onDone={state.reload}
                  />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Load>
      {resetFor && (
        <form
          class="card stack"
          aria-label={`New password for ${resetFor}`}
          onSubmit={async (e) => {
            e.preventDefault();
            if (await patch.go(resetFor, { password: newPassword })) {
              setResetFor('');
              setNewPassword('');
            }
          }}
        >
          <div class="field">
            <label for="reset-password">New password for {resetFor}</label>
            <input
              id="reset-password"
              type="password"
              autoComplete="new-password"
              value={newPassword}
              onInput={(e) => setNewPassword(e.currentTarget.value)}
            />
          </div>
          <div class="actions">
            <button type="submit">Save password</button>
            <button type="button" class="link" onClick={() => setResetFor('')}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <form
        class="card stack"
        aria-labelledby="new-user-title"
        onSubmit={(e) => {
          e.preventDefault();
          create.go();
        }}
      >
        <h3 id="new-user-title">New user</h3>
        <div class="grid2">
          <TextField id="user-name" label="Name" value={name} onValue={setName} required />
          <TextField id="user-email" label="Email" value={email} onValue={setEmail} type="email" />
          <TextField
            id="user-password"
            label="Password"
            value={password}
            onValue={setPassword}
            type="password"
            autoComplete="new-password"
            disabled={robot}
          />
          <TextField
            id="user-groups"
            label="Groups"
            value={userGroups}
            onValue={setUserGroups}
            placeholder={(groups.data?.groups ?? []).map((g) => g.name).join(', ')}
          />
        </div>
        <div class="field check">
          <label>
            <input type="checkbox" checked={robot} onChange={(e) => setRobot(e.currentTarget.checked)} />{' '}
            Robot account (no password; API tokens only)
          </label>
          <label>
            <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} />{' '}
            Administrator
          </label>
        </div>
        {create.error && <ErrorBox error={create.error} />}
        {create.result && <Notice>User {create.result.name} was created.</Notice>}
        <div class="actions">
          <button type="submit" disabled={create.busy}>
            Create user
          </button>
        </div>
      </form>
    </section>
  );
}
