// Access control through a real Docker engine and containerd's ctr against a Gantry with access
// control as shipped. `docker login` asks GET /v2/token?offline_token=true with Basic credentials
// and gets a refresh token (the CLI stores it as identitytoken, never the password); the engine
// then authenticates every pull and push with the OAuth2 form (POST /v2/token,
// grant_type=refresh_token). ctr sends Basic credentials with --user.
// One containerd and one dockerd serve the whole file; the CLI config is a temp dir.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, createRoles, PASSWORD, publishProduction } from '../auth/support.ts';
import {
  manifestStatus as adminManifestStatus,
  isolatedClientEnv,
  withGantryLog,
} from '../support/client-env.ts';
import { expectFailure, type RunResult, run, sha256Of } from '../support/clients.ts';
import {
  containerdUnavailableReason,
  type RunningContainerd,
  startContainerd,
} from '../support/containerd.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { dockerdUnavailableReason, type RunningDockerd, startDockerd } from '../support/dockerd.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { ADMIN, type RunningGantry, startGantry } from '../support/gantry.ts';

const SKOPEO = '/usr/bin/skopeo';
const ADMIN_CREDS = `${ADMIN.user}:${ADMIN.password}`;

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
}

describe('login and access control with the docker engine and containerd', {
  skip: containerdUnavailableReason() ?? false,
}, () => {
  let gantry: RunningGantry | undefined;
  let containerd: RunningContainerd | undefined;
  let dockerd: RunningDockerd | undefined;
  let engineError = '';
  let fx: PreparedFixtures | undefined;
  let work = '';
  let ciToken = '';
  /** Environment for skopeo (the administrator's tool here): nothing from the real home. */
  let clientEnv: Record<string, string> = {};
  const host = () => gantry?.host ?? '?';
  const at = (name: string) => `${host()}/${name}`;
  const tiny = () => fx?.record('tiny').digest ?? '?';

  /** Failures carry the end of the server's log. */
  const step = withGantryLog(() => gantry);

  const skopeo = (args: string[]): Promise<RunResult> =>
    run(SKOPEO, args, { timeoutMs: 120_000, env: clientEnv });

  /** The manifest digest the administrator reads for `name:tag`. */
  async function adminDigest(ref: string): Promise<string> {
    const { stdout } = await skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      ADMIN_CREDS,
      '--raw',
      `docker://${ref}`,
    ]);
    return sha256Of(stdout);
  }

  /** Status of the administrator's GET of a manifest: 200 there, 404 not. */
  const manifestStatus = (name: string, reference: string) =>
    adminManifestStatus(gantry?.url ?? '?', name, reference);

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'gantry-e2e-login-engine-'));
      clientEnv = await isolatedClientEnv(work);
      fx = await prepareFixtures(['tiny']);
      gantry = await startGantry({ openAccess: false });
      ({ ciToken } = await createRoles(gantry.url));
      // Production is promotion-only by default; the administrator seeds it directly here.
      await allowDirectWrites(gantry.url, 'docker-prod-local');
      // The administrator publishes the image everyone pulls: development and production.
      for (const name of ['docker-dev-local/team/app:1.0', 'docker-prod-local/team/app:1.0']) {
        await skopeo([
          'copy',
          '--dest-tls-verify=false',
          '--preserve-digests',
          '--dest-creds',
          ADMIN_CREDS,
          fx.ociRef('tiny'),
          `docker://${at(name)}`,
        ]);
      }
      await publishProduction(gantry.url);
      containerd = await startContainerd({ namespace: 'gantry-login-e2e' });
      if (dockerdUnavailableReason()) return;
      try {
        dockerd = await startDockerd({ containerdSocket: containerd.socket });
      } catch (err) {
        // An engine that cannot start here (no cgroups, no overlay, …) skips the docker tests.
        engineError = err instanceof Error ? err.message : String(err);
        process.stderr.write(`# docker engine did not start:\n${engineError}\n`);
      }
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await dockerd?.stop();
    await containerd?.stop();
    await gantry?.stop();
    await fx?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('docker', { skip: dockerdUnavailableReason() ?? false }, () => {
    /** DOCKER_CONFIG for every docker CLI call: the credentials `docker login` stores. */
    const dockerConfig = () => join(work, 'docker-config');
    const docker = async (args: string[]): Promise<string> => {
      if (!dockerd) throw new Error('dockerd did not start');
      const { stdout } = await dockerd.docker(args, {
        timeoutMs: 120_000,
        env: { DOCKER_CONFIG: dockerConfig() },
      });
      return stdout.toString();
    };
    const engineStep = (body: () => Promise<void>) =>
      step(async (t) => {
        if (engineError) return t.skip(`the engine could not start: ${engineError.split('\n')[0]}`);
        await body();
      });
    const storedLogin = async () => {
      const config = JSON.parse(await readFile(join(dockerConfig(), 'config.json'), 'utf8')) as DockerConfig;
      return config.auths?.[host()];
    };
    const repoDigests = (ref: string) =>
      docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);

    it(
      'docker login: a wrong password fails with "unauthorized"; the right one stores a refresh token, not the password',
      { timeout: 60_000 },
      engineStep(async () => {
        const wrong = await expectFailure(docker(['login', '-u', 'dev', '-p', 'not-the-password', host()]));
        assert.equal(wrong.exitCode, 1);
        assert.match(wrong.stderr, /unauthorized: .*(user name|password)/);

        const out = await docker(['login', '-u', 'dev', '-p', PASSWORD, host()]);
        assert.match(out, /Login Succeeded/);
        const stored = await storedLogin();
        // `dev:` and an identity token: the engine has nothing but the refresh token to sign in with,
        // so every later pull and push goes through POST /v2/token grant_type=refresh_token.
        assert.equal(Buffer.from(stored?.auth ?? '', 'base64').toString(), 'dev:');
        assert.match(stored?.identitytoken ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
      }),
    );

    it(
      'pulls the administrator-pushed image through the virtual docker with the stored refresh token',
      { timeout: 120_000 },
      engineStep(async () => {
        const out = await docker(['pull', at('docker/team/app:1.0')]);
        assert.match(out, new RegExp(`Digest: ${tiny()}`));
        assert.ok((await repoDigests(at('docker/team/app:1.0'))).includes(tiny()));
      }),
    );

    it(
      'pushes a retagged image to docker/team/other:1; it lands in docker-dev-local',
      { timeout: 120_000 },
      engineStep(async () => {
        await docker(['tag', at('docker/team/app:1.0'), at('docker/team/other:1')]);
        const out = await docker(['push', at('docker/team/other:1')]);
        const m = /1: digest: (sha256:[0-9a-f]{64})/.exec(out);
        assert.ok(m?.[1], `no digest in docker push output:\n${out}`);
        assert.equal(await adminDigest(at('docker-dev-local/team/other:1')), m[1]);
      }),
    );

    it(
      'dev cannot push to docker-prod-local: "denied", and nothing lands',
      { timeout: 120_000 },
      engineStep(async () => {
        await docker(['tag', at('docker/team/app:1.0'), at('docker-prod-local/team/other:1')]);
        const err = await expectFailure(docker(['push', at('docker-prod-local/team/other:1')]));
        assert.equal(err.exitCode, 1);
        assert.match(err.stderr, /denied: user dev may not .*docker-prod-local\/team\/other/);
        assert.equal(await manifestStatus('docker-prod-local/team/other', '1'), 404);
      }),
    );

    it(
      "the stored refresh token stops working when dev's password changes",
      { timeout: 120_000 },
      engineStep(async () => {
        if (!gantry) throw new Error('gantry did not start');
        await admin(gantry.url, 'PATCH', '/users/dev', { password: 'a-brand-new-password' }, 200);
        try {
          const err = await expectFailure(docker(['pull', at('docker/team/app:1.0')]));
          assert.match(err.stderr, /unauthorized: .*refresh token.*log in again/);
        } finally {
          await admin(gantry.url, 'PATCH', '/users/dev', { password: PASSWORD }, 200);
        }
        // A new login gets a refresh token of the new generation.
        assert.match(await docker(['login', '-u', 'dev', '-p', PASSWORD, host()]), /Login Succeeded/);
        await docker(['pull', at('docker/team/app:1.0')]);
      }),
    );

    it(
      "docker login with the robot's API token pushes to docker/…",
      { timeout: 120_000 },
      engineStep(async () => {
        assert.match(await docker(['login', '-u', 'ci', '-p', ciToken, host()]), /Login Succeeded/);
        await docker(['tag', at('docker/team/app:1.0'), at('docker/team/from-ci:1')]);
        const out = await docker(['push', at('docker/team/from-ci:1')]);
        const m = /1: digest: (sha256:[0-9a-f]{64})/.exec(out);
        assert.ok(m?.[1], `no digest in docker push output:\n${out}`);
        assert.equal(await adminDigest(at('docker-dev-local/team/from-ci:1')), m[1]);
      }),
    );

    it(
      'after docker logout: anonymous pulls of published docker-prod work, of docker-dev-local are refused',
      { timeout: 120_000 },
      engineStep(async () => {
        const out = await docker(['logout', host()]);
        assert.match(out, /Removing login credentials/);
        assert.equal(await storedLogin(), undefined);

        await docker(['pull', at('docker-prod/team/app:1.0')]);
        assert.ok((await repoDigests(at('docker-prod/team/app:1.0'))).includes(tiny()));

        const err = await expectFailure(docker(['pull', at('docker-dev-local/team/app:1.0')]));
        assert.equal(err.exitCode, 1);
        assert.match(err.stderr, /pull access denied for .*docker-dev-local\/team\/app/);
        assert.match(err.stderr, /denied: an anonymous caller may not read.*docker-dev-local\/team\/app/);
      }),
    );
  });

  describe('containerd (ctr)', () => {
    const ctr = (args: string[]) => {
      if (!containerd) throw new Error('containerd did not start');
      return containerd.ctr(args, { timeoutMs: 120_000 });
    };
    const listed = async () => (await ctr(['images', 'ls'])).stdout.toString();

    it(
      'pull without --user is refused; with --user dev:PASSWORD it works',
      { timeout: 120_000 },
      step(async () => {
        const anonymous = await expectFailure(
          ctr(['images', 'pull', '--plain-http', at('docker/team/app:1.0')]),
        );
        assert.match(anonymous.stderr, /failed to resolve reference .*docker\/team\/app:1\.0.*(401|403)/);
        assert.doesNotMatch(await listed(), /docker\/team\/app:1\.0/);

        await ctr(['images', 'pull', '--plain-http', '--user', `dev:${PASSWORD}`, at('docker/team/app:1.0')]);
        const line = (await listed()).split('\n').find((l) => l.startsWith(at('docker/team/app:1.0')));
        assert.ok(line?.includes(tiny()), `ctr images ls: ${line}`);
      }),
    );

    it(
      'push --user dev to docker-dev-local works (same digest); to docker-prod-local it is refused',
      { timeout: 120_000 },
      step(async () => {
        await ctr(['images', 'tag', at('docker/team/app:1.0'), at('docker-dev-local/team/ctr:1')]);
        await ctr([
          'images',
          'push',
          '--plain-http',
          '--user',
          `dev:${PASSWORD}`,
          at('docker-dev-local/team/ctr:1'),
        ]);
        assert.equal(await adminDigest(at('docker-dev-local/team/ctr:1')), tiny());

        await ctr(['images', 'tag', at('docker/team/app:1.0'), at('docker-prod-local/team/ctr:1')]);
        const err = await expectFailure(
          ctr([
            'images',
            'push',
            '--plain-http',
            '--user',
            `dev:${PASSWORD}`,
            at('docker-prod-local/team/ctr:1'),
          ]),
        );
        assert.match(err.stderr, /403 Forbidden/);
        assert.equal(await manifestStatus('docker-prod-local/team/ctr', '1'), 404);
      }),
    );
  });
});
