import type { Command } from 'commander';
import type { ApiTokenRecord } from '../meta/identity-records.ts';
import { CliError, clientFor } from './api-client.ts';
import { collect, dash, print, printJson, printTable } from './output.ts';

/** A token as the API shows it: never the secret hash. */
type TokenView = Omit<ApiTokenRecord, 'secretHash'>;

interface TokenOptions {
  name?: string;
  target?: string[];
  action?: string[];
  expiresDays?: string;
  owner?: string;
  all?: boolean;
  json?: boolean;
}

/** `gantry token list|create|revoke`: API tokens for CI and robot accounts. */
export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description('manage API tokens (for CI, scripts and robot accounts)');

  token
    .command('list')
    .description('list your API tokens (administrators: --owner or --all)')
    .option('--owner <user>', "another user's tokens (administrators)")
    .option('--all', "everyone's tokens (administrators)")
    .option('--json', 'print JSON')
    .action(async (options: TokenOptions, cmd: Command) => {
      const query = options.all
        ? '?all=true'
        : options.owner
          ? `?owner=${encodeURIComponent(options.owner)}`
          : '';
      const { tokens } = await clientFor(cmd).request<{ tokens: TokenView[] }>(
        'GET',
        `/api/v1/tokens${query}`,
      );
      if (options.json) return printJson(tokens);
      printTable(
        ['ID', 'NAME', 'OWNER', 'SCOPE', 'EXPIRES', 'LAST USED', 'STATE'],
        tokens.map((t) => [
          t.id,
          t.name,
          t.owner,
          scope(t),
          t.expiresAt ?? 'never',
          dash(t.lastUsedAt),
          state(t),
        ]),
      );
    });

  token
    .command('create')
    .description('create an API token; its value is printed once, on standard output')
    .requiredOption('--name <name>', 'what the token is for, e.g. ci-main')
    .option('--target <name>', 'only the grants of this permission target (repeatable)', collect)
    .option(
      '--action <action>',
      'only these actions: read, annotate, deploy, delete, promote, manage (repeatable)',
      collect,
    )
    .option('--expires-days <days>', 'days until it expires; 0 for never (default 90)')
    .option('--owner <user>', 'the user it acts as (administrators; default yourself)')
    .option('--json', 'print the token and its details as JSON')
    .action(async (options: TokenOptions, cmd: Command) => {
      let expiresInDays: number | undefined;
      if (options.expiresDays !== undefined) {
        expiresInDays = Number(options.expiresDays);
        if (!/^\d+$/.test(options.expiresDays))
          throw new CliError('--expires-days takes a whole number of days (0: never)');
      }
      const created = await clientFor(cmd).request<TokenView & { token: string }>('POST', '/api/v1/tokens', {
        name: options.name,
        ...(options.target ? { targets: options.target } : {}),
        ...(options.action ? { actions: options.action } : {}),
        ...(expiresInDays === undefined ? {} : { expiresInDays }),
        ...(options.owner ? { owner: options.owner } : {}),
      });
      if (options.json) printJson(created);
      else print(created.token);
      process.stderr.write(
        `created API token ${created.name} (id ${created.id}) for ${created.owner}, ${
          created.expiresAt ? `expiring ${created.expiresAt}` : 'never expiring'
        }; this is the only time its value is shown: store it now\n`,
      );
    });

  token
    .command('revoke <id>')
    .description('revoke an API token: it stops working at once')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const revoked = await clientFor(cmd).request<TokenView>(
        'DELETE',
        `/api/v1/tokens/${encodeURIComponent(id)}`,
      );
      print(`revoked API token ${revoked.name} (id ${revoked.id}) of ${revoked.owner}`);
    });
}

function scope(t: TokenView): string {
  const parts = [
    t.targets ? `targets:${t.targets.join(',')}` : '',
    t.actions ? `actions:${t.actions.join(',')}` : '',
  ];
  return parts.filter((p) => p !== '').join(' ') || 'all';
}

function state(t: TokenView): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && t.expiresAt <= new Date().toISOString()) return 'expired';
  return 'active';
}
