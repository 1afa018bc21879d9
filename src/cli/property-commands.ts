import type { Command } from 'commander';
import { CliError, clientFor } from './api-client.ts';
import { collectWhole, print, printJson, printTable } from './output.ts';

interface PropertiesView {
  repository: string;
  image: string;
  digest: string;
  properties: Record<string, string[]>;
}

interface SearchHit extends PropertiesView {
  tags: string[];
}

/** `docker-dev-local/team/app@sha256:…` or `docker-dev-local/team/app:1.0` → its parts. */
export function parseReference(ref: string): { repository: string; image: string; reference: string } {
  const usage = `${ref}: expected <repository>/<image>@<digest> or <repository>/<image>:<tag>`;
  const slash = ref.indexOf('/');
  if (slash <= 0) throw new CliError(usage);
  const repository = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const at = rest.indexOf('@');
  const colon = rest.lastIndexOf(':');
  let image: string;
  let reference: string;
  if (at >= 0) {
    image = rest.slice(0, at);
    reference = rest.slice(at + 1);
  } else if (colon > rest.lastIndexOf('/')) {
    image = rest.slice(0, colon);
    reference = rest.slice(colon + 1);
  } else {
    throw new CliError(`${usage} (name a digest or a tag)`);
  }
  if (!image || !reference) throw new CliError(usage);
  return { repository, image, reference };
}

function propertiesPath(ref: string): string {
  const { repository, image, reference } = parseReference(ref);
  return `/api/v1/repositories/${encodeURIComponent(repository)}/images/${image}/manifests/${encodeURIComponent(reference)}/properties`;
}

/** `a=1 a=2 b=x` → {a: [1, 2], b: [x]}. */
export function parseAssignments(pairs: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${pair}: expected key=value`);
    const key = pair.slice(0, eq);
    out[key] = [...(out[key] ?? []), pair.slice(eq + 1)];
  }
  return out;
}

function printProperties(view: PropertiesView): void {
  print(`${view.repository}/${view.image}@${view.digest}`);
  const rows = Object.entries(view.properties).flatMap(([k, values]) => values.map((v) => [k, v]));
  if (rows.length === 0) print('(no properties)');
  else printTable(['KEY', 'VALUE'], rows);
}

const short = (digest: string) => digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1');

/** `gantry props get|set|delete` and `gantry search`. */
export function registerPropertyCommands(program: Command): void {
  const props = program
    .command('props')
    .description('properties of an image (key = values on a digest in a repository)');

  props
    .command('get <ref>')
    .description('show the properties of <repository>/<image>@<digest> (or :<tag>)')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { json?: boolean }, cmd: Command) => {
      const view = await clientFor(cmd).request<PropertiesView>('GET', propertiesPath(ref));
      if (options.json) return printJson(view);
      printProperties(view);
    });

  props
    .command('set <ref> <assignments...>')
    .description(
      'set properties: key=value (repeat a key for several values); other keys stay unless --replace',
    )
    .option('--replace', 'replace every property with the given ones')
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string,
        assignments: string[],
        options: { replace?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const properties = parseAssignments(assignments);
        const view = await clientFor(cmd).request<PropertiesView>(
          options.replace ? 'PUT' : 'PATCH',
          propertiesPath(ref),
          { properties },
        );
        if (options.json) return printJson(view);
        printProperties(view);
      },
    );

  props
    .command('delete <ref> [keys...]')
    .description('remove properties by key (or every property with --all)')
    .option('--key <key>', 'a key to remove (repeatable)', collectWhole)
    .option('--all', 'remove every property')
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string,
        keys: string[],
        options: { key?: string[]; all?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const all = [...keys, ...(options.key ?? [])];
        if (all.length === 0 && !options.all) throw new CliError('name the keys to remove, or pass --all');
        if (all.length > 0 && options.all) throw new CliError('give keys or --all, not both');
        const query = new URLSearchParams(all.map((k): [string, string] => ['key', k]));
        const view = await clientFor(cmd).request<PropertiesView>(
          'DELETE',
          `${propertiesPath(ref)}${query.size > 0 ? `?${query}` : ''}`,
        );
        if (options.json) return printJson(view);
        printProperties(view);
      },
    );

  program
    .command('search')
    .description('find images by property, label, annotation and name (every condition must hold)')
    .option(
      '--property <k=v>',
      'has property <k> with value <v> (or <k> alone: any value); repeatable',
      collectWhole,
    )
    .option('--label <k=v>', 'the image config has label <k> = <v> (or <k>); repeatable', collectWhole)
    .option('--annotation <k=v>', 'the manifest has annotation <k> = <v> (or <k>); repeatable', collectWhole)
    .option('--name <text>', 'repository/image contains this text')
    .option('--digest <prefix>', 'the digest starts with this (at least 4 hex digits)')
    .option('--tag <tag>', 'this tag points at it')
    .option('--repository <key>', 'only in this repository')
    .option('--limit <n>', 'at most this many results (default 100)')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          property?: string[];
          label?: string[];
          annotation?: string[];
          name?: string;
          digest?: string;
          tag?: string;
          repository?: string;
          limit?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const query = new URLSearchParams();
        for (const kind of ['property', 'label', 'annotation'] as const)
          for (const c of options[kind] ?? []) query.append(kind, c);
        for (const single of ['name', 'digest', 'tag', 'repository', 'limit'] as const)
          if (options[single] !== undefined) query.set(single, options[single] as string);
        if (query.size === 0)
          throw new CliError(
            'say what to look for: --property, --label, --annotation, --name, --digest, --tag or --repository',
          );
        const reply = await clientFor(cmd).request<{ results: SearchHit[]; truncated: boolean }>(
          'GET',
          `/api/v1/search?${query}`,
        );
        if (options.json) return printJson(reply);
        printTable(
          ['REPOSITORY', 'IMAGE', 'DIGEST', 'TAGS', 'PROPERTIES'],
          reply.results.map((r) => [
            r.repository,
            r.image,
            short(r.digest),
            r.tags.join(',') || '-',
            Object.entries(r.properties)
              .map(([k, v]) => `${k}=${v.join('|')}`)
              .join(' ') || '-',
          ]),
        );
        if (reply.truncated) print('(more results: narrow the search or raise --limit)');
      },
    );
}
