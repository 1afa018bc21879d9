import type { Command } from 'commander';
import type { BuildView, DigestTrace, LocationView } from '../promote/builds-service.ts';
import { type PublishFlags, PublishInputError, publishRequest } from '../promote/ci-environment.ts';
import { CliError, clientFor } from './api-client.ts';
import { collectWhole, dash, print, printJson, printTable } from './output.ts';

const buildPath = (name: string, number: string) =>
  `/api/v1/builds/${encodeURIComponent(name)}/${encodeURIComponent(number)}`;

const where = (locations: readonly LocationView[]) =>
  locations
    .map((l) => `${l.repository}/${l.image}${l.tags.length ? `:${l.tags.join(',')}` : ''}`)
    .join(' ') || '(not held anywhere you may read)';

function printBuild(b: BuildView): void {
  print(`build:      ${b.name} #${b.number}`);
  print(`started:    ${b.startedAt}${b.durationMs === null ? '' : ` (${b.durationMs} ms)`}`);
  print(
    `vcs:        ${dash(b.vcs.url)} ${b.vcs.revision ?? ''}${b.vcs.branch ? ` (${b.vcs.branch})` : ''}`.trimEnd(),
  );
  print(`ci:         ${dash(b.ciUrl)}`);
  print(
    `published:  ${b.publishedAt} by ${b.publishedBy}${b.publishedByToken ? ` (API token ${b.publishedByToken})` : ''}`,
  );
  for (const [k, v] of Object.entries(b.properties)) print(`property:   ${k}=${v}`);
  print('artifacts:');
  for (const a of b.artifacts)
    print(`  ${a.digest}${a.name ? ` ${a.name}` : ''}\n    now in: ${where(a.locations)}`);
  if (b.dependencies.length > 0) {
    print('dependencies:');
    for (const d of b.dependencies) print(`  ${d.name}@${d.version}${d.digest ? ` ${d.digest}` : ''}`);
  }
}

type PublishOptions = PublishFlags & { json?: boolean };

/** `gantry build publish|show|list|delete` and `gantry trace`. */
export function registerBuildCommands(program: Command): void {
  const build = program
    .command('build')
    .description('CI build info: what a build produced, from which commit');

  build
    .command('publish')
    .description(
      'publish build info; name, number, commit, branch, CI URL and start time default to what the CI system (GitHub Actions, GitLab CI, Jenkins, CircleCI, Buildkite, … through env-ci) or GANTRY_BUILD_NAME/NUMBER say',
    )
    .option('--name <name>', 'build name ([A-Za-z0-9._-])')
    .option('--number <number>', 'build number')
    .option('--artifact <digest[=name]>', 'a digest the build produced (repeatable)', collectWhole)
    .option('--dependency <name@version[@digest]>', 'something the build used (repeatable)', collectWhole)
    .option('--started <time>', 'when the build started (ISO 8601; default now)')
    .option('--duration-ms <n>', 'how long it took')
    .option('--vcs-url <url>', 'the source repository')
    .option('--revision <commit>', 'the commit built')
    .option('--branch <branch>', 'the branch built')
    .option('--ci-url <url>', 'the CI run')
    .option('--property <k=v>', 'a free-form property of the build (repeatable)', collectWhole)
    .option('--json', 'print JSON')
    .action(async (options: PublishOptions, cmd: Command) => {
      let request: ReturnType<typeof publishRequest>;
      try {
        request = publishRequest(options, process.env, new Date());
      } catch (e) {
        if (e instanceof PublishInputError) throw new CliError(e.message);
        throw e;
      }
      const published = await clientFor(cmd).request<BuildView>(
        'PUT',
        buildPath(request.name, request.number),
        request.body,
      );
      if (options.json) return printJson(published);
      print(
        `published build ${published.name} #${published.number} with ${published.artifacts.length} artifact(s)`,
      );
    });

  build
    .command('show <name> <number>')
    .description('show a build and where its images are now')
    .option('--json', 'print JSON')
    .action(async (name: string, number: string, options: { json?: boolean }, cmd: Command) => {
      const b = await clientFor(cmd).request<BuildView>('GET', buildPath(name, number));
      if (options.json) return printJson(b);
      printBuild(b);
    });

  build
    .command('delete <name> <number>')
    .description('delete a recorded build (needs publish and delete where its images are; audited)')
    .action(async (name: string, number: string, _options: unknown, cmd: Command) => {
      await clientFor(cmd).request('DELETE', buildPath(name, number));
      print(`deleted build ${name} #${number}`);
    });

  build
    .command('list')
    .description('list builds, newest first')
    .option('--name <name>', 'only builds of this name')
    .option('--digest <digest>', 'only builds that produced this digest')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action(
      async (options: { name?: string; digest?: string; limit?: string; json?: boolean }, cmd: Command) => {
        const query = new URLSearchParams();
        for (const k of ['name', 'digest', 'limit'] as const)
          if (options[k]) query.set(k, options[k] as string);
        const { builds } = await clientFor(cmd).request<{ builds: BuildView[] }>(
          'GET',
          `/api/v1/builds${query.size > 0 ? `?${query}` : ''}`,
        );
        if (options.json) return printJson(builds);
        printTable(
          ['NAME', 'NUMBER', 'STARTED', 'REVISION', 'BRANCH', 'ARTIFACTS', 'PUBLISHED BY'],
          builds.map((b) => [
            b.name,
            b.number,
            b.startedAt,
            dash(b.vcs.revision),
            dash(b.vcs.branch),
            String(b.artifacts.length),
            b.publishedBy,
          ]),
        );
      },
    );

  program
    .command('trace <digest>')
    .description('digest → the builds that produced it, its commit, and where it is now')
    .option('--json', 'print JSON')
    .action(async (digest: string, options: { json?: boolean }, cmd: Command) => {
      const t = await clientFor(cmd).request<DigestTrace>(
        'GET',
        `/api/v1/digests/${encodeURIComponent(digest)}`,
      );
      if (options.json) return printJson(t);
      print(`digest:  ${t.digest}`);
      print(
        `source:  ${t.source ? `${dash(t.source.vcsUrl)} ${dash(t.source.revision)}${t.source.branch ? ` (${t.source.branch})` : ''}` : '-'}`,
      );
      print(`builds:  ${t.builds.map((b) => `${b.name} #${b.number}`).join(', ') || '-'}`);
      print(`now in:  ${where(t.locations)}`);
    });
}
