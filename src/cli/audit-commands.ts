import type { Command } from 'commander';
import type { AuditEvent } from '../meta/identity-records.ts';
import { clientFor } from './api-client.ts';
import { dash, print, printJson, printTable } from './output.ts';

/** As the API sends it: every stored event has its id. */
type AuditEventView = AuditEvent & { id: number };

const FILTERS = ['actor', 'repository', 'action', 'outcome', 'since', 'until', 'limit', 'before'] as const;

/** `gantry audit`, `gantry auth rotate-key` and `gantry whoami`. */
export function registerAuditCommands(program: Command): void {
  program
    .command('audit')
    .description('show the audit log, newest first (administrators)')
    .option('--actor <name>', 'only what this user (or anonymous) did')
    .option('--repository <key>', 'only events in this repository')
    .option(
      '--action <action>',
      'only this action, or every action starting with it when it ends in "." (user.)',
    )
    .option('--outcome <outcome>', 'success, denied or failure')
    .option('--since <time>', 'only events at or after this ISO 8601 time')
    .option('--until <time>', 'only events before this ISO 8601 time')
    .option('--limit <n>', 'at most this many events (default 100, at most 1000)')
    .option('--before <id>', 'only events older than this event id (the next page)')
    .option('--json', 'print JSON (with details)')
    .action(
      async (
        options: Partial<Record<(typeof FILTERS)[number], string>> & { json?: boolean },
        cmd: Command,
      ) => {
        const query = new URLSearchParams();
        for (const f of FILTERS) if (options[f] !== undefined) query.set(f, options[f] as string);
        const reply = await clientFor(cmd).request<{ events: AuditEventView[]; next?: string }>(
          'GET',
          `/api/v1/audit${query.size > 0 ? `?${query}` : ''}`,
        );
        if (options.json) return printJson(reply);
        printTable(
          ['TIME', 'ACTOR', 'ACTION', 'REPOSITORY', 'TARGET', 'OUTCOME', 'ADDRESS'],
          reply.events.map((e) => [
            e.at,
            e.actor,
            e.action,
            dash(e.repository),
            e.target,
            e.outcome,
            dash(e.address),
          ]),
        );
        const last = reply.events[reply.events.length - 1];
        if (reply.next && last) process.stderr.write(`more: add --before ${last.id}\n`);
      },
    );

  const auth = program.command('auth').description('registry token signing keys (administrators)');
  auth
    .command('rotate-key')
    .description('sign registry tokens with a new key; the old ones still verify until dropped')
    .option('--drop-retired', 'drop retired keys at once: tokens they signed stop working')
    .action(async (options: { dropRetired?: boolean }, cmd: Command) => {
      const reply = await clientFor(cmd).request<{ kid: string; dropped?: string[] }>(
        'POST',
        '/api/v1/auth/keys/rotate',
        options.dropRetired ? { dropRetired: true } : {},
      );
      print(`new signing key ${reply.kid}`);
      if (reply.dropped) print(`dropped ${reply.dropped.length} retired key(s)`);
    });

  program
    .command('whoami')
    .description('show who the server takes you for')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const me = await clientFor(cmd).request<{
        name: string;
        authenticated: boolean;
        admin: boolean;
        groups: string[];
        via: string;
        token?: { id: string; name: string };
      }>('GET', '/api/v1/me');
      if (options.json) return printJson(me);
      if (!me.authenticated) return print('anonymous (not signed in)');
      const how = me.token ? `API token ${me.token.name} (id ${me.token.id})` : me.via;
      print(
        `${me.name}${me.admin ? ' (administrator)' : ''} via ${how}; groups: ${me.groups.join(', ') || '-'}`,
      );
    });
}
