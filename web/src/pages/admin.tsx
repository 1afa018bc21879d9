import { useState } from 'preact/hooks';
import type { ApiTokenRecord } from '../../../src/meta/identity-records.ts';
import { api, nextPage, qs } from '../api';
import { DataTable, DeleteButton, EditButton, TextField } from '../parts';
import { Link, setQuery, useLocation } from '../router';
import { useSession } from '../session';
import { CopyLine, Empty, ErrorBox, Load, Notice, Pager, PageTitle, Time, useAction, useApi } from '../ui';

interface User {
  name: string;
  email: string;
  admin: boolean;
  disabled: boolean;
  robot: boolean;
  groups: string[];
  createdAt: string;
}
interface Group {
  name: string;
  description: string;
  members: string[];
}
interface Target {
  name: string;
  description: string;
  repositories: { include: string[]; exclude: string[] };
  images: { include: string[]; exclude: string[] };
  users: Record<string, string[]>;
  groups: Record<string, string[]>;
  anonymous: string[];
}
/** An API token as the server shows it: everything but the hash of its secret. */
type Token = Omit<ApiTokenRecord, 'secretHash'>;
interface AuditEvent {
  id?: number;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  target: string;
  outcome: string;
  address: string | null;
  detail: Record<string, unknown> | null;
}

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const SECTIONS = [
  { id: 'users', label: 'Users', admin: true },
  { id: 'groups', label: 'Groups', admin: false },
  { id: 'permissions', label: 'Permission targets', admin: false },
  { id: 'tokens', label: 'API tokens', admin: false },
  { id: 'audit', label: 'Audit log', admin: true },
];

export function AdminPage({ section }: { section: string }) {
  const { me } = useSession();
  const visible = SECTIONS.filter((s) => me.admin || !s.admin);
  const current = visible.find((s) => s.id === section) ?? visible.find((s) => s.id === 'tokens')!;
  return (
    <>
      <PageTitle title={`Administration: ${current.label}`}>Administration</PageTitle>
      {!me.authenticated ? (
        <ErrorBox error="Sign in to manage users, groups, permissions and API tokens." />
      ) : (
        <>
          <nav aria-label="Administration" class="tabs">
            <ul>
              {visible.map((s) => (
                <li key={s.id}>
                  <Link href={`/admin/${s.id}`} aria-current={s.id === current.id ? 'page' : undefined}>
                    {s.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          {current.id === 'users' && <Users />}
          {current.id === 'groups' && <Groups />}
          {current.id === 'permissions' && <Permissions />}
          {current.id === 'tokens' && <Tokens />}
          {current.id === 'audit' && <Audit />}
        </>
      )}
    </>
  );
}

// ------------------------------------------------------------------------------------ users

function Users() {
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
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() => patch.go(u.name, { disabled: !u.disabled })}
                    aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                  >
                    {u.disabled ? 'Enable' : 'Disable'}
                  </button>{' '}
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() => patch.go(u.name, { admin: !u.admin })}
                    aria-label={`${u.admin ? 'Remove administrator from' : 'Make administrator'} ${u.name}`}
                  >
                    {u.admin ? 'Remove admin' : 'Make admin'}
                  </button>{' '}
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

// ----------------------------------------------------------------------------------- groups

function Groups() {
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

// ------------------------------------------------------------------------ permission targets

const TARGET_EXAMPLE = {
  name: 'team-a',
  description: 'Team A pushes its own images',
  repositories: { include: ['docker-*-local'], exclude: [] },
  images: { include: ['team-a/**'], exclude: [] },
  users: {},
  groups: { 'team-a': ['delete'] },
  anonymous: [],
};

const grantText = (g: Record<string, string[]>) =>
  Object.entries(g)
    .map(([who, actions]) => `${who}: ${actions.join(', ')}`)
    .join('; ');

function Permissions() {
  const { me } = useSession();
  const state = useApi<{ permissions: Target[] }>('/permissions');
  const [editing, setEditing] = useState<{ name: string | null; text: string } | null>(null);
  const save = useAction(async () => {
    if (!editing) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(editing.text);
    } catch (e) {
      throw new Error(`not valid JSON: ${(e as Error).message}`);
    }
    const t = editing.name
      ? await api<Target>('PUT', `/permissions/${encodeURIComponent(editing.name)}`, body)
      : await api<Target>('POST', '/permissions', body);
    setEditing(null);
    state.reload();
    return t;
  });
  const edit = (t: Target) => {
    const { name, description, repositories, images, users, groups, anonymous } = t;
    setEditing({
      name,
      text: JSON.stringify({ name, description, repositories, images, users, groups, anonymous }, null, 2),
    });
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
          <button
            type="button"
            onClick={() => setEditing({ name: null, text: JSON.stringify(TARGET_EXAMPLE, null, 2) })}
          >
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

// ---------------------------------------------------------------------------------- tokens

function Tokens() {
  const { me } = useSession();
  const [everyone, setEveryone] = useState(false);
  const state = useApi<{ tokens: Token[] }>(`/tokens${everyone ? '?all=true' : ''}`);
  const targets = useApi<{ permissions: Target[] }>('/permissions');
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [tokenTargets, setTokenTargets] = useState('');
  const [actions, setActions] = useState('');
  const [days, setDays] = useState('90');
  const create = useAction(async () => {
    const t = await api<Token & { token: string }>('POST', '/tokens', {
      name: name.trim(),
      ...(owner.trim() ? { owner: owner.trim() } : {}),
      ...(tokenTargets.trim() ? { targets: list(tokenTargets) } : {}),
      ...(actions.trim() ? { actions: list(actions) } : {}),
      expiresInDays: Number(days),
    });
    setName('');
    state.reload();
    return t;
  });
  return (
    <section aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      {create.result && (
        <div class="card token-once" role="status" data-testid="new-token">
          <p>
            <strong>
              Token {create.result.name} for {create.result.owner}.
            </strong>{' '}
            Copy it now: it is shown once and never again.
          </p>
          <CopyLine command={create.result.token} label="Token value" />
          <p class="muted small-text">
            Use it as a password (
            <code>
              docker login -u {create.result.owner} {location.host}
            </code>
            ) or as <code>Authorization: Bearer …</code>.
          </p>
          <button type="button" class="secondary small" onClick={() => create.setResult(undefined)}>
            I have copied it
          </button>
        </div>
      )}
      {me.admin && (
        <div class="field check">
          <label>
            <input
              type="checkbox"
              checked={everyone}
              onChange={(e) => setEveryone(e.currentTarget.checked)}
            />{' '}
            Show everyone's tokens
          </label>
        </div>
      )}
      <Load state={state} what="Loading tokens">
        {({ tokens }) =>
          tokens.length === 0 ? (
            <Empty>No API tokens{everyone ? '' : ` for ${me.name}`}.</Empty>
          ) : (
            <DataTable
              testid="tokens"
              caption="API tokens"
              columns={['Name', 'Owner', 'Scope', 'Expires', 'Last used']}
              actions
            >
              {tokens.map((t) => (
                <tr key={t.id} class={t.revokedAt ? 'revoked' : ''}>
                  <th scope="row" data-label="Name">
                    {t.name} <code class="muted small-text">{t.id}</code>
                  </th>
                  <td data-label="Owner">{t.owner}</td>
                  <td data-label="Scope" class="small-text">
                    {t.targets ? t.targets.join(', ') : 'everything the owner may do'}
                    {t.actions && <> ({t.actions.join(', ')})</>}
                  </td>
                  <td data-label="Expires">{t.expiresAt ? <Time at={t.expiresAt} /> : 'never'}</td>
                  <td data-label="Last used">
                    <Time at={t.lastUsedAt} />
                  </td>
                  <td data-label="Actions">
                    {t.revokedAt ? (
                      <span>
                        revoked <Time at={t.revokedAt} />
                      </span>
                    ) : (
                      <DeleteButton
                        path={`/tokens/${encodeURIComponent(t.id)}`}
                        name={t.name}
                        onDone={state.reload}
                        label="Revoke"
                        confirm="Confirm revoke"
                      />
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Load>
      <form
        class="card stack"
        aria-labelledby="new-token-title"
        onSubmit={(e) => {
          e.preventDefault();
          create.go();
        }}
      >
        <h3 id="new-token-title">New API token</h3>
        <div class="grid2">
          <TextField
            id="token-name"
            label="Token name"
            value={name}
            onValue={setName}
            required
            placeholder="github-actions"
          />
          {me.admin && (
            <TextField
              id="token-owner"
              label="Owner"
              value={owner}
              onValue={setOwner}
              placeholder={me.name}
            />
          )}
          <TextField
            id="token-targets"
            label="Permission targets"
            value={tokenTargets}
            onValue={setTokenTargets}
            placeholder={(targets.data?.permissions ?? []).map((t) => t.name).join(', ') || 'all'}
          />
          <TextField
            id="token-actions"
            label="Actions"
            value={actions}
            onValue={setActions}
            placeholder="read, deploy"
          />
          <TextField
            id="token-days"
            label="Expires in days"
            value={days}
            onValue={setDays}
            type="number"
            min={0}
            max={3650}
          />
        </div>
        <p class="muted small-text">
          Leave targets and actions empty for everything the owner may do; 0 days never expires.
        </p>
        {create.error && <ErrorBox error={create.error} />}
        <div class="actions">
          <button type="submit" disabled={create.busy}>
            Create token
          </button>
        </div>
      </form>
    </section>
  );
}

// ----------------------------------------------------------------------------------- audit

const AUDIT_FIELDS = ['actor', 'repository', 'action', 'outcome', 'since', 'until'] as const;

function Audit() {
  const loc = useLocation();
  const asked = Object.fromEntries(AUDIT_FIELDS.map((f) => [f, loc.query.get(f) ?? ''])) as Record<
    (typeof AUDIT_FIELDS)[number],
    string
  >;
  const before = loc.query.get('before') ?? '';
  const [form, setForm] = useState(asked);
  const path = `/audit${qs({ ...asked, before, limit: 50 })}`;
  const state = useApi<{ events: AuditEvent[]; next?: string }>(path);
  const field = (f: (typeof AUDIT_FIELDS)[number], label: string, hint: string) => (
    <div class="field">
      <label for={`audit-${f}`}>{label}</label>
      <input
        id={`audit-${f}`}
        value={form[f]}
        placeholder={hint}
        onInput={(e) => {
          const v = e.currentTarget.value;
          setForm((o) => ({ ...o, [f]: v }));
        }}
      />
    </div>
  );
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form
        class="card audit-form"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(form);
        }}
      >
        {field('actor', 'Actor', 'alice')}
        {field('repository', 'Repository', 'docker-prod-local')}
        {field('action', 'Action', 'user. or manifest.push')}
        <div class="field">
          <label for="audit-outcome">Outcome</label>
          <select
            id="audit-outcome"
            value={form.outcome}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setForm((o) => ({ ...o, outcome: v }));
            }}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="denied">denied</option>
            <option value="failure">failure</option>
          </select>
        </div>
        {field('since', 'Since', '2026-11-01T00:00:00Z')}
        {field('until', 'Until', '2026-12-01')}
        <div class="actions">
          <button type="submit">Filter</button>
          <button
            type="button"
            class="link"
            onClick={() => {
              setForm(Object.fromEntries(AUDIT_FIELDS.map((f) => [f, ''])) as typeof form);
              setQuery({});
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <Load state={state} what="Loading the audit log">
        {({ events, next }) => (
          <>
            {events.length === 0 ? (
              <Empty>No events match.</Empty>
            ) : (
              <DataTable
                testid="audit"
                caption="Audit events, newest first"
                columns={['When', 'Actor', 'Action', 'Repository', 'Target', 'Outcome', 'Address']}
              >
                {events.map((ev, i) => (
                  <tr key={ev.id ?? i} class={ev.outcome === 'success' ? '' : 'row-fail'}>
                    <td data-label="When">
                      <Time at={ev.at} />
                    </td>
                    <td data-label="Actor">{ev.actor}</td>
                    <td data-label="Action">
                      <code>{ev.action}</code>
                    </td>
                    <td data-label="Repository">{ev.repository ?? '—'}</td>
                    <td
                      data-label="Target"
                      class="break"
                      title={ev.detail ? JSON.stringify(ev.detail) : undefined}
                    >
                      {ev.target}
                    </td>
                    <td data-label="Outcome">{ev.outcome}</td>
                    <td data-label="Address">{ev.address ?? '—'}</td>
                  </tr>
                ))}
              </DataTable>
            )}
            <Pager
              next={next}
              label="Older events"
              onNext={() => {
                const n = nextPage(path, next, 'before');
                const b = n ? (new URL(n, location.origin).searchParams.get('before') ?? '') : '';
                setQuery({ ...asked, before: b });
              }}
            />
            {before && (
              <p>
                <button type="button" class="link" onClick={() => setQuery(asked)}>
                  Back to the newest events
                </button>
              </p>
            )}
          </>
        )}
      </Load>
    </section>
  );
}
