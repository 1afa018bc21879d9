import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { FsckReport } from '../lifecycle/fsck.ts';
import { CliError, clientFor, EXIT } from './api-client.ts';
import { dash, print, printJson, printTable } from './output.ts';

/** A run as GET /api/v1/gc/runs answers it. */
interface RunView {
  id: string;
  state: 'running' | 'finished' | 'failed';
  dryRun: boolean;
  graceSeconds: number;
  startedAt: string;
  finishedAt: string | null;
  phase: string;
  linksRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
  errors: string[];
  items?: { kind: string; digest: string; size: number; name?: string }[];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `6h`, `2d` (or a plain number of seconds) → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new CliError(`--grace "${value}" is no duration: use e.g. 0s, 30m, 6h or 2d`);
  return Number(match[1]) * (UNITS[match[2] || 's'] ?? 1);
}

/** `gantry gc`, `gantry gc runs` and `gantry fsck` (administrators). */
export function registerGcCommands(program: Command): void {
  const gc = program
    .command('gc')
    .description('run garbage collection now: remove blobs no manifest references (administrators)')
    .option('--dry-run', 'only list what would be removed and the bytes it frees')
    .option(
      '--grace <duration>',
      'keep what was linked or written within this period (default: the server setting); ' +
        '0s removes unreferenced content at once: for tests and emergencies only',
    )
    .option('--wait', 'wait for the run to end, showing progress (a dry run always waits)')
    .option('--json', 'print JSON')
    .action(
      async (options: { dryRun?: boolean; grace?: string; wait?: boolean; json?: boolean }, cmd: Command) => {
        const client = clientFor(cmd);
        const body = {
          dryRun: options.dryRun === true,
          ...(options.grace === undefined ? {} : { graceSeconds: parseDuration(options.grace) }),
        };
        if (body.graceSeconds === 0) {
          process.stderr.write(
            'warning: --grace 0s can fail pushes in progress; use it for tests and emergencies\n',
          );
        }
        const { run } = await client.request<{ run: RunView }>('POST', '/api/v1/gc', body);
        if (!options.wait && !options.dryRun) {
          if (options.json) return printJson({ run });
          return print(`started garbage collection run ${run.id}`);
        }
        let last = '';
        let current = run;
        for (;;) {
          current = (await client.request<{ run: RunView }>('GET', `/api/v1/gc/runs/${run.id}`)).run;
          const line = `${current.phase}: ${current.linksRemoved} links, ${current.blobsRemoved} blobs, ${bytes(current.bytesFreed)}`;
          if (line !== last && !options.json) process.stderr.write(`${line}\n`);
          last = line;
          if (current.state !== 'running') break;
          await sleep(500);
        }
        if (options.json) printJson({ run: current });
        else report(current);
        if (current.state === 'failed') {
          throw new CliError(`run ${current.id} failed: ${current.errors.join('; ')}`, EXIT.notPassed);
        }
      },
    );

  gc.command('runs')
    .description('list garbage collection runs, newest first')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const reply = await clientFor(cmd).request<{ runs: RunView[] }>('GET', '/api/v1/gc/runs');
      if (options.json) return printJson(reply);
      printTable(
        ['ID', 'STATE', 'DRY RUN', 'STARTED', 'FINISHED', 'BLOBS', 'LINKS', 'FREED', 'ERRORS'],
        reply.runs.map((r) => [
          r.id,
          r.state,
          r.dryRun ? 'yes' : 'no',
          r.startedAt,
          dash(r.finishedAt),
          String(r.blobsRemoved),
          String(r.linksRemoved),
          bytes(r.bytesFreed),
          String(r.errors.length),
        ]),
      );
    });

  program
    .command('fsck')
    .description(
      "check every blob's digest and every reference between metadata and storage (administrators)",
    )
    .option('--repair', 'quarantine corrupt blobs and drop links to missing ones')
    .option('--json', 'print JSON')
    .action(async (options: { repair?: boolean; json?: boolean }, cmd: Command) => {
      const report = await clientFor(cmd).request<FsckReport>('POST', '/api/v1/fsck', {
        repair: options.repair === true,
      });
      if (options.json) printJson(report);
      else {
        print(
          `checked ${report.blobsChecked} blobs (${bytes(report.bytesChecked)}) and ${report.rowDigestsChecked} referenced digests`,
        );
        for (const p of report.problems) print(`${p.kind} ${p.digest}${p.repaired ? `: ${p.repaired}` : ''}`);
        if (report.problems.length === 0) print('no problems found');
      }
      const unrepaired = report.problems.filter((p) => !p.repaired).length;
      if (unrepaired > 0) throw new CliError(`${unrepaired} problems found`, EXIT.notPassed);
    });
}

function report(run: RunView): void {
  for (const item of run.items ?? []) {
    print(`${item.kind === 'link' ? `link ${item.name}` : 'blob'} ${item.digest} ${bytes(item.size)}`);
  }
  const verb = run.dryRun ? 'would remove' : 'removed';
  print(
    `run ${run.id} ${run.state}: ${verb} ${run.blobsRemoved} blobs and ${run.linksRemoved} links, ${bytes(run.bytesFreed)}`,
  );
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
