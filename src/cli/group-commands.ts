import type { Command } from 'commander';
import type { GroupRecord } from '../meta/identity-records.ts';
import { CliError, clientFor } from './api-client.ts';
import { collect, print, printJson, printTable } from './output.ts';

interface GroupOptions {
  description?: string;
  member?: string[];
  addMember?: string[];
  removeMember?: string[];
  json?: boolean;
}

const path = (name: string) => `/api/v1/groups/${encodeURIComponent(name)}`;

/** `gantry group list|show|create|update|delete`. */
export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('manage groups of users');

  group
    .command('list')
    .description('list groups')
    .option('--json', 'print JSON')
    .action(async (options: GroupOptions, cmd: Command) => {
      const { groups } = await clientFor(cmd).request<{ groups: GroupRecord[] }>('GET', '/api/v1/groups');
      if (options.json) return printJson(groups);
      printTable(
        ['NAME', 'MEMBERS', 'DESCRIPTION'],
        groups.map((g) => [g.name, g.members.join(',') || '-', g.description]),
      );
    });

  group
    .command('show <name>')
    .description('show one group')
    .option('--json', 'print JSON')
    .action(async (name: string, options: GroupOptions, cmd: Command) => {
      const g = await clientFor(cmd).request<GroupRecord>('GET', path(name));
      if (options.json) return printJson(g);
      print(`name:         ${g.name}`);
      print(`description:  ${g.description || '-'}`);
      print(`members:      ${g.members.join(', ') || '-'}`);
      print(`created:      ${g.createdAt}`);
    });

  group
    .command('create <name>')
    .description('create a group')
    .option('--description <text>', 'what the group is for')
    .option('--member <user>', 'a member (repeatable)', collect)
    .action(async (name: string, options: GroupOptions, cmd: Command) => {
      const created = await clientFor(cmd).request<GroupRecord>('POST', '/api/v1/groups', {
        name,
        ...(options.description === undefined ? {} : { description: options.description }),
        members: options.member ?? [],
      });
      print(`created group ${created.name} with ${created.members.length} member(s)`);
    });

  group
    .command('update <name>')
    .description("change a group's description or members")
    .option('--description <text>', 'what the group is for')
    .option('--member <user>', 'the members, replacing the current ones (repeatable)', collect)
    .option('--no-members', 'remove every member')
    .option('--add-member <user>', 'add a member, keeping the others (repeatable)', collect)
    .option('--remove-member <user>', 'remove a member, keeping the others (repeatable)', collect)
    .action(async (name: string, options: GroupOptions & { members?: boolean }, cmd: Command) => {
      const api = clientFor(cmd);
      let members = options.member ?? (options.members === false ? [] : undefined);
      if (options.addMember || options.removeMember) {
        if (members !== undefined)
          throw new CliError(
            '--member replaces the members; do not combine it with --add-member or --remove-member',
          );
        const current = await api.request<GroupRecord>('GET', path(name));
        const removed = new Set(options.removeMember ?? []);
        members = [...new Set([...current.members, ...(options.addMember ?? [])])].filter(
          (m) => !removed.has(m),
        );
      }
      const body = {
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(members === undefined ? {} : { members }),
      };
      if (Object.keys(body).length === 0)
        throw new CliError('nothing to change: see gantry group update --help');
      await api.request('PATCH', path(name), body);
      print(`updated group ${name}`);
    });

  group
    .command('delete <name>')
    .description('delete a group (its members stay; its grants go)')
    .action(async (name: string, _options: unknown, cmd: Command) => {
      await clientFor(cmd).request('DELETE', path(name));
      print(`deleted group ${name}`);
    });
}
