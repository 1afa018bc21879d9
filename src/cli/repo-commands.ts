import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CliError, clientFor } from './api-client.ts';
import { print, readStdin } from './output.ts';

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

  const create = repo
    .command('create <key>')
    .description('create a repository: local, remote (a pull-through cache) or virtual')
    .option('--kind <kind>', 'local, remote or virtual', 'local')
    .option('--description <text>', 'what the repository is for', '')
    .option('--settings-file <file>', 'its settings from a JSON or YAML file (gates, tags, url, members…)')
    .addHelpText('after', SETTINGS_HELP);
  addSettingOptions(create).action(
    async (key: string, options: RepoOptions & { kind: string }, cmd: Command) => {
      const fromFile = options.settingsFile ? await readSettingsFile(options.settingsFile) : {};
      const settings = { ...fromFile, ...(await settingsFromOptions(options)) };
      const created = await client(cmd).request<RepositoryView>('POST', '/api/v1/repositories', {
        key,
        kind: options.kind,
        description: options.description ?? '',
        ...(Object.keys(settings).length > 0 ? { settings } : {}),
      });
      print(`created ${created.kind} repository ${created.key}`);
    },
  );

  const update = repo
    .command('update <key>')
    .description("change a repository's description or settings")
    .option('--description <text>', 'what the repository is for')
    .option(
      '--settings-file <file>',
      'replace the settings with this JSON or YAML file (options below then change it further)',
    )
    .addHelpText('after', SETTINGS_HELP);
  addSettingOptions(update).action(async (key: string, options: RepoOptions, cmd: Command) => {
    const api = client(cmd);
    const path = `/api/v1/repositories/${encodeURIComponent(key)}`;
    const changed = await settingsFromOptions(options);
    let settings: Record<string, unknown> | undefined;
    if (options.settingsFile) settings = { ...(await readSettingsFile(options.settingsFile)), ...changed };
    else if (Object.keys(changed).length > 0) {
      // The stored settings as the API shows them (a remote's password masked, which the
      // server reads as "keep it"), with the options' changes on top.
      const current = await api.request<{ settings: Record<string, unknown> }>('GET', path);
      settings = { ...current.settings, ...changed };
    }
    if (settings === undefined && options.description === undefined)
      throw new CliError('nothing to change: see gantry repo update --help');
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
  url?: string;
  username?: string;
  passwordStdin?: boolean;
  pathPrefix?: string;
  ttl?: string;
  offline?: boolean;
}

const SETTINGS_HELP = `
Settings by kind (file keys; the options set the same keys and win over the file):
  local    gates, tags, promotion, checklist (see the README: Promotion)
  remote   url, username, password, pathPrefix, ttlSeconds, offline
  virtual  members, deploymentRepository
Example: gantry repo create quay-remote --kind remote --url https://quay.io --ttl 600
         gantry repo create hub --kind remote --settings-file hub.yaml --username bot --password-stdin < pw.txt`;

/** The options of settings every kind may use; the server says which belong to which kind. */
function addSettingOptions(cmd: Command): Command {
  return cmd
    .option('--members <keys>', 'virtual: comma-separated member repositories, in resolution order')
    .option('--deploy-to <key>', 'virtual: the local member that receives pushes')
    .option('--url <url>', 'remote: the upstream registry, like https://registry-1.docker.io')
    .option('--username <name>', 'remote: user name at the upstream (with --password-stdin)')
    .option('--password-stdin', 'remote: read the upstream password from standard input')
    .option('--path-prefix <prefix>', 'remote: prepended to one-component names upstream (library/)')
    .option('--ttl <seconds>', 'remote: how long a tag is served as last seen (default 300)')
    .option('--offline', 'remote: serve only what is cached');
}

/** The settings the options name (only those given), checked for shape; the server checks the rest. */
async function settingsFromOptions(options: RepoOptions): Promise<Record<string, unknown>> {
  let ttlSeconds: number | undefined;
  if (options.ttl !== undefined) {
    ttlSeconds = Number(options.ttl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0)
      throw new CliError('--ttl takes a whole number of seconds, 0 or more');
  }
  // Never a --password option: it would show in ps and the shell history.
  const password = options.passwordStdin ? await readStdin() : undefined;
  if (password === '') throw new CliError('--password-stdin read an empty password');
  const given: Record<string, unknown> = {
    members: options.members?.split(',').filter((m) => m !== ''),
    deploymentRepository: options.deployTo,
    url: options.url,
    username: options.username,
    password,
    pathPrefix: options.pathPrefix,
    ttlSeconds,
    offline: options.offline,
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}

/** A settings document from a JSON or YAML file (YAML is a superset of JSON). */
async function readSettingsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new CliError(`${file} is neither YAML nor JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CliError(`${file} must hold a mapping of settings`);
  return doc as Record<string, unknown>;
}
