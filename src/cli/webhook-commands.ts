import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { WebhookDelivery, WebhookSubscription } from '../meta/event-records.ts';
import { CliError, clientFor } from './api-client.ts';
import { collect, dash, print, printJson, printTable } from './output.ts';

interface CreateOptions {
  url: string;
  event?: string[];
  repository?: string[];
  image?: string[];
  secretFile?: string;
  description?: string;
  json?: boolean;
}

/** `gantry webhook create|list|show|delete|deliveries|replay`. */
export function registerWebhookCommands(program: Command): void {
  const webhook = program
    .command('webhook')
    .description('manage webhook subscriptions (CloudEvents over HTTP)');

  webhook
    .command('create')
    .description('subscribe a URL to events; prints the signing secret when Gantry made it up')
    .requiredOption('--url <url>', 'where deliveries are POSTed (http or https)')
    .option('--event <type>', 'an event type, e.g. io.gantry.image.pushed (repeatable; default all)', collect)
    .option(
      '--repository <key>',
      'only events of this repository (repeatable; required unless administrator)',
      collect,
    )
    .option('--image <pattern>', 'only images matching this glob (repeatable)', collect)
    .option(
      '--secret-file <path>',
      'file holding the signing secret (else GANTRY_WEBHOOK_SECRET, else a new one)',
    )
    .option('--description <text>', 'what the subscription is for')
    .option('--json', 'print JSON')
    .action(async (options: CreateOptions, cmd: Command) => {
      const given = options.secretFile
        ? (await readFile(options.secretFile, 'utf8')).trim()
        : process.env.GANTRY_WEBHOOK_SECRET;
      const secret = given ?? randomBytes(32).toString('hex');
      const created = await clientFor(cmd).request<WebhookSubscription>('POST', '/api/v1/webhooks', {
        url: options.url,
        secret,
        ...(options.event ? { events: options.event } : {}),
        ...(options.repository ? { repositories: options.repository } : {}),
        ...(options.image ? { images: options.image } : {}),
        ...(options.description ? { description: options.description } : {}),
      });
      if (options.json) printJson(given === undefined ? { ...created, secret } : created);
      else if (given === undefined) print(secret);
      process.stderr.write(
        `created webhook ${created.id} for ${created.url}${
          given === undefined
            ? '; the signing secret above is shown only now: store it with the receiver'
            : ''
        }\n`,
      );
    });

  webhook
    .command('list')
    .description('list the subscriptions you may manage')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const { webhooks } = await clientFor(cmd).request<{ webhooks: WebhookSubscription[] }>(
        'GET',
        '/api/v1/webhooks',
      );
      if (options.json) return printJson(webhooks);
      printTable(
        ['ID', 'URL', 'EVENTS', 'REPOSITORIES', 'OWNER'],
        webhooks.map((w) => [w.id, w.url, all(w.events), all(w.repositories), w.ownerName]),
      );
    });

  webhook
    .command('show <id>')
    .description('show one subscription (never its secret)')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      printJson(
        await clientFor(cmd).request<WebhookSubscription>(
          'GET',
          `/api/v1/webhooks/${encodeURIComponent(id)}`,
        ),
      );
    });

  webhook
    .command('delete <id>')
    .description('delete a subscription and its delivery records')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      await clientFor(cmd).request('DELETE', `/api/v1/webhooks/${encodeURIComponent(id)}`);
      process.stderr.write(`deleted webhook ${id}\n`);
    });

  webhook
    .command('deliveries <id>')
    .description('list deliveries, newest first, with status and the last response')
    .option('--status <status>', 'pending, delivered or dead')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action(
      async (id: string, options: { status?: string; limit?: string; json?: boolean }, cmd: Command) => {
        const query = new URLSearchParams();
        if (options.status) query.set('status', options.status);
        if (options.limit) query.set('limit', options.limit);
        const path = `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries${query.size ? `?${query}` : ''}`;
        const { deliveries } = await clientFor(cmd).request<{ deliveries: WebhookDelivery[] }>('GET', path);
        if (options.json) return printJson(deliveries);
        printTable(
          ['ID', 'EVENT', 'TYPE', 'STATUS', 'ATTEMPTS', 'RESPONSE', 'ERROR'],
          deliveries.map((d) => [
            String(d.id),
            String(d.eventId),
            d.eventType,
            d.status,
            String(d.attempts),
            dash(d.responseStatus === null ? null : String(d.responseStatus)),
            dash(d.error),
          ]),
        );
      },
    );

  webhook
    .command('replay <id>')
    .description('deliver a range of events again (event ids or ISO times; either end may be left out)')
    .option('--from <id-or-time>', 'first event id or time')
    .option('--to <id-or-time>', 'last event id or time')
    .action(async (id: string, options: { from?: string; to?: string }, cmd: Command) => {
      if (options.from === undefined && options.to === undefined)
        throw new CliError('give --from and/or --to');
      const end = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);
      const result = await clientFor(cmd).request<{ queued: number }>(
        'POST',
        `/api/v1/webhooks/${encodeURIComponent(id)}/replay`,
        { from: end(options.from), to: end(options.to) },
      );
      print(`queued ${result.queued} deliveries`);
    });
}

function all(list: readonly string[]): string {
  return list.length === 0 ? '(all)' : list.join(',');
}
