import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

describe('configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has sane defaults', async () => {
    const config = await loadConfig({ env: {} });
    assert.equal(config.port, 5000);
    assert.equal(config.defaultRepository, 'docker');
    assert.equal(config.data, join(process.cwd(), 'data'));
  });

  it('reads the pipeline as a list (GANTRY_PIPELINE comma-separated) and defaults uiDir to web/dist', async () => {
    const defaults = await loadConfig({ env: {} });
    assert.deepEqual(defaults.pipeline, ['docker-dev-local', 'docker-staging-local', 'docker-prod-local']);
    assert.equal(defaults.uiDir, join(import.meta.dirname, '..', '..', 'web', 'dist'));
    const set = await loadConfig({
      env: { GANTRY_PIPELINE: 'a-local, b-local,,c-local', GANTRY_UI_DIR: '/srv/ui' },
    });
    assert.deepEqual(set.pipeline, ['a-local', 'b-local', 'c-local']);
    assert.equal(set.uiDir, '/srv/ui');
  });

  it('garbage collection: grace hours, cron schedule and throttle; a bad cron expression is refused', async () => {
    const defaults = await loadConfig({ env: {} });
    assert.equal(defaults.gcGraceHours, 6);
    assert.equal(defaults.gcSchedule, '');
    assert.equal(defaults.gcDeletesPerSecond, 0);
    const set = await loadConfig({
      env: {
        GANTRY_GC_GRACE_HOURS: '0',
        GANTRY_GC_SCHEDULE: '0 3 * * *',
        GANTRY_GC_DELETES_PER_SECOND: '50',
      },
    });
    assert.equal(set.gcGraceHours, 0);
    assert.equal(set.gcSchedule, '0 3 * * *');
    assert.equal(set.gcDeletesPerSecond, 50);
    await assert.rejects(
      loadConfig({ env: { GANTRY_GC_SCHEDULE: 'every night' } }),
      (e: Error) => e instanceof ConfigError && e.message.includes('GANTRY_GC_SCHEDULE'),
    );
  });

  it('connection and shutdown times: defaults, environment, and refused values', async () => {
    const defaults = await loadConfig({ env: {} });
    assert.equal(defaults.bodyIdleTimeoutSeconds, 60);
    assert.equal(defaults.shutdownDrainSeconds, 30);
    assert.equal(defaults.upstreamUnreachableSeconds, 30);
    const set = await loadConfig({
      env: {
        GANTRY_BODY_IDLE_TIMEOUT_SECONDS: '5',
        GANTRY_SHUTDOWN_DRAIN_SECONDS: '0',
        GANTRY_UPSTREAM_UNREACHABLE_SECONDS: '0',
      },
    });
    assert.equal(set.bodyIdleTimeoutSeconds, 5);
    assert.equal(set.shutdownDrainSeconds, 0);
    assert.equal(set.upstreamUnreachableSeconds, 0);
    await assert.rejects(
      loadConfig({ env: { GANTRY_BODY_IDLE_TIMEOUT_SECONDS: '0', GANTRY_SHUTDOWN_DRAIN_SECONDS: '-1' } }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.includes('GANTRY_BODY_IDLE_TIMEOUT_SECONDS') &&
        e.message.includes('GANTRY_SHUTDOWN_DRAIN_SECONDS'),
    );
  });

  it('reads the upstream address lists and the secret key, naming bad entries without echoing the key', async () => {
    const defaults = await loadConfig({ env: {} });
    assert.deepEqual(defaults.upstreamAllow, []);
    assert.deepEqual(defaults.upstreamDeny, []);
    const set = await loadConfig({
      env: {
        GANTRY_UPSTREAM_ALLOW: '10.0.0.0/8, registry.internal,*.corp.example',
        GANTRY_UPSTREAM_DENY: '10.9.0.0/16',
        GANTRY_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
      },
    });
    assert.deepEqual(set.upstreamAllow, ['10.0.0.0/8', 'registry.internal', '*.corp.example']);
    assert.deepEqual(set.upstreamDeny, ['10.9.0.0/16']);
    const badKey = 'c2hvcnQta2V5';
    await assert.rejects(
      loadConfig({
        env: {
          GANTRY_UPSTREAM_ALLOW: '10.0.0.0/40',
          GANTRY_UPSTREAM_DENY: 'evil.example',
          GANTRY_SECRET_KEY: badKey,
        },
      }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /upstreamAllow: .*10\.0\.0\.0\/40.*not a valid address or CIDR range/);
        assert.match(err.message, /upstreamDeny: .*evil\.example.*addresses and CIDR ranges only/);
        assert.match(err.message, /secretKey: must be 32 bytes in base64 .*\(from GANTRY_SECRET_KEY\)/);
        assert.ok(!err.message.includes(badKey), 'the key is repeated in the message');
        return true;
      },
    );
  });

  it('layers file < environment < flags', async () => {
    const file = join(dir, 'gantry.yaml');
    await writeFile(file, 'port: 6000\nlogLevel: debug\ndata: /srv/gantry\n');
    const config = await loadConfig({ file, env: { GANTRY_PORT: '7000' }, flags: { data: '/x' } });
    assert.equal(config.port, 7000);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.data, '/x');
  });

  it('names every bad value and where it came from', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'logLevel: loud\nunknownKey: 1\n');
    await assert.rejects(loadConfig({ file, env: { GANTRY_PORT: 'eighty' } }), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /port: .*\(from GANTRY_PORT="eighty"\)/);
      assert.match(e.message, /logLevel: .*\(from .*bad\.yaml\)/);
      assert.match(e.message, /unknownKey/);
      return true;
    });
  });

  it('metrics: off by default; a token too short is refused without echoing it', async () => {
    const defaults = await loadConfig({ env: {} });
    assert.equal(defaults.metricsToken, undefined);
    assert.equal(defaults.metricsPort, undefined);
    const set = await loadConfig({
      env: { GANTRY_METRICS_TOKEN: 'a'.repeat(32), GANTRY_METRICS_PORT: '9464' },
    });
    assert.equal(set.metricsToken, 'a'.repeat(32));
    assert.equal(set.metricsPort, 9464);
    await assert.rejects(loadConfig({ env: { GANTRY_METRICS_TOKEN: 'short-secret' } }), (e: Error) => {
      assert.match(e.message, /metricsToken: must be at least 16 characters/);
      assert.doesNotMatch(e.message, /short-secret/);
      return true;
    });
    await assert.rejects(loadConfig({ env: { GANTRY_METRICS_PORT: '70000' } }), /metricsPort/);
  });

  it('reports unreadable and malformed files', async () => {
    await assert.rejects(loadConfig({ file: join(dir, 'absent.yaml'), env: {} }), /cannot read config file/);
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'port: [1,\n');
    await assert.rejects(loadConfig({ file, env: {} }), /not valid YAML/);
  });
});
