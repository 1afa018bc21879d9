import type { ChildProcess } from 'node:child_process';

import { basicAuth, startGantry } from '../../test/support/gantry.ts';
import { startReferenceRegistry } from '../../test/support/reference-registry.ts';
import { call, expectStatus, type Target } from './client.ts';

/** A registry process the bench started; `pid` is what the CPU and RSS probes read. */
export interface Server {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts CNCF distribution 2.8 (`docker-registry` from Debian) on a free loopback port; with
 * `proxyRemoteUrl` it is a pull-through cache of that registry (`proxy.remoteurl`), with
 * `htpasswd` (lines as `htpasswd -Bbn user pass` prints them) it asks for Basic credentials.
 */
export async function startReference(
  options: { proxyRemoteUrl?: string; htpasswd?: string } = {},
): Promise<Server> {
  const reference = await startReferenceRegistry({ ...options, logLevel: 'error' });
  return { url: reference.url, pid: reference.pid, dataDir: reference.dataDir, stop: () => reference.stop() };
}

/** Gantry's administrator, created from GANTRY_ADMIN_PASSWORD when the bench starts it. */
export const GANTRY_ADMIN = { user: 'admin', password: 'gantry-bench-admin' } as const;

/** The permission target that lets anonymous callers do everything the scenarios do. */
export const OPEN_ACCESS_TARGET = 'bench-open';

/**
 * The one repository key the open-access target leaves out: anonymous callers get nothing there,
 * so `auth-overhead` can measure requests whose credentials are really checked.
 */
export const LOCKED_REPOSITORY = 'bench-locked-local';

/**
 * Starts Gantry with an administrator's password, then grants anonymous callers every action
 * (`manage`) on every repository but LOCKED_REPOSITORY — the test suite's open access
 * (test/support/gantry.ts) with that one exclusion — so the scenarios keep measuring requests
 * without credentials.
 */
export async function startGantryServer(): Promise<Server> {
  const gantry = await startGantry({
    // The remote scenario's upstream runs on loopback, which Gantry refuses unless allowed.
    env: { GANTRY_ADMIN_PASSWORD: GANTRY_ADMIN.password, GANTRY_UPSTREAM_ALLOW: '127.0.0.0/8' },
    openAccess: false,
  });
  try {
    await openToAnonymous(gantry.url);
  } catch (error) {
    await gantry.stop();
    throw error;
  }
  return {
    url: gantry.url,
    pid: requirePid(gantry.process),
    dataDir: gantry.dataDir,
    stop: () => gantry.stop(),
  };
}

/** `Authorization` value of the administrator, for the few setup calls only it may make. */
export const adminAuthorization = () => basicAuth(GANTRY_ADMIN.user, GANTRY_ADMIN.password);

/** A setup call as the administrator: POST `body` as JSON to `path`; anything but 201 fails the run. */
export async function adminPostJson(
  target: Target,
  path: string,
  body: unknown,
  what: string,
): Promise<void> {
  const text = JSON.stringify(body);
  const reply = await call(target, path, {
    method: 'POST',
    headers: {
      authorization: adminAuthorization(),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    },
    body: text,
  });
  expectStatus(reply, 201, what);
}

async function openToAnonymous(url: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/permissions`, {
    method: 'POST',
    headers: { Authorization: adminAuthorization(), 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: OPEN_ACCESS_TARGET,
      repositories: { include: ['*'], exclude: [LOCKED_REPOSITORY] },
      anonymous: ['manage'],
    }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`opening Gantry to anonymous callers: ${res.status} ${text}`);
}

function requirePid(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('server process has no pid');
  return child.pid;
}
