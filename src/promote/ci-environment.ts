import envCi from 'env-ci';

/**
 * What a CI system tells a build step about itself through environment variables, turned into
 * Gantry build info, and the `gantry build publish` command line turned into the body of
 * `PUT /api/v1/builds/:name/:number`. The environment and the clock are passed in. The CI system
 * is recognised by env-ci (about thirty of them); for GitHub Actions, GitLab CI and Jenkins the
 * mapping below reads more than env-ci does (repository URL, run number, start time). Trap:
 * where a CI system does not say the commit or branch, env-ci asks git in the working directory.
 *
 * Precedence, per field: command-line flag, then GANTRY_BUILD_NAME / GANTRY_BUILD_NUMBER, then
 * what the detected CI system says.
 */

/** env-ci's service name (`circleci`, `buildkite`, …), `generic` or `none`. */
export type CiSystem = 'github-actions' | 'gitlab' | 'jenkins' | 'generic' | 'none' | (string & {});

export interface CiBuildInfo {
  system: CiSystem;
  name?: string;
  number?: string;
  vcsUrl?: string;
  revision?: string;
  branch?: string;
  ciUrl?: string;
  startedAt?: string;
}

type Env = Record<string, string | undefined>;

/** A build name from anything: runs of characters outside [A-Za-z0-9._-] become one `-`. */
export function buildNameFrom(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 128);
}

/** Reads the environment of the CI system env-ci recognises (richer for GitHub Actions, GitLab CI and Jenkins), and GANTRY_BUILD_NAME/NUMBER. */
export function ciEnvironment(env: Env): CiBuildInfo {
  const v = (name: string) => (env[name] ? env[name] : undefined);
  const defined = (info: CiBuildInfo): CiBuildInfo =>
    Object.fromEntries(Object.entries(info).filter(([, value]) => value !== undefined)) as CiBuildInfo;
  let info: CiBuildInfo = fromEnvCi(env);
  if (v('GITHUB_ACTIONS') === 'true' || (v('GITHUB_RUN_ID') && v('GITHUB_REPOSITORY'))) {
    const server = (v('GITHUB_SERVER_URL') ?? 'https://github.com').replace(/\/+$/, '');
    const repo = v('GITHUB_REPOSITORY');
    const runId = v('GITHUB_RUN_ID');
    const workflow = v('GITHUB_WORKFLOW');
    info = {
      system: 'github-actions',
      // Run numbers count per workflow, so the workflow is part of the name.
      name: repo ? buildNameFrom(workflow ? `${repo}/${workflow}` : repo) : undefined,
      number: v('GITHUB_RUN_NUMBER'),
      vcsUrl: repo ? `${server}/${repo}` : undefined,
      revision: v('GITHUB_SHA'),
      branch: v('GITHUB_REF_NAME'),
      ciUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}` : undefined,
    };
  } else if (v('GITLAB_CI') === 'true' || v('CI_PROJECT_URL')) {
    const path = v('CI_PROJECT_PATH');
    info = {
      system: 'gitlab',
      name: path ? buildNameFrom(path) : undefined,
      number: v('CI_PIPELINE_IID'),
      vcsUrl: v('CI_PROJECT_URL'),
      revision: v('CI_COMMIT_SHA'),
      branch: v('CI_COMMIT_REF_NAME'),
      ciUrl: v('CI_JOB_URL') ?? v('CI_PIPELINE_URL'),
      startedAt: v('CI_PIPELINE_CREATED_AT') ?? v('CI_JOB_STARTED_AT'),
    };
  } else if (v('JENKINS_URL') || (v('BUILD_URL') && v('JOB_NAME'))) {
    const job = v('JOB_NAME');
    info = {
      system: 'jenkins',
      name: job ? buildNameFrom(job) : undefined,
      number: v('BUILD_NUMBER'),
      vcsUrl: v('GIT_URL'),
      revision: v('GIT_COMMIT'),
      // The Git plugin reports the remote branch: origin/main.
      branch: v('GIT_BRANCH')?.replace(/^(?:refs\/heads\/|origin\/)/, ''),
      ciUrl: v('BUILD_URL'),
    };
  }
  const name = v('GANTRY_BUILD_NAME');
  const number = v('GANTRY_BUILD_NUMBER');
  if (name || number) {
    info = {
      ...info,
      ...(info.system === 'none' ? { system: 'generic' as const } : {}),
      ...(name ? { name } : {}),
      ...(number ? { number } : {}),
    };
  }
  return defined(info);
}

/** What env-ci recognises, in Gantry's terms; `none` outside CI. */
function fromEnvCi(env: Env): CiBuildInfo {
  const ci = envCi({ env, cwd: process.cwd() });
  if (!ci.isCi || !ci.service) return { system: 'none' };
  return {
    system: ci.service,
    name: ci.slug ? buildNameFrom(ci.slug) : undefined,
    number: ci.build,
    revision: ci.commit,
    branch: ci.branch,
    ciUrl: ci.buildUrl ?? ci.jobUrl,
  };
}

/** `gantry build publish` flags (all optional; the environment fills the gaps). */
export interface PublishFlags {
  name?: string;
  number?: string;
  artifact?: string[];
  dependency?: string[];
  started?: string;
  durationMs?: string;
  vcsUrl?: string;
  revision?: string;
  branch?: string;
  ciUrl?: string;
  property?: string[];
}

export interface PublishRequest {
  name: string;
  number: string;
  body: {
    startedAt: string;
    durationMs?: number;
    vcs: { url?: string; revision?: string; branch?: string };
    ciUrl?: string;
    artifacts: { digest: string; name?: string }[];
    dependencies: { name: string; version: string; digest?: string }[];
    properties: Record<string, string>;
  };
}

/** A command-line mistake, said in words for the person who typed it. */
export class PublishInputError extends Error {
  override readonly name = 'PublishInputError';
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `sha256:…` or `sha256:…=team/app:1.0`. */
export function parseArtifact(arg: string): { digest: string; name?: string } {
  const eq = arg.indexOf('=');
  const digest = eq < 0 ? arg : arg.slice(0, eq);
  if (!DIGEST.test(digest))
    throw new PublishInputError(`--artifact ${arg}: expected <digest>[=<name>], e.g. sha256:…=team/app:1.0`);
  return eq < 0 || eq === arg.length - 1 ? { digest } : { digest, name: arg.slice(eq + 1) };
}

/** `name@version` or `name@version@sha256:…`; the name may start with `@` (`@scope/pkg@1.2.3`). */
export function parseDependency(arg: string): { name: string; version: string; digest?: string } {
  let rest = arg;
  let digest: string | undefined;
  const last = rest.lastIndexOf('@');
  if (last > 0 && DIGEST.test(rest.slice(last + 1))) {
    digest = rest.slice(last + 1);
    rest = rest.slice(0, last);
  }
  const at = rest.lastIndexOf('@');
  const name = at > 0 ? rest.slice(0, at) : '';
  const version = at > 0 ? rest.slice(at + 1) : '';
  if (!name || !version) {
    throw new PublishInputError(
      `--dependency ${arg}: expected <name>@<version>[@<digest>], e.g. debian@12.5 or golang@1.22@sha256:…`,
    );
  }
  return { name, version, ...(digest ? { digest } : {}) };
}

/** The build to publish from flags, the CI environment and the clock. */
export function publishRequest(flags: PublishFlags, env: Env, now: Date): PublishRequest {
  const ci = ciEnvironment(env);
  const name = flags.name ?? ci.name;
  const number = flags.number ?? ci.number;
  if (!name || !number) {
    const missing = [name ? '' : '--name', number ? '' : '--number'].filter(Boolean).join(' and ');
    throw new PublishInputError(
      `give ${missing}: no CI environment says it (GitHub Actions, GitLab CI, Jenkins, or GANTRY_BUILD_NAME/GANTRY_BUILD_NUMBER)`,
    );
  }
  const startedAt = flags.started ?? ci.startedAt ?? now.toISOString();
  if (Number.isNaN(Date.parse(startedAt)))
    throw new PublishInputError(`--started ${startedAt} is not an ISO 8601 time`);
  let durationMs: number | undefined;
  if (flags.durationMs !== undefined) {
    durationMs = Number(flags.durationMs);
    if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
      throw new PublishInputError(`--duration-ms ${flags.durationMs} is not a whole number of milliseconds`);
    }
  }
  const properties: Record<string, string> = {};
  for (const p of flags.property ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new PublishInputError(`--property ${p}: expected key=value`);
    properties[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const pick = (flag: string | undefined, fromCi: string | undefined) => flag ?? fromCi;
  const vcs = {
    url: pick(flags.vcsUrl, ci.vcsUrl),
    revision: pick(flags.revision, ci.revision),
    branch: pick(flags.branch, ci.branch),
  };
  const ciUrl = pick(flags.ciUrl, ci.ciUrl);
  return {
    name,
    number,
    body: {
      startedAt,
      ...(durationMs === undefined ? {} : { durationMs }),
      vcs: Object.fromEntries(Object.entries(vcs).filter(([, v]) => v !== undefined)),
      ...(ciUrl === undefined ? {} : { ciUrl }),
      artifacts: (flags.artifact ?? []).map(parseArtifact),
      dependencies: (flags.dependency ?? []).map(parseDependency),
      properties,
    },
  };
}
