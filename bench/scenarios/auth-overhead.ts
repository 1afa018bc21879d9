import { execFileSync } from 'node:child_process';

import { basicAuth } from '../../test/support/gantry.ts';
import { parseChallenge } from '../../test/support/token-client.ts';
import { call, expectStatus, header, keepAliveAgent, type Target } from '../lib/client.ts';
import { generateLoad } from '../lib/load.ts';
import { startCpuProbe } from '../lib/proc.ts';
import { MANIFEST_ACCEPT, makeSmallImage, pushSmallImage, type SmallImage } from '../lib/registry.ts';
import {
  type BenchOptions,
  imageName,
  type Prepared,
  type RowSpec,
  type Sample,
  type Scenario,
} from '../lib/scenario.ts';
import { adminAuthorization, adminPostJson, LOCKED_REPOSITORY, startReference } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';

// Scenario 10: what checking credentials costs on the hottest read, manifest GET and HEAD by tag
// at 64 keep-alive connections (as in `manifest`), with one small image pushed twice:
// - anonymous: no credentials, on an image anonymous callers may read;
// - bearer (Gantry only): `Authorization: Bearer <registry token>` fetched once from /v2/token
//   (the realm of the 401 challenge) as the non-admin user `bench`, on an image in
//   LOCKED_REPOSITORY, where only `bench` (read) and the administrator may do anything;
// - basic: the same user's Basic credentials on every request, same image.
// The reference (distribution 2.8) has no token server: its anonymous rows run on the bench's
// reference process, its Basic rows on a second reference process started with an htpasswd file
// (bcrypt, `htpasswd -Bbn`), and the CPU column reads that process. Every credential is checked
// once, untimed, before the measurement (a refused request fails the run). Each case is measured in
// short windows interleaved with the other cases' windows, in an order that rotates, so whatever
// else the machine does lands on all cases alike and none always runs first.

const CONNECTIONS = 64;
const USER = { name: 'bench', password: 'bench-password-1' } as const;
const READ_TARGET = 'bench-locked-read';
const TAG = 'bench';
/** Each way is measured in windows this long, interleaved with the other ways' windows. */
const WINDOW_SECONDS = 0.5;
const windows = (options: BenchOptions) => (options.quick ? 2 : 3);
const warmUpSeconds = (options: BenchOptions) => (options.quick ? 0.25 : 0.5);

const METHODS = ['GET', 'HEAD'] as const;
type Method = (typeof METHODS)[number];
type Case = 'anonymous' | 'bearer' | 'basic';

const key = (method: Method, kind: Case) => `auth-${method.toLowerCase()}-${kind}`;

/** One way of asking for the manifest: where, with which headers, and whose CPU to read. */
interface Way {
  kind: Case;
  target: Target;
  path: string;
  headers: Record<string, string>;
}

async function expectManifest(way: Way, method: Method, digest: string): Promise<void> {
  const reply = await call(way.target, way.path, {
    method,
    headers: { accept: MANIFEST_ACCEPT, ...way.headers },
  });
  expectStatus(reply, 200, `${method} manifest, ${way.kind}`);
  const served = header(reply, 'docker-content-digest');
  if (served !== digest) throw new Error(`${method} manifest, ${way.kind}: Docker-Content-Digest ${served}`);
}

/** The request without credentials must be refused with a challenge; returns the challenge header. */
async function expectRefused(target: Target, path: string): Promise<string> {
  const reply = await call(target, path, { headers: { accept: MANIFEST_ACCEPT } });
  expectStatus(reply, 401, `GET manifest without credentials where anonymous may not read`);
  return header(reply, 'www-authenticate');
}

/** Requests, time and server CPU summed over the windows of one way. */
interface Tally {
  requests: number;
  seconds: number;
  cpuMs: number;
  p50ms: number[];
  p99ms: number[];
}

async function hammer(way: Way, method: Method, secs: number, tally?: Tally): Promise<void> {
  const probe = await startCpuProbe(way.target.pid);
  const load = await generateLoad(way.target, {
    method,
    path: way.path,
    headers: { Accept: MANIFEST_ACCEPT, ...way.headers },
    connections: CONNECTIONS,
    seconds: secs,
  });
  const cpuMs = await probe.stop();
  if (load.failures > 0)
    throw new Error(`${method} manifest, ${way.kind}: ${load.failures} of ${load.requests} failed`);
  if (!tally) return;
  tally.requests += load.requests;
  tally.seconds += load.seconds;
  tally.cpuMs += cpuMs;
  tally.p50ms.push(load.p50ms);
  tally.p99ms.push(load.p99ms);
}

function sampleOf(tally: Tally): Sample {
  return {
    value: tally.requests / tally.seconds,
    ops: tally.requests,
    cpuMs: tally.cpuMs,
    note: `p50 ${median(tally.p50ms).toFixed(2)} ms, p99 ${median(tally.p99ms).toFixed(2)} ms (medians over windows)`,
  };
}

const rotated = <T>(list: T[], by: number) => [
  ...list.slice(by % list.length),
  ...list.slice(0, by % list.length),
];

/**
 * Warms every way up (untimed); then, per repetition and method, `windows` rounds in which each
 * way gets one short window, in an order that rotates from round to round. Short interleaved
 * windows spread whatever else the machine does over all the ways alike.
 */
async function measuring(ways: Way[], options: BenchOptions, close?: () => Promise<void>): Promise<Prepared> {
  for (const way of ways) await hammer(way, 'GET', warmUpSeconds(options));
  return {
    async measure(rep) {
      const got: Record<string, Sample> = {};
      for (const method of METHODS) {
        const tallies = new Map(
          ways.map((w): [Case, Tally] => [
            w.kind,
            { requests: 0, seconds: 0, cpuMs: 0, p50ms: [], p99ms: [] },
          ]),
        );
        for (let round = 0; round < windows(options); round++) {
          for (const way of rotated(ways, rep + round)) {
            await hammer(way, method, WINDOW_SECONDS, tallies.get(way.kind));
          }
        }
        for (const [kind, tally] of tallies) got[key(method, kind)] = sampleOf(tally);
      }
      return got;
    },
    ...(close ? { close } : {}),
  };
}

/** A registry token for `scope` from the challenge's realm, asked for with Basic credentials. */
async function fetchToken(target: Target, challengeHeader: string, authorization: string): Promise<string> {
  const challenge = parseChallenge(challengeHeader);
  if (!challenge?.scope) throw new Error(`no Bearer challenge with a scope: ${challengeHeader}`);
  const url = new URL(challenge.realm);
  url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', challenge.scope);
  const reply = await call(target, url.href, { headers: { authorization } });
  expectStatus(reply, 200, `GET ${url.pathname}?${url.searchParams}`);
  const { token } = JSON.parse(reply.body.toString('utf8')) as { token?: unknown };
  if (typeof token !== 'string' || token.split('.').length !== 3)
    throw new Error('/v2/token answered no JWT in "token"');
  return token;
}

/**
 * Gantry: user `bench`, the repository LOCKED_REPOSITORY (which the bench's open-access target
 * leaves out) and a permission target granting `bench` read there, all made by the administrator.
 */
async function prepareGantry(target: Target, image: SmallImage, options: BenchOptions) {
  const open = `/v2/${imageName('bench-auth')}/manifests/${TAG}`;
  const lockedName = `${LOCKED_REPOSITORY}/bench-auth`;
  const locked = `/v2/${lockedName}/manifests/${TAG}`;
  await adminPostJson(
    target,
    '/api/v1/repositories',
    { key: LOCKED_REPOSITORY, kind: 'local' },
    `POST /api/v1/repositories ${LOCKED_REPOSITORY}`,
  );
  await adminPostJson(
    target,
    '/api/v1/users',
    { name: USER.name, password: USER.password },
    'POST /api/v1/users',
  );
  await adminPostJson(
    target,
    '/api/v1/permissions',
    { name: READ_TARGET, repositories: [LOCKED_REPOSITORY], users: { [USER.name]: ['read'] } },
    `POST /api/v1/permissions ${READ_TARGET}`,
  );
  await pushSmallImage(target, imageName('bench-auth'), image, TAG);
  await pushSmallImage(
    { ...target, headers: { authorization: adminAuthorization() } },
    lockedName,
    image,
    TAG,
  );
  const challenge = await expectRefused(target, locked);
  const basic = basicAuth(USER.name, USER.password);
  const token = await fetchToken(target, challenge, basic);
  const ways: Way[] = [
    { kind: 'anonymous', target, path: open, headers: {} },
    { kind: 'bearer', target, path: locked, headers: { authorization: `Bearer ${token}` } },
    { kind: 'basic', target, path: locked, headers: { authorization: basic } },
  ];
  for (const way of ways)
    for (const method of METHODS) await expectManifest(way, method, image.manifestDigest);
  return measuring(ways, options);
}

/** The reference: anonymous on the bench's process, Basic on a second one with an htpasswd file. */
async function prepareReference(target: Target, image: SmallImage, options: BenchOptions) {
  const htpasswd = execFileSync('htpasswd', ['-Bbn', USER.name, USER.password], { encoding: 'utf8' });
  const secured = await startReference({ htpasswd });
  const basic = basicAuth(USER.name, USER.password);
  const locked: Target = {
    label: target.label,
    url: secured.url,
    pid: secured.pid,
    agent: keepAliveAgent(8),
  };
  const close = async () => {
    locked.agent.destroy();
    await secured.stop();
  };
  try {
    const name = imageName('bench-auth');
    const path = `/v2/${name}/manifests/${TAG}`;
    await pushSmallImage(target, name, image, TAG);
    await pushSmallImage({ ...locked, headers: { authorization: basic } }, name, image, TAG);
    await expectRefused(locked, path);
    const ways: Way[] = [
      { kind: 'anonymous', target, path, headers: {} },
      { kind: 'basic', target: locked, path, headers: { authorization: basic } },
    ];
    for (const way of ways)
      for (const method of METHODS) await expectManifest(way, method, image.manifestDigest);
    return await measuring(ways, options, close);
  } catch (error) {
    await close();
    throw error;
  }
}

const CASES: { kind: Case; what: string; notEverywhere?: string }[] = [
  { kind: 'anonymous', what: 'no credentials (anonymous read granted)' },
  {
    kind: 'bearer',
    what: 'Bearer token from /v2/token, user with read',
    notEverywhere: 'the reference has no token server of its own',
  },
  { kind: 'basic', what: 'Basic on every request (reference: htpasswd, bcrypt)' },
];

export const authOverhead: Scenario = {
  name: 'auth-overhead',
  reps: (options) => (options.quick ? 1 : 3),
  rows: (options) =>
    METHODS.flatMap((method) =>
      CASES.map(
        ({ kind, what, notEverywhere }): RowSpec => ({
          key: key(method, kind),
          label: `Manifest ${method}, ${what}, ${CONNECTIONS} connections, ${windows(options)} × ${WINDOW_SECONDS} s`,
          unit: 'req/s',
          higherIsBetter: true,
          op: 'request',
          ...(kind === 'anonymous' ? {} : { baseline: key(method, 'anonymous') }),
          ...(notEverywhere ? { notEverywhere } : {}),
        }),
      ),
    ),
  async prepare(target, options) {
    const image = await makeSmallImage('auth');
    return target.label === 'gantry'
      ? prepareGantry(target, image, options)
      : prepareReference(target, image, options);
  },
};
