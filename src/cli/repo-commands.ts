import type { Command } from 'commander';
import { ApiClient, serverUrl } from './api-client.ts';

interface RepositoryView {
  key: string;
  kind: string;
  description: string;
  createdAt: string;
}

export function registerRepoCommands(program: Command): void {
  const repo = program.command('repo').description('manage repositories');
  const client = (cmd: Command) => new ApiClient(serverUrl(cmd.optsWithGlobals().server));

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
    .option('--kind <kind>', 'local (remote and virtual come later)', 'local')
    .option('--description <text>', 'what the repository is for', '')
    .action(async (key: string, options: { kind: string; description: string }, cmd: Command) => {
      const created = await client(cmd).request<RepositoryView>('POST', '/api/v1/repositories', {
        key,
        kind: options.kind,
        description: options.description,
      });
      print(`created ${created.kind} repository ${created.key}`);
    });

  repo
    .command('delete <key>')
    .description('delete a repository and everything in it')
    .action(async (key: string, _options: unknown, cmd: Command) => {
      await client(cmd).request('DELETE', `/api/v1/repositories/${encodeURIComponent(key)}`);
      print(`deleted repository ${key}`);
    });
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
