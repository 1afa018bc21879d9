import type { Command } from 'commander';
import { CliError, clientFor } from './api-client.ts';
import { collect, print, printJson, printTable, readStdin } from './output.ts';

export interface UserView {
  name: string;
  email: string;
  admin: boolean;
  disabled: boolean;
  robot: boolean;
  groups: string[];
  createdAt: string;
  updatedAt: string;
}

interface UserOptions {
  password?: string;
  passwordStdin?: boolean;
  email?: string;
  admin?: boolean;
  robot?: boolean;
  group?: string[];
  disabled?: boolean;
  json?: boolean;
}

const path = (name: string) => `/api/v1/users/${encodeURIComponent(name)}`;

/** `gantry user list|show|create|update|delete`: administrators manage accounts. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users (administrators)');

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (options: UserOptions, cmd: Command) => {
      const { users } = await clientFor(cmd).request<{ users: UserView[] }>('GET', '/api/v1/users');
      if (options.json) return printJson(users);
      printTable(
        ['NAME', 'KIND', 'STATE', 'GROUPS', 'EMAIL'],
        users.map((u) => [
          u.name,
          kind(u),
          u.disabled ? 'disabled' : 'enabled',
          u.groups.join(',') || '-',
          u.email || '-',
        ]),
      );
    });

  user
    .command('show <name>')
    .description('show one user')
    .option('--json', 'print JSON')
    .action(async (name: string, options: UserOptions, cmd: Command) => {
      const u = await clientFor(cmd).request<UserView>('GET', path(name));
      if (options.json) return printJson(u);
      print(`name:     ${u.name}`);
      print(`kind:     ${kind(u)}`);
      print(`state:    ${u.disabled ? 'disabled' : 'enabled'}`);
      print(`email:    ${u.email || '-'}`);
      print(`groups:   ${u.groups.join(', ') || '-'}`);
      print(`created:  ${u.createdAt}`);
      print(`updated:  ${u.updatedAt}`);
    });

  user
    .command('create <name>')
    .description('create a user with a password, or a robot account (API tokens only) with --robot')
    .option(
      '--password <password>',
      'the new password (prefer --password-stdin: command lines are visible to others)',
    )
    .option('--password-stdin', 'read the password from standard input')
    .option('--email <address>', 'email address')
    .option('--admin', 'make the user an administrator')
    .option('--robot', 'a robot account: no password, API tokens only')
    .option('--group <name>', 'add to this group (repeatable)', collect)
    .action(async (name: string, options: UserOptions, cmd: Command) => {
      const password = await passwordOf(options);
      if (options.robot && password !== undefined)
        throw new CliError('robot accounts have no password; drop --password');
      if (!options.robot && password === undefined) {
        throw new CliError(
          'give the password with --password-stdin or --password, or create a robot account with --robot',
        );
      }
      const created = await clientFor(cmd).request<UserView>('POST', '/api/v1/users', {
        name,
        ...(password === undefined ? {} : { password }),
        ...(options.email === undefined ? {} : { email: options.email }),
        ...(options.admin ? { admin: true } : {}),
        ...(options.robot ? { robot: true } : {}),
        ...(options.group ? { groups: options.group } : {}),
      });
      print(`created ${kind(created)} ${created.name}`);
    });

  user
    .command('update <name>')
    .description("change a user's password, email, administrator flag, state or groups")
    .option('--password <password>', 'a new password (prefer --password-stdin)')
    .option('--password-stdin', 'read the new password from standard input')
    .option('--email <address>', 'email address')
    .option('--admin', 'make the user an administrator')
    .option('--no-admin', 'make the user an ordinary user')
    .option('--disable', 'disable the account: its password and API tokens stop working')
    .option('--enable', 'enable the account again')
    .option('--group <name>', 'the groups the user is in, replacing the current ones (repeatable)', collect)
    .option('--no-groups', 'remove the user from every group')
    .action(
      async (
        name: string,
        options: UserOptions & { disable?: boolean; enable?: boolean; groups?: boolean },
        cmd: Command,
      ) => {
        if (options.disable && options.enable)
          throw new CliError('--disable and --enable contradict each other');
        const password = await passwordOf(options);
        const body = {
          ...(password === undefined ? {} : { password }),
          ...(options.email === undefined ? {} : { email: options.email }),
          ...(options.admin === undefined ? {} : { admin: options.admin }),
          ...(options.disable ? { disabled: true } : options.enable ? { disabled: false } : {}),
          ...(options.group ? { groups: options.group } : options.groups === false ? { groups: [] } : {}),
        };
        if (Object.keys(body).length === 0)
          throw new CliError('nothing to change: see gantry user update --help');
        await clientFor(cmd).request('PATCH', path(name), body);
        print(`updated user ${name}`);
      },
    );

  user
    .command('delete <name>')
    .description('delete a user, with their group memberships, grants and API tokens')
    .action(async (name: string, _options: unknown, cmd: Command) => {
      await clientFor(cmd).request('DELETE', path(name));
      print(`deleted user ${name}`);
    });
}

function kind(u: UserView): string {
  return u.admin ? 'administrator' : u.robot ? 'robot' : 'user';
}

async function passwordOf(options: UserOptions): Promise<string | undefined> {
  if (options.passwordStdin && options.password !== undefined) {
    throw new CliError('give the password with either --password or --password-stdin');
  }
  if (!options.passwordStdin) return options.password;
  const password = await readStdin();
  if (password === '') throw new CliError('--password-stdin read an empty password');
  return password;
}
