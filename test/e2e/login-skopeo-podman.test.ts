// Access control through real containers/image clients (skopeo, podman, buildah) against a Gantry
// with access control as shipped: login into a private auth file, push and pull with those
// credentials, refusals with the server's reason, anonymous reads of published production only,
// and a CI robot's API token used as a password until it is revoked.
//
// Every client runs with HOME, XDG_* and DOCKER_CONFIG in a temp dir, so no credentials of the
// machine's user are read or written, and an "anonymous" call really carries none.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_AUTH, createRoles, PASSWORD, publishProduction } from '../auth/support.ts';
import { unmountUnder } from '../fixtures/debian.ts';
import {
  manifestStatus as adminManifestStatus,
  buildahBuildArgs,
  isolatedClientEnv,
  loginArgs,
  withGantryLog,
} from '../support/client-env.ts';
import { expectFailure, type RunResult, run, sha256Of } from '../support/clients.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';

const SKOPEO = '/usr/bin/skopeo';
const PODMAN = '/usr/bin/podman';
const BUILDAH = '/usr/bin/buildah';
const ADMIN_CREDS = `${ADMIN.user}:${ADMIN.password}`;
const DEV_CREDS = `dev:${PASSWORD}`;

function podmanUnavailableReason(): string | false {
  if (process.getuid?.() !== 0) return 'buildah/podman with private storage roots need root here';
  const missing = [BUILDAH, PODMAN].filter((b) => !existsSync(b));
  return missing.length > 0 ? `missing: ${missing.join(', ')} (apt-get install buildah podman)` : false;
}

/** `gat_<id>_<secret>` → id (the secret may itself contain `_`). */
function tokenId(token: string): string {
  const m = /^gat_([a-z0-9]{16})_/.exec(token);
  assert.ok(m?.[1], `not an API token: ${token.slice(0, 8)}…`);
  return m[1];
}

describe('login and access control with skopeo, podman and buildah', () => {
  let gantry: RunningGantry | undefined;
  let fx: PreparedFixtures | undefined;
  let work = '';
  let ciToken = '';
  /** HOME and friends for every client: nothing from the real home, no default credentials. */
  let clientEnv: Record<string, string> = {};
  const host = () => gantry?.host ?? '?';
  const docker = (name: string) => `docker://${host()}/${name}`;
  const tiny = () => fx?.record('tiny').digest ?? '?';

  /** Failures carry the end of the server's log. */
  const step = withGantryLog(() => gantry);

  const skopeo = (args: string[]): Promise<RunResult> =>
    run(SKOPEO, args, { timeoutMs: 120_000, env: clientEnv });

  /** `skopeo inspect --raw` digest, with whatever auth arguments are given (none: anonymous). */
  async function digestOf(ref: string, auth: string[] = []): Promise<string> {
    const { stdout } = await skopeo(['inspect', '--tls-verify=false', ...auth, '--raw', ref]);
    return sha256Of(stdout);
  }

  /** Copies the tiny fixture to `dest` (byte for byte) with the given destination auth arguments. */
  const pushTiny = (dest: string, auth: string[]) =>
    skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--preserve-digests',
      ...auth,
      fx?.ociRef('tiny') ?? '?',
      docker(dest),
    ]);

  /** Status of the administrator's GET of a manifest: 200 there, 404 not. */
  const manifestStatus = (name: string, reference: string) =>
    adminManifestStatus(gantry?.url ?? '?', name, reference);

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'gantry-e2e-login-'));
      // Calls without --authfile/--creds are anonymous.
      clientEnv = await isolatedClientEnv(work, { noDefaultCredentials: true });
      fx = await prepareFixtures(['tiny']);
      gantry = await startGantry({ openAccess: false });
      ({ ciToken } = await createRoles(gantry.url));
      // Production is promotion-only by default; the administrator seeds it directly here.
      await allowDirectWrites(gantry.url, 'docker-prod-local');
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await gantry?.stop();
    await fx?.cleanup();
    if (work) {
      await unmountUnder(work);
      await rm(work, { recursive: true, force: true });
    }
  });

  describe('skopeo', () => {
    let authFile = '';
    const withLogin = () => ['--authfile', authFile];

    it(
      'login: a wrong password fails with "invalid username/password"; the right one is stored in the auth file',
      { timeout: 60_000 },
      step(async () => {
        authFile = join(work, 'skopeo-auth.json');
        const login = (password: string) => skopeo(loginArgs(authFile, 'dev', password, host()));
        const wrong = await expectFailure(login('not-the-password'));
        assert.equal(wrong.exitCode, 1);
        assert.match(wrong.stderr, /invalid username\/password/);
        assert.equal(existsSync(authFile), false, 'a failed login must not write the auth file');

        const { stdout } = await login(PASSWORD);
        assert.match(stdout.toString(), /Login Succeeded/);
        const stored = JSON.parse(await readFile(authFile, 'utf8')) as {
          auths: Record<string, { auth?: string }>;
        };
        assert.equal(Buffer.from(stored.auths[host()]?.auth ?? '', 'base64').toString(), DEV_CREDS);
      }),
    );

    it(
      'with that login, pushes through the virtual docker into docker-dev-local with the same digest',
      { timeout: 120_000 },
      step(async () => {
        await pushTiny('docker/team/app:1.0', ['--dest-authfile', authFile]);
        assert.equal(await digestOf(docker('docker/team/app:1.0'), withLogin()), tiny());
        assert.equal(await digestOf(docker('docker-dev-local/team/app:1.0'), withLogin()), tiny());
        assert.equal(await manifestStatus('docker-staging-local/team/app', '1.0'), 404);
      }),
    );

    it(
      'the same login cannot push to docker-prod-local: "denied", and nothing lands',
      { timeout: 120_000 },
      step(async () => {
        const err = await expectFailure(
          pushTiny('docker-prod-local/team/app:1.0', ['--dest-authfile', authFile]),
        );
        assert.equal(err.exitCode, 1);
        assert.match(err.stderr, /denied: user dev may not .*docker-prod-local\/team\/app/);
        assert.equal(await manifestStatus('docker-prod-local/team/app', '1.0'), 404);
      }),
    );

    it(
      '--creds works without a login; wrong --creds are refused',
      { timeout: 120_000 },
      step(async () => {
        assert.equal(await digestOf(docker('docker-dev-local/team/app:1.0'), ['--creds', DEV_CREDS]), tiny());
        await pushTiny('docker/team/creds:1', ['--dest-creds', DEV_CREDS]);
        assert.equal(await digestOf(docker('docker-dev-local/team/creds:1'), ['--creds', DEV_CREDS]), tiny());
        const err = await expectFailure(
          digestOf(docker('docker/team/app:1.0'), ['--creds', 'dev:wrong-password']),
        );
        assert.match(err.stderr, /invalid username\/password/);
      }),
    );

    it(
      'anonymous: docker-dev-local is refused; production is readable through docker-prod once published',
      { timeout: 120_000 },
      step(async () => {
        const devLocal = await expectFailure(digestOf(docker('docker-dev-local/team/app:1.0')));
        assert.match(
          devLocal.stderr,
          /denied: an anonymous caller may not read.*docker-dev-local\/team\/app/,
        );

        // Promotion by hand: the administrator copies the image into production.
        await pushTiny('docker-prod-local/team/app:1.0', ['--dest-creds', ADMIN_CREDS]);
        const unpublished = await expectFailure(digestOf(docker('docker-prod/team/app:1.0')));
        assert.match(unpublished.stderr, /denied|unauthorized/);

        if (!gantry) throw new Error('gantry did not start');
        await publishProduction(gantry.url);
        assert.equal(await digestOf(docker('docker-prod/team/app:1.0')), tiny());
        // Reading through docker-prod needs read on its member too (a virtual repository is an
        // address, never a grant), so publishing production publishes the same content there.
        assert.equal(await digestOf(docker('docker-prod-local/team/app:1.0')), tiny());
      }),
    );

    it(
      'the robot\'s API token works as a password (user name ci or "token") until revoked',
      { timeout: 120_000 },
      step(async () => {
        await pushTiny('docker/team/ci:1', ['--dest-creds', `ci:${ciToken}`]);
        assert.equal(await digestOf(docker('docker-dev-local/team/ci:1'), ['--creds', ADMIN_CREDS]), tiny());
        // The user name may also be "token"; someone else's name is refused.
        await pushTiny('docker/team/ci:2', ['--dest-creds', `token:${ciToken}`]);
        assert.equal(await manifestStatus('docker-dev-local/team/ci', '2'), 200);
        const otherName = await expectFailure(
          pushTiny('docker/team/ci:4', ['--dest-creds', `dev:${ciToken}`]),
        );
        assert.match(otherName.stderr, /unauthorized: .*belongs to ci/);
        // Scoped to the development target: production stays out of reach.
        const prod = await expectFailure(
          pushTiny('docker-prod-local/team/ci:1', ['--dest-creds', `ci:${ciToken}`]),
        );
        assert.match(prod.stderr, /403|denied/);

        const res = await fetch(`${gantry?.url}/api/v1/tokens/${tokenId(ciToken)}`, {
          method: 'DELETE',
          headers: { Authorization: ADMIN_AUTH },
        });
        const body = (await res.json()) as { revokedAt?: string | null };
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.ok(body.revokedAt, 'the DELETE answer shows the revocation time');

        const revoked = await expectFailure(pushTiny('docker/team/ci:3', ['--dest-creds', `ci:${ciToken}`]));
        assert.equal(revoked.exitCode, 1);
        assert.match(revoked.stderr, /unauthorized: .*pipeline.*revoked/);
        assert.equal(await manifestStatus('docker-dev-local/team/ci', '3'), 404);
      }),
    );
  });

  describe('podman and buildah', { skip: podmanUnavailableReason() }, () => {
    let authFile = '';
    /** Global flags that give each tool a store of its own under the work dir. */
    const storeFlags = (store: string) => [
      '--storage-driver',
      'vfs',
      '--root',
      join(work, store, 'root'),
      '--runroot',
      join(work, store, 'runroot'),
    ];
    const podman = (args: string[]) =>
      run(PODMAN, [...storeFlags('podman'), ...args], { timeoutMs: 180_000, env: clientEnv });
    const buildah = (args: string[]) =>
      run(BUILDAH, [...storeFlags('buildah'), ...args], { timeoutMs: 300_000, env: clientEnv });
    const at = (name: string) => `${host()}/${name}`;

    before(
      async () => {
        authFile = join(work, 'podman-auth.json');
        // What the podman tests pull: pushed by the administrator.
        await pushTiny('docker-dev-local/team/podman-src:1.0', ['--dest-creds', ADMIN_CREDS]);
      },
      { timeout: 120_000 },
    );

    it(
      'podman login: a wrong password exits 125 with "invalid username/password"; the right one logs in',
      { timeout: 60_000 },
      step(async () => {
        const login = (password: string) => podman(loginArgs(authFile, 'dev', password, host()));
        const wrong = await expectFailure(login('not-the-password'));
        assert.equal(wrong.exitCode, 125);
        assert.match(wrong.stderr, /invalid username\/password/);
        const { stdout } = await login(PASSWORD);
        assert.match(stdout.toString(), /Login Succeeded/);
        const stored = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, unknown> };
        assert.ok(stored.auths[host()], `no entry for ${host()} in ${JSON.stringify(stored)}`);
      }),
    );

    it(
      'podman pulls with the login, pushes a new tag through docker; the digest is kept',
      { timeout: 180_000 },
      step(async () => {
        await podman([
          'pull',
          '--tls-verify=false',
          '--authfile',
          authFile,
          at('docker/team/podman-src:1.0'),
        ]);
        const { stdout } = await podman([
          'image',
          'inspect',
          '--format',
          '{{.Digest}}',
          at('docker/team/podman-src:1.0'),
        ]);
        assert.equal(stdout.toString().trim(), tiny());

        await podman(['tag', at('docker/team/podman-src:1.0'), at('docker/team/podman:1')]);
        const digestFile = join(work, 'podman-digest');
        await podman([
          'push',
          '--tls-verify=false',
          '--authfile',
          authFile,
          '--digestfile',
          digestFile,
          at('docker/team/podman:1'),
        ]);
        const pushed = (await readFile(digestFile, 'utf8')).trim();
        assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
        assert.equal(
          await digestOf(docker('docker-dev-local/team/podman:1'), ['--creds', ADMIN_CREDS]),
          pushed,
        );

        await podman(['tag', at('docker/team/podman-src:1.0'), at('docker-prod-local/team/podman:1')]);
        const denied = await expectFailure(
          podman([
            'push',
            '--tls-verify=false',
            '--authfile',
            authFile,
            at('docker-prod-local/team/podman:1'),
          ]),
        );
        assert.match(denied.stderr, /denied: user dev may not .*docker-prod-local\/team\/podman/);
      }),
    );

    it(
      'after podman logout, pulling from a non-public repository is refused',
      { timeout: 120_000 },
      step(async () => {
        const { stdout } = await podman(['logout', '--authfile', authFile, host()]);
        assert.match(stdout.toString(), /Removed login credentials/);
        const stored = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, unknown> };
        assert.deepEqual(stored.auths, {});
        await podman(['rmi', at('docker/team/podman-src:1.0')]);
        const err = await expectFailure(
          podman(['pull', '--tls-verify=false', '--authfile', authFile, at('docker/team/podman-src:1.0')]),
        );
        assert.equal(err.exitCode, 125);
        assert.match(err.stderr, /denied: an anonymous caller may not read.*docker\/team\/podman-src/);
      }),
    );

    it(
      'buildah logs in, builds FROM the tiny layout and pushes through docker; anonymous push is refused',
      { timeout: 300_000 },
      step(async () => {
        const buildahAuth = join(work, 'buildah-auth.json');
        await buildah(loginArgs(buildahAuth, 'dev', PASSWORD, host()));
        const context = join(work, 'buildah-ctx');
        await mkdir(context, { recursive: true });
        await writeFile(join(context, 'greeting.txt'), 'hello from a logged-in buildah\n');
        await writeFile(
          join(context, 'Containerfile'),
          [`FROM ${fx?.ociRef('tiny')}`, 'COPY greeting.txt /greeting.txt', ''].join('\n'),
        );
        const local = 'localhost/e2e/login-built:1';
        await buildah(buildahBuildArgs(context, local));

        const anonymous = await expectFailure(
          buildah(['push', '--tls-verify=false', local, docker('docker/team/built:1')]),
        );
        assert.match(anonymous.stderr, /docker\/team\/built: 403 \(Forbidden\)|denied|unauthorized/);
        assert.equal(await manifestStatus('docker-dev-local/team/built', '1'), 404);

        const digestFile = join(context, 'digest');
        await buildah([
          'push',
          '--tls-verify=false',
          '--authfile',
          buildahAuth,
          '--digestfile',
          digestFile,
          local,
          docker('docker/team/built:1'),
        ]);
        const pushed = (await readFile(digestFile, 'utf8')).trim();
        assert.equal(
          await digestOf(docker('docker-dev-local/team/built:1'), ['--creds', ADMIN_CREDS]),
          pushed,
        );
      }),
    );
  });
});
