import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CliError, clientFor } from './api-client.ts';
import { print } from './output.ts';

interface RepositoryView {
  key: string;
  kind: string;
  description: string;
  createdAt: string;
}

export function registerRepoCommands(program: Command): void {
  const repo = program.command('repo').description('manage repositories');
  const client = clientFor;

  repo
    .command('list')
    .description('list repositories')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const { repositories } = await client(cmd).request<{ repositories: RepositoryView[] }>(
        'GET',
        '/api/v1/repositories',
      );
      if (options.json) return print(JSON.stringify(repositories, null, 2));
      const width = Math.max(3, ...repositories.map((r) => r.key.length));
      print(`${'KEY'.padEnd(width)}  KIND     DESCRIPTION`);
      for (const r of repositories) print(`${r.key.padEnd(width)}  ${r.kind.padEnd(7)}  ${r.description}`);
    });

  repo
    .command('create <key>')
    .description('create a repository')
    .option('--kind <kind>', 'local or virtual (remote comes later)', 'local')
    .option('--description <text>', 'what the repository is for', '')
    .option('--members <keys>', 'virtual: comma-separated member repositories, in resolution order')
    .option('--deploy-to <key>', 'virtual: the local member that receives pushes')
    .action(async (key: string, options: RepoOptions & { kind: string }, cmd: Command) => {
      const created = await client(cmd).request<RepositoryView>('POST', '/api/v1/repositories', {
        key,
        kind: options.kind,
        description: options.description ?? '',
        ...(options.kind === 'virtual' ? { settings: virtualSettings(options) } : {}),
      });
      print(`created ${created.kind} repository ${created.key}`);
    });

  repo
    .command('update <key>')
    .description(
      "change a repository's description or, for a virtual one, its members and deployment repository",
    )
    .option('--description <text>', 'what the repository is for')
    .option('--members <keys>', 'virtual: comma-separated member repositories, in resolution order')
    .option('--deploy-to <key>', 'virtual: the local member that receives pushes')
    .option('--settings-file <file>', 'replace the settings with this JSON or YAML file (gates, tags, …)')
    .action(async (key: string, options: RepoOptions, cmd: Command) => {
      const api = client(cmd);
      const path = `/api/v1/repositories/${encodeURIComponent(key)}`;
      const current = await api.request<RepositoryView & { settings: Record<string, unknown> }>('GET', path);
      const touchesSettings = options.members !== undefined || options.deployTo !== undefined;
      const settings = options.settingsFile
        ? await readSettingsFile(options.settingsFile)
        : touchesSettings
          ? { ...current.settings, ...virtualSettings(options) }
          : undefined;
      await api.request('PATCH', path, {
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(settings ? { settings } : {}),
      });
      print(`updated repository ${key}`);
    });

  repo
    .command('delete <key>')
    .description('delete a repository and everything in it')
    .action(async (key: string, _options: unknown, cmd: Command) => {
      await client(cmd).request('DELETE', `/api/v1/repositories/${encodeURIComponent(key)}`);
      print(`deleted repository ${key}`);
    });
}

interface RepoOptions {
  settingsFile?: string;
  description?: string;
  members?: string;
  deployTo?: string;
}

function virtualSettings(options: RepoOptions): Record<string, unknown> {
  return {
    ...(options.members === undefined ? {} : { members: options.members.split(',').filter((m) => m !== '') }),
    ...(options.deployTo === undefined ? {} : { deploymentRepository: options.deployTo }),
  };
}

/** A settings document from a JSON or YAML file (YAML is a superset of JSON). */
async function readSettingsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const doc = parseYaml(text) as unknown;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CliError(`${file} must hold a mapping of settings`);
  return doc as Record<string, unknown>;
}
