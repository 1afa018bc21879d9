import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CliError, clientFor } from './api-client.ts';
import { collect, collectWhole, print, printJson, printTable } from './output.ts';

interface PatternSet {
  include: string[];
  exclude: string[];
}

interface TargetView {
  name: string;
  description: string;
  repositories: PatternSet;
  images: PatternSet;
  users: Record<string, string[]>;
  groups: Record<string, string[]>;
  anonymous: string[];
  createdAt: string;
  updatedAt: string;
}

/** What the API takes to create or replace a target (a spec file holds the same). */
type TargetBody = Record<string, unknown> & {
  users?: Record<string, string[]>;
  groups?: Record<string, string[]>;
};

interface TargetOptions {
  file?: string;
  description?: string;
  repo?: string[];
  excludeRepo?: string[];
  image?: string[];
  excludeImage?: string[];
  user?: string[];
  group?: string[];
  anonymous?: string;
  json?: boolean;
}

const path = (name: string) => `/api/v1/permissions/${encodeURIComponent(name)}`;

/** `gantry permission list|show|create|update|delete`: who may do what where. */
export function registerPermissionCommands(program: Command): void {
  const permission = program
    .command('permission')
    .description('manage permission targets: repositories and images, and who may do what in them');

  permission
    .command('list')
    .description('list permission targets')
    .option('--json', 'print JSON')
    .action(async (options: TargetOptions, cmd: Command) => {
      const { permissions } = await clientFor(cmd).request<{ permissions: TargetView[] }>(
        'GET',
        '/api/v1/permissions',
      );
      if (options.json) return printJson(permissions);
      printTable(
        ['NAME', 'REPOSITORIES', 'DESCRIPTION'],
        permissions.map((t) => [t.name, patterns(t.repositories), t.description]),
      );
    });

  permission
    .command('show <name>')
    .description('show one permission target')
    .option('--json', 'print JSON')
    .action(async (name: string, options: TargetOptions, cmd: Command) => {
      const t = await clientFor(cmd).request<TargetView>('GET', path(name));
      if (options.json) return printJson(t);
      print(`name:          ${t.name}`);
      print(`description:   ${t.description || '-'}`);
      print(`repositories:  ${patterns(t.repositories)}`);
      print(`images:        ${patterns(t.images)}`);
      print(`users:         ${grantList(t.users)}`);
      print(`groups:        ${grantList(t.groups)}`);
      print(`anonymous:     ${t.anonymous.join(',') || '-'}`);
      print(`updated:       ${t.updatedAt}`);
    });

  withTargetFlags(
    permission
      .command('create <name>')
      .description('create a permission target from flags, or from a spec file with --file'),
  ).action(async (name: string, options: TargetOptions, cmd: Command) => {
    const base = options.file ? await readSpec(options.file) : {};
    if (!options.file && !options.repo) {
      throw new CliError('say which repositories the target covers with --repo (repeatable), or use --file');
    }
    const created = await clientFor(cmd).request<TargetView>('POST', '/api/v1/permissions', {
      ...applyFlags(base, options),
      name,
    });
    print(`created permission target ${created.name}`);
  });

  withTargetFlags(
    permission
      .command('update <name>')
      .description(
        'change a permission target: flags change just their part (--user and --group just the named principal; "name=" removes it); --file replaces everything',
      ),
  ).action(async (name: string, options: TargetOptions, cmd: Command) => {
    const api = clientFor(cmd);
    let base: TargetBody;
    if (options.file) base = await readSpec(options.file);
    else {
      const {
        name: _n,
        createdAt: _c,
        updatedAt: _u,
        ...current
      } = await api.request<TargetView>('GET', path(name));
      base = current;
    }
    await api.request('PUT', path(name), { ...applyFlags(base, options), name });
    print(`updated permission target ${name}`);
  });

  permission
    .command('delete <name>')
    .description('delete a permission target')
    .action(async (name: string, _options: unknown, cmd: Command) => {
      await clientFor(cmd).request('DELETE', path(name));
      print(`deleted permission target ${name}`);
    });
}

function withTargetFlags(cmd: Command): Command {
  return cmd
    .option(
      '--file <spec>',
      'YAML or JSON file holding the API body (name, description, repositories, images, users, groups, anonymous)',
    )
    .option('--description <text>', 'what the target is for')
    .option('--repo <pattern>', 'repository key pattern to cover, * wildcards (repeatable)', collect)
    .option('--exclude-repo <pattern>', 'repository key pattern to leave out (repeatable)', collect)
    .option('--image <pattern>', 'image name pattern to cover (repeatable; default every image: **)', collect)
    .option('--exclude-image <pattern>', 'image name pattern to leave out (repeatable)', collect)
    .option(
      '--user <name=actions>',
      'grant a user comma-separated actions, e.g. alice=read,deploy (repeatable)',
      collectWhole,
    )
    .option(
      '--group <name=actions>',
      'grant a group comma-separated actions, e.g. developers=deploy (repeatable)',
      collectWhole,
    )
    .option('--anonymous <actions>', 'comma-separated actions for callers who do not sign in ("" for none)');
}

async function readSpec(file: string): Promise<TargetBody> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = parseYaml(text);
  } catch (e) {
    throw new CliError(`${file} is neither YAML nor JSON: ${(e as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new CliError(
      `${file} must hold an object like {"repositories": ["docker-dev-local"], "groups": {"developers": ["deploy"]}}`,
    );
  }
  return spec as TargetBody;
}

/** The body with the parts the flags name changed; everything else as in `base`. */
export function applyFlags(base: TargetBody, options: TargetOptions): TargetBody {
  const body: TargetBody = { ...base };
  if (options.description !== undefined) body.description = options.description;
  if (options.repo || options.excludeRepo)
    body.repositories = patternSet(body.repositories, options.repo, options.excludeRepo);
  if (options.image || options.excludeImage) {
    body.images = patternSet(body.images ?? { include: ['**'] }, options.image, options.excludeImage);
  }
  if (options.user) body.users = grants(body.users, options.user, '--user');
  if (options.group) body.groups = grants(body.groups, options.group, '--group');
  if (options.anonymous !== undefined) body.anonymous = actions(options.anonymous);
  return body;
}

function patternSet(current: unknown, include: string[] | undefined, exclude: string[] | undefined): unknown {
  const set: Partial<PatternSet> = Array.isArray(current)
    ? { include: current as string[] }
    : ((current ?? {}) as Partial<PatternSet>);
  return { include: include ?? set.include ?? [], exclude: exclude ?? set.exclude ?? [] };
}

function grants(
  current: Record<string, string[]> | undefined,
  flags: string[],
  flag: string,
): Record<string, string[]> {
  const out = { ...(current ?? {}) };
  for (const flagValue of flags) {
    const eq = flagValue.indexOf('=');
    if (eq <= 0)
      throw new CliError(`${flag} takes name=actions, like ${flag} alice=read,deploy (not ${flagValue})`);
    const name = flagValue.slice(0, eq);
    const list = actions(flagValue.slice(eq + 1));
    if (list.length === 0) delete out[name];
    else out[name] = list;
  }
  return out;
}

function actions(text: string): string[] {
  return text
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '' && a !== 'none');
}

function patterns(set: PatternSet): string {
  const include = set.include.join(', ');
  return set.exclude.length === 0 ? include : `${include} (except ${set.exclude.join(', ')})`;
}

function grantList(grants: Record<string, string[]>): string {
  const entries = Object.entries(grants);
  return entries.length === 0 ? '-' : entries.map(([who, what]) => `${who}=${what.join(',')}`).join('  ');
}
