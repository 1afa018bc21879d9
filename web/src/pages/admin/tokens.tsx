import { useState } from 'preact/hooks';
import { api } from '../../api';
import { DataTable, DeleteButton, TextField } from '../../parts';
import { useSession } from '../../session';
import { CopyLine, Empty, ErrorBox, Load, Time, useAction, useApi } from '../../ui';
import { list, type Target, type Token } from './shared';

// ---------------------------------------------------------------------------------- tokens

export function Tokens() {
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
