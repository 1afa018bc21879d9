import type { Command } from 'commander';
import { clientFor } from './api-client.ts';
import { dash, print, printJson, printTable } from './output.ts';

interface RetentionRunReply {
  repository: string;
  dryRun: boolean;
  items: { image: string; tag?: string; digest: string; action: 'keep' | 'remove'; rule: string }[];
  removed: { tags: number; manifests: number };
  skipped: number;
}

interface UsageReply {
  repositories: {
    key: string;
    kind: string;
    logicalBytes: number;
    uniqueBytes: number;
    quota: { bytes: number; warnAt: number; state: 'ok' | 'warning' | 'exceeded' } | null;
  }[];
  total: { logicalBytes: number; uniqueBytes: number };
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `gantry retention run` and `gantry usage`. */
export function registerLifecycleCommands(program: Command): void {
  const retention = program.command('retention').description("apply a repository's retention rules");
  retention
    .command('run <repository>')
    .description('evaluate the retention rules of a local repository and remove what they decide')
    .option('--dry-run', 'only list the decisions, remove nothing')
    .option('--all', 'list kept items too (default: only what is removed)')
    .option('--json', 'print JSON')
    .action(
      async (
        repository: string,
        options: { dryRun?: boolean; all?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const reply = await clientFor(cmd).request<RetentionRunReply>(
          'POST',
          `/api/v1/retention/${encodeURIComponent(repository)}/evaluate`,
          { dryRun: options.dryRun === true },
        );
        if (options.json) return printJson(reply);
        const items = options.all ? reply.items : reply.items.filter((i) => i.action === 'remove');
        printTable(
          ['ACTION', 'IMAGE', 'TAG', 'DIGEST', 'RULE'],
          items.map((i) => [
            reply.dryRun && i.action === 'remove' ? 'would remove' : i.action,
            i.image,
            dash(i.tag),
            i.digest,
            i.rule,
          ]),
        );
        const removing = reply.items.filter((i) => i.action === 'remove');
        if (reply.dryRun) {
          print(
            `dry run: would remove ${removing.filter((i) => i.tag).length} tags and ${removing.filter((i) => !i.tag).length} manifests; nothing was removed`,
          );
        } else {
          print(
            `removed ${reply.removed.tags} tags and ${reply.removed.manifests} manifests${reply.skipped > 0 ? `; skipped ${reply.skipped} that changed meanwhile` : ''}; garbage collection frees their blobs`,
          );
        }
      },
    );

  program
    .command('usage')
    .description('storage used per repository (logical and unique bytes) and in total, with quotas')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const reply = await clientFor(cmd).request<UsageReply>('GET', '/api/v1/usage');
      if (options.json) return printJson(reply);
      printTable(
        ['REPOSITORY', 'KIND', 'UNIQUE', 'LOGICAL', 'QUOTA', 'STATE'],
        [
          ...reply.repositories.map((r) => [
            r.key,
            r.kind,
            formatBytes(r.uniqueBytes),
            formatBytes(r.logicalBytes),
            r.quota ? formatBytes(r.quota.bytes) : '-',
            r.quota ? r.quota.state : '-',
          ]),
          ['total', '', formatBytes(reply.total.uniqueBytes), formatBytes(reply.total.logicalBytes), '', ''],
        ],
      );
    });
}
