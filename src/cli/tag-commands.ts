import type { Command } from 'commander';
import { CliError, clientFor } from './api-client.ts';
import { dash, print, printJson, printTable } from './output.ts';

interface TagHistory {
  repository: string;
  image: string;
  tag: string;
  events: { oldDigest: string | null; newDigest: string | null; actor: string; cause: string; at: string }[];
}

interface Rollback {
  tag: string;
  from: string | null;
  to: string;
}

/** `<repository>/<image>:<tag>` → its parts; the image may contain slashes. */
export function parseTagReference(value: string): { repository: string; image: string; tag: string } {
  const slash = value.indexOf('/');
  const colon = value.lastIndexOf(':');
  if (slash <= 0 || colon < slash + 2 || colon === value.length - 1) {
    throw new CliError(
      `${JSON.stringify(value)} is not <repository>/<image>:<tag>, like docker-staging-local/team/app:latest`,
    );
  }
  return {
    repository: value.slice(0, slash),
    image: value.slice(slash + 1, colon),
    tag: value.slice(colon + 1),
  };
}

function tagPath(ref: { repository: string; image: string; tag: string }, what: string): string {
  const image = ref.image.split('/').map(encodeURIComponent).join('/');
  return `/api/v1/repositories/${encodeURIComponent(ref.repository)}/images/${image}/tags/${encodeURIComponent(ref.tag)}/${what}`;
}

/** `gantry tag history` and `gantry tag rollback`. */
export function registerTagCommands(program: Command): void {
  const tag = program.command('tag').description('tag history and rollback (local repositories)');

  tag
    .command('history <reference>')
    .description('show where a tag pointed over time, newest first (<repository>/<image>:<tag>)')
    .option('--limit <n>', 'at most this many moves (default 50, at most 1000)')
    .option('--json', 'print JSON')
    .action(async (reference: string, options: { limit?: string; json?: boolean }, cmd: Command) => {
      const ref = parseTagReference(reference);
      const query = options.limit === undefined ? '' : `?limit=${encodeURIComponent(options.limit)}`;
      const reply = await clientFor(cmd).request<TagHistory>('GET', `${tagPath(ref, 'history')}${query}`);
      if (options.json) return printJson(reply);
      printTable(
        ['TIME', 'CAUSE', 'ACTOR', 'FROM', 'TO'],
        reply.events.map((e) => [e.at, e.cause, e.actor, dash(e.oldDigest), dash(e.newDigest)]),
      );
    });

  tag
    .command('rollback <reference>')
    .description('point a mutable tag back at an earlier digest (default: one move back)')
    .option('--to <digest>', 'at this digest (any the image holds)')
    .option('--steps <n>', 'this many moves back in its history (skipping digests no longer held)')
    .option('--json', 'print JSON')
    .action(
      async (reference: string, options: { to?: string; steps?: string; json?: boolean }, cmd: Command) => {
        const ref = parseTagReference(reference);
        if (options.to !== undefined && options.steps !== undefined)
          throw new CliError('give either --to or --steps, not both');
        let steps: number | undefined;
        if (options.steps !== undefined) {
          steps = Number(options.steps);
          if (!Number.isInteger(steps) || steps < 1)
            throw new CliError('--steps must be a whole number of at least 1');
        }
        const reply = await clientFor(cmd).request<Rollback>('POST', tagPath(ref, 'rollback'), {
          ...(options.to === undefined ? {} : { to: options.to }),
          ...(steps === undefined ? {} : { steps }),
        });
        if (options.json) return printJson(reply);
        if (reply.from === reply.to) print(`${reference} points at ${reply.to} already`);
        else print(`${reference}: ${dash(reply.from)} -> ${reply.to}`);
      },
    );
}
