import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { skopeoCopy, skopeoInspectRaw } from '../support/clients.ts';
import { allowDirectWrites } from '../support/direct-writes.ts';
import { type PreparedFixtures, prepareFixtures } from '../support/fixtures.ts';
import { freePort, PROJECT_ROOT, type RunningGantry, startGantry } from '../support/gantry.ts';

const run = promisify(execFile);
const NGINX = '/usr/sbin/nginx';

/** GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('addressing: host method, port method, nginx in front', () => {
  let gantry: RunningGantry;
  let fixtures: PreparedFixtures;
  let mappedPort: number;

  before(async () => {
    mappedPort = await freePort();
    const env = {
      GANTRY_REPOSITORY_HOSTS: 'prod.test=docker-prod-local',
      GANTRY_REPOSITORY_PORTS: `${mappedPort}=docker-prod-local`,
      // Behind nginx: the token realm must say https, as nginx tells in X-Forwarded-Proto.
      GANTRY_TRUST_PROXY: 'true',
    };
    [gantry, fixtures] = await Promise.all([startGantry({ env }), prepareFixtures(['tiny'])]);
    // The mapped repository is production, promotion-only by default; these tests push there.
    await allowDirectWrites(gantry.url, 'docker-prod-local');
  });
  after(async () => {
    await gantry?.stop();
    await fixtures?.cleanup();
  });

  it('port method: a push to the mapped port lands in the mapped repository, image name as given', async () => {
    await skopeoCopy(fixtures.ociRef('tiny'), `docker://127.0.0.1:${mappedPort}/team/app:1`);
    const viaPath = await skopeoInspectRaw(`docker://${gantry.host}/docker-prod-local/team/app:1`);
    assert.equal(viaPath.digest, fixtures.record('tiny').digest);
  });

  it('host method: a request for a mapped host name addresses the mapped repository', async () => {
    const tags = await getWithHost(`${gantry.url}/v2/team/app/tags/list`, 'PROD.test:8443');
    assert.equal(tags.status, 200, tags.body);
    assert.deepEqual(JSON.parse(tags.body), { name: 'team/app', tags: ['1'] });
    const catalog = await getWithHost(`${gantry.url}/v2/_catalog`, 'prod.test');
    assert.deepEqual(JSON.parse(catalog.body), { repositories: ['team/app'] });
    const unmapped = await getWithHost(`${gantry.url}/v2/_catalog`, 'other.test');
    const names = (JSON.parse(unmapped.body) as { repositories: string[] }).repositories;
    assert.ok(
      names.includes('docker-prod-local/team/app'),
      `other hosts use the path method: ${names.join(', ')}`,
    );
  });

  it('nginx with the generated configuration terminates TLS and passes pushes and pulls through', async (t) => {
    if (!existsSync(NGINX)) return t.skip('nginx is not installed (apt-get install nginx)');
    const dir = await mkdtemp(join(tmpdir(), 'gantry-nginx-'));
    let nginx: ChildProcess | undefined;
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=registry.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
      const listenPort = await freePort();
      const { stdout } = await run(
        process.execPath,
        [
          join(PROJECT_ROOT, 'bin', 'gantry.js'),
          'proxy-config',
          'nginx',
          '--upstream',
          gantry.url,
          '--listen-address',
          '127.0.0.2',
          '--listen-port',
          String(listenPort),
          '--tls-cert',
          join(dir, 'cert.pem'),
          '--tls-key',
          join(dir, 'key.pem'),
        ],
        {
          env: {
            ...process.env,
            GANTRY_REPOSITORY_PORTS: `${mappedPort}=docker-prod-local`,
            GANTRY_REPOSITORY_HOSTS: 'prod.test=docker-prod-local',
          },
        },
      );
      assert.match(stdout, /proxy_request_buffering off;/);
      await writeFile(join(dir, 'gantry.conf'), stdout);
      nginx = await startNginx(dir, [listenPort, mappedPort]);
      await skopeoCopy(
        fixtures.ociRef('tiny'),
        `docker://127.0.0.2:${listenPort}/docker-dev-local/proxied/app:1`,
      );
      const direct = await skopeoInspectRaw(`docker://${gantry.host}/docker-dev-local/proxied/app:1`);
      assert.equal(direct.digest, fixtures.record('tiny').digest);
      const viaPortBlock = await skopeoInspectRaw(`docker://127.0.0.2:${mappedPort}/team/app:1`);
      assert.equal(viaPortBlock.digest, fixtures.record('tiny').digest);
      await skopeoCopy(
        `docker://127.0.0.2:${listenPort}/docker-dev-local/proxied/app:1`,
        `oci:${dir}/pulled:1`,
      );
    } finally {
      nginx?.kill('SIGTERM');
      if (nginx && nginx.exitCode === null) await new Promise((done) => nginx?.once('exit', done));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** nginx in the foreground with everything (pid, logs, temp files) under `dir`. */
async function startNginx(dir: string, ports: number[]): Promise<ChildProcess> {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  const conf = [
    'daemon off;',
    user,
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (s) => `  ${s === 'body' ? 'client_body' : s}_temp_path ${join(dir, s)};`,
    ),
    `  include ${join(dir, 'gantry.conf')};`,
    '}',
  ].join('\n');
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!(await listening('127.0.0.2', port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return child;
}

function listening(host: string, port: number): Promise<boolean> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((done) => {
        const socket = connect(port, host);
        socket.once('connect', () => {
          socket.destroy();
          done(true);
        });
        socket.once('error', () => done(false));
      }),
  );
}
