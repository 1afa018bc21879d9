/**
 * What the end-to-end tests with real clients (skopeo, podman, buildah, docker, ctr) share: a
 * client environment that reads and writes none of the machine user's credentials, the
 * administrator's view of a manifest, and test steps that fail with the end of Gantry's log.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ADMIN, basicAuth, type RunningGantry } from './gantry.ts';

/**
 * HOME, XDG_RUNTIME_DIR, XDG_CONFIG_HOME and DOCKER_CONFIG under `<work>/home`. With
 * `noDefaultCredentials`, also REGISTRY_AUTH_FILE: the default auth file of containers/image,
 * written empty (buildah insists that it exists) and never logged into, so calls without
 * --authfile/--creds are anonymous.
 */
export async function isolatedClientEnv(
  work: string,
  options: { noDefaultCredentials?: boolean } = {},
): Promise<Record<string, string>> {
  const home = join(work, 'home');
  await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    XDG_CONFIG_HOME: join(home, 'config'),
    DOCKER_CONFIG: join(home, 'docker'),
  };
  if (options.noDefaultCredentials) {
    env.REGISTRY_AUTH_FILE = join(home, 'no-credentials.json');
    await writeFile(env.REGISTRY_AUTH_FILE, '{"auths": {}}\n');
  }
  return env;
}

/** Status of the administrator's GET of a manifest: 200 there, 404 not. */
export async function manifestStatus(url: string, name: string, reference: string): Promise<number> {
  const res = await fetch(`${url}/v2/${name}/manifests/${reference}`, {
    headers: {
      Authorization: basicAuth(ADMIN.user, ADMIN.password),
      Accept: 'application/vnd.oci.image.manifest.v1+json',
    },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Wraps a test body so that its failure carries the last 40 lines of the server's output. */
export function withGantryLog(gantry: () => RunningGantry | undefined) {
  return (body: (t: TestContext) => Promise<void>) =>
    async (t: TestContext): Promise<void> => {
      try {
        await body(t);
      } catch (err) {
        const tail = (gantry()?.output() ?? '').trimEnd().split('\n').slice(-40).join('\n');
        if (err instanceof Error && tail) err.message += `\n--- gantry output (last 40 lines) ---\n${tail}`;
        throw err;
      }
    };
}

/** `login` arguments of skopeo, podman and buildah: into `authFile`, over plain HTTP. */
export function loginArgs(authFile: string, user: string, password: string, host: string): string[] {
  return ['login', '--tls-verify=false', '--authfile', authFile, '-u', user, '-p', password, host];
}

/** `buildah build` of `<context>/Containerfile` as `tag`, rootless-safe and from local images only. */
export function buildahBuildArgs(context: string, tag: string): string[] {
  return [
    'build',
    '--isolation',
    'chroot',
    '--pull=never',
    '-f',
    join(context, 'Containerfile'),
    '-t',
    tag,
    context,
  ];
}
