import { useState } from 'preact/hooks';
import { api } from '../api';
import { DataTable, DeleteButton, TextField } from '../parts';
import { useSession } from '../session';
import { ErrorBox, Load, Notice, PageTitle, Time, useAction, useApi } from '../ui';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  repositories: string[];
  images: string[];
  ownerName: string;
  description: string;
}

interface Delivery {
  id: number;
  eventId: number;
  eventType: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  createdAt: string;
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Webhook subscriptions: list, create, deliveries of one, replay. The API decides who may. */
export function WebhooksPage() {
  const { me } = useSession();
  const hooks = useApi<{ webhooks: Webhook[] }>('/webhooks');
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <PageTitle title="Webhooks">Webhooks</PageTitle>
      <p>
        Events are delivered as signed CloudEvents; see the README's <em>Events and webhooks</em> for the
        types and how to check the <code>Gantry-Signature</code> header.
      </p>
      <Load state={hooks} what="Loading webhooks">
        {({ webhooks }) =>
          webhooks.length === 0 ? (
            <p>No webhooks you may manage.</p>
          ) : (
            <DataTable
              testid="webhooks"
              caption="Webhook subscriptions"
              columns={['URL', 'Events', 'Repositories', 'Owner']}
              actions
            >
              {webhooks.map((w) => (
                <tr key={w.id}>
                  <td data-label="URL">
                    <code>{w.url}</code>
                  </td>
                  <td data-label="Events">{w.events.length ? w.events.join(', ') : 'all'}</td>
                  <td data-label="Repositories">
                    {w.repositories.length ? w.repositories.join(', ') : 'all'}
                  </td>
                  <td data-label="Owner">{w.ownerName}</td>
                  <td>
                    <button
                      type="button"
                      class="secondary small"
                      aria-expanded={open === w.id}
                      aria-label={`Deliveries of ${w.url}`}
                      onClick={() => setOpen(open === w.id ? null : w.id)}
                    >
                      Deliveries
                    </button>{' '}
                    <DeleteButton path={`/webhooks/${w.id}`} name={w.url} onDone={hooks.reload} />
                  </td>
                </tr>
              ))}
            </DataTable>
          )
        }
      </Load>
      {open && <Deliveries id={open} />}
      {/* Anonymous visitors own no subscriptions: the form would only answer 401. */}
      {me.authenticated && <NewWebhook onDone={hooks.reload} />}
    </>
  );
}

function Deliveries({ id }: { id: string }) {
  const state = useApi<{ deliveries: Delivery[] }>(`/webhooks/${id}/deliveries?limit=50`);
  const replay = useAction(async (from: number, to: number) =>
    api<{ queued: number }>('POST', `/webhooks/${id}/replay`, { from, to }),
  );
  return (
    <section class="card stack" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries</h2>
      <Load state={state} what="Loading deliveries">
        {({ deliveries }) => {
          if (deliveries.length === 0) return <p>Nothing delivered yet.</p>;
          const ids = deliveries.map((d) => d.eventId);
          const from = Math.min(...ids);
          const to = Math.max(...ids);
          return (
            <>
              <DataTable
                testid="deliveries"
                caption="Newest first"
                columns={['Event', 'Type', 'Status', 'Attempts', 'Response', 'Queued']}
                numeric={['Event', 'Attempts']}
              >
                {deliveries.map((d) => (
                  <tr key={d.id}>
                    <td data-label="Event" class="num">
                      {d.eventId}
                    </td>
                    <td data-label="Type">{d.eventType}</td>
                    <td data-label="Status">{d.status}</td>
                    <td data-label="Attempts" class="num">
                      {d.attempts}
                    </td>
                    <td data-label="Response">{d.responseStatus ?? d.error ?? '—'}</td>
                    <td data-label="Queued">
                      <Time at={d.createdAt} />
                    </td>
                  </tr>
                ))}
              </DataTable>
              <button type="button" disabled={replay.busy} onClick={() => replay.go(from, to)}>
                Replay events {from} to {to}
              </button>
            </>
          );
        }}
      </Load>
      {replay.result && <Notice>Queued {replay.result.queued} deliveries again.</Notice>}
      {replay.error && <ErrorBox error={replay.error} />}
    </section>
  );
}

function NewWebhook({ onDone }: { onDone(): void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [repositories, setRepositories] = useState('');
  const [secret, setSecret] = useState('');
  const create = useAction(async () => {
    await api('POST', '/webhooks', {
      url,
      secret,
      ...(events.trim() ? { events: list(events) } : {}),
      ...(repositories.trim() ? { repositories: list(repositories) } : {}),
    });
    setUrl('');
    setSecret('');
    onDone();
    return true;
  });
  return (
    <form
      class="card stack"
      aria-labelledby="new-webhook-title"
      onSubmit={(e) => {
        e.preventDefault();
        create.go();
      }}
    >
      <h2 id="new-webhook-title">New webhook</h2>
      <div class="grid2">
        <TextField id="webhook-url" label="URL" value={url} onValue={setUrl} type="url" required />
        <TextField
          id="webhook-secret"
          label="Secret (16+ characters)"
          value={secret}
          onValue={setSecret}
          type="password"
          autoComplete="new-password"
          required
        />
        <TextField
          id="webhook-events"
          label="Event types (comma-separated; empty: all)"
          value={events}
          onValue={setEvents}
          placeholder="io.gantry.image.pushed"
        />
        <TextField
          id="webhook-repositories"
          label="Repositories (comma-separated; empty: all, administrators only)"
          value={repositories}
          onValue={setRepositories}
          placeholder="docker-dev-local"
        />
      </div>
      <div>
        <button type="submit" disabled={create.busy}>
          Create webhook
        </button>
      </div>
      {create.error && <ErrorBox error={create.error} />}
    </form>
  );
}
