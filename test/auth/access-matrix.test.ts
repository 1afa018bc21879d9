/**
 * The access matrix: what each role of the default pipeline gets on each path, written down once
 * as a table and checked against a running server. One row per path and operation, one column
 * per role. A cell is the answer a client sees:
 *
 * - `ok`      allowed, and the content is there (2xx; for lists: the entry is listed)
 * - `hidden`  the content is as if absent: 404 for a pull, a list without the entry
 * - `denied`  403 (DENIED on /v2, a problem on /api/v1)
 * - `auth`    401: sign in first
 * - `mount`   a cross-repository mount happened (201)
 * - `upload`  the mount was not allowed from there: a plain upload session started (202)
 *
 * A virtual repository is an address, never a grant (README, Security): reads through one are
 * checked on the member that serves the content, and members the caller cannot read are
 * skipped, so a narrowed token or a delegated manager sees nothing more through `docker` than
 * directly. A `#` ends a row and starts a note: rows noted "promotion-only" expect staging and
 * production to take content only by promotion (writes refused for everyone, administrators
 * included); rows noted "lists" expect the management API to list nothing of repositories the
 * caller cannot read (builds by their artifacts, promotions by source and target).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  ACCEPT_ALL_MANIFESTS,
  imageManifest,
  MEDIA,
  makeBlob,
  makeConfig,
  manifestFrom,
  type PushedImage,
  RegistryClient,
  type Reply,
  type RequestOptions,
  request,
} from '../support/http.ts';
import { parseChallenge, TokenClient } from '../support/token-client.ts';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from './support.ts';

const ROLES = [
  'admin',
  'manager',
  'developer',
  'release',
  'ci-token',
  'narrowed',
  'customer',
  'anonymous',
] as const;
type Role = (typeof ROLES)[number];

type Cell = 'ok' | 'hidden' | 'denied' | 'auth' | 'mount' | 'upload';
const CELLS: readonly Cell[] = ['ok', 'hidden', 'denied', 'auth', 'mount', 'upload'];

// Roles: admin; manager = manage on team-a-* only (a delegated manager); developer, release
// (release manager) and customer = the default groups; ci-token = the ci robot's API token,
// narrowed to the development target; narrowed = a release manager's API token narrowed to the
// development target; anonymous = no credentials (production is not published here, so an
// anonymous catalog is challenged: a client holding credentials then sends them).
//
// Content: dev/app:1 only in development, stage/app:1 only in staging, prod/app:1 (with an
// SBOM referring to it, a build and an approval) only in production, team-a/app:1 in team-a-local.
const MATRIX = `
path                  op     admin   manager  developer  release  ci-token  narrowed  customer  anonymous
direct-dev            read   ok      denied   ok         ok       ok        ok        denied    auth
direct-dev            write  ok      denied   ok         ok       ok        ok        denied    auth
direct-staging        read   ok      denied   ok         ok       denied    denied    denied    auth
direct-staging        write  denied  denied   denied     denied   denied    denied    denied    auth  # promotion-only
direct-prod           read   ok      denied   ok         ok       denied    denied    ok        auth
direct-prod           write  denied  denied   denied     denied   denied    denied    denied    auth  # promotion-only
docker-dev            read   ok      denied   ok         ok       ok        ok        denied    auth
docker-dev            write  ok      denied   ok         ok       ok        ok        denied    auth
docker-prod-only      read   ok      denied   ok         ok       hidden    hidden    denied    auth
docker-prod-only-blob read   ok      denied   ok         ok       hidden    hidden    denied    auth
docker-prod           read   ok      denied   ok         ok       denied    denied    ok        auth
docker-prod           write  denied  denied   denied     denied   denied    denied    denied    denied
rogue-virtual         read   ok      hidden   denied     denied   denied    denied    denied    auth
tags-docker           read   ok      denied   ok         ok       hidden    hidden    denied    auth
referrers-docker      read   ok      denied   ok         ok       hidden    hidden    denied    auth
catalog-prod          read   ok      hidden   ok         ok       hidden    hidden    ok        auth  # challenge
catalog-docker-host   read   ok      hidden   ok         ok       hidden    hidden    hidden    auth  # challenge
mount-docker          write  mount   denied   mount      mount    upload    upload    denied    auth
mount-into-team-a     write  mount   upload   denied     denied   denied    denied    denied    auth
create-virtual        write  ok      denied   denied     denied   denied    denied    denied    auth
images-docker         read   ok      hidden   ok         ok       hidden    hidden    hidden    hidden
tags-api-docker       read   ok      denied   ok         ok       hidden    hidden    denied    auth
search-prod           read   ok      hidden   ok         ok       hidden    hidden    ok        hidden
builds-prod           read   ok      hidden   ok         ok       hidden    hidden    ok        hidden  # lists
promotions-staging    read   ok      hidden   ok         ok       hidden    hidden    hidden    hidden  # lists
promotions-staging    write  ok      hidden   denied     ok       hidden    hidden    hidden    auth  # source unreadable: as if missing
promote-moves-tag     write  ok      hidden   denied     hidden   hidden    hidden    hidden    auth  # needs delete
approvals-prod        read   ok      denied   ok         ok       denied    denied    ok        auth
audit                 read   ok      denied   denied     denied   denied    denied    denied    auth
statistics-prod       read   ok      hidden   ok         ok       hidden    hidden    ok        hidden
`;

interface Row {
  path: string;
  op: 'read' | 'write';
  expected: Record<Role, Cell>;
}

function parseMatrix(text: string): Row[] {
  const [header, ...lines] = text.trim().split('\n');
  assert.deepEqual(header?.trim().split(/\s+/).slice(2), [...ROLES], 'the columns are the roles');
  return lines.map((line) => {
    const [path, op, ...cells] = line.replace(/#.*$/, '').trim().split(/\s+/) as [
      string,
      string,
      ...string[],
    ];
    assert.ok(op === 'read' || op === 'write', `row "${line}": op is read or write`);
    assert.equal(cells.length, ROLES.length, `row "${line}"`);
    for (const c of cells) assert.ok(CELLS.includes(c as Cell), `row "${line}": unknown cell ${c}`);
    return { path, op, expected: Object.fromEntries(ROLES.map((r, i) => [r, cells[i]])) } as Row;
  });
}

/** What the server answered, reduced to a cell; `status` and `text` explain a mismatch. */
interface Outcome {
  cell: Cell | 'unexpected';
  status: number;
  text: string;
}

function refusal(res: { status: number }): Cell | undefined {
  if (res.status === 401) return 'auth';
  if (res.status === 403) return 'denied';
  if (res.status === 404) return 'hidden';
  return undefined;
}

/**
 * A registry or API reply: a refusal, else ok when `visible` says the content is there (a
 * dry-run promotion answers 200 whether or not its gates pass: being allowed to ask counts).
 */
function outcomeOf(res: Reply, visible: (res: Reply) => boolean = () => true): Outcome {
  const cell = res.status < 300 ? (visible(res) ? 'ok' : 'hidden') : refusal(res);
  return { cell: cell ?? 'unexpected', status: res.status, text: res.text() };
}

interface World {
  gantry: RunningGantry;
  prod: PushedImage;
  sbomDigest: string;
  stage: PushedImage;
}

type Call = (method: string, path: string, options?: RequestOptions) => Promise<Reply>;

/** Pushes config, layer and manifest with monolithic uploads; the first refusal, else the manifest PUT. */
async function push(call: Call, name: string, tag: string): Promise<Reply> {
  const config = makeConfig();
  const layer = makeBlob(64);
  const manifest = imageManifest({ config, layers: [layer] });
  for (const blob of [config, layer]) {
    const res = await call('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    if (res.status >= 300) return res;
  }
  return call('PUT', `/v2/${name}/manifests/${tag}`, {
    headers: { 'content-type': manifest.mediaType },
    body: manifest.bytes,
  });
}

const pull = (call: Call, name: string, ref: string) =>
  call('GET', `/v2/${name}/manifests/${ref}`, { headers: { accept: ACCEPT_ALL_MANIFESTS } });

const json = (res: Reply) => JSON.parse(res.text() || '{}') as Record<string, unknown>;
const listed = (res: Reply, field: string, match: (item: Record<string, unknown>) => boolean) =>
  ((json(res)[field] as Record<string, unknown>[] | undefined) ?? []).some(match);

/** Each path and operation of the table, as requests. */
const PATHS: Record<
  string,
  Partial<Record<'read' | 'write', (call: Call, role: Role, w: World) => Promise<Outcome>>>
> = {
  'direct-dev': {
    read: async (call) => outcomeOf(await pull(call, 'docker-dev-local/dev/app', '1')),
    write: async (call, role) => outcomeOf(await push(call, `docker-dev-local/w/${role}`, '1')),
  },
  'direct-staging': {
    read: async (call) => outcomeOf(await pull(call, 'docker-staging-local/stage/app', '1')),
    write: async (call, role) => outcomeOf(await push(call, `docker-staging-local/w/${role}`, '1')),
  },
  'direct-prod': {
    read: async (call) => outcomeOf(await pull(call, 'docker-prod-local/prod/app', '1')),
    write: async (call, role) => outcomeOf(await push(call, `docker-prod-local/w/${role}`, '1')),
  },
  'docker-dev': {
    read: async (call) => outcomeOf(await pull(call, 'docker/dev/app', '1')),
    write: async (call, role) => outcomeOf(await push(call, `docker/wv/${role}`, '1')),
  },
  'docker-prod-only': {
    read: async (call) => outcomeOf(await pull(call, 'docker/prod/app', '1')),
  },
  'docker-prod-only-blob': {
    read: async (call, _r, w) =>
      outcomeOf(await call('GET', `/v2/docker/prod/app/blobs/${w.prod.layers[0]?.digest}`)),
  },
  'docker-prod': {
    read: async (call) => outcomeOf(await pull(call, 'docker-prod/prod/app', '1')),
    write: async (call, role) => outcomeOf(await push(call, `docker-prod/w/${role}`, '1')),
  },
  // team-a-everything: a virtual repository over every stage, made by the administrator, whose
  // key the delegated manager manages: it grants nobody anything the members do not.
  'rogue-virtual': {
    read: async (call) => outcomeOf(await pull(call, 'team-a-everything/prod/app', '1')),
  },
  'tags-docker': {
    read: async (call) =>
      outcomeOf(await call('GET', '/v2/docker/prod/app/tags/list'), (r) =>
        ((json(r).tags as string[] | undefined) ?? []).includes('1'),
      ),
  },
  'referrers-docker': {
    read: async (call, _r, w) => {
      const res = await call('GET', `/v2/docker/prod/app/referrers/${w.prod.manifest.digest}`);
      return outcomeOf(res, (r) => listed(r, 'manifests', (m) => m.digest === w.sbomDigest));
    },
  },
  'catalog-prod': {
    read: async (call) =>
      outcomeOf(await call('GET', '/v2/_catalog'), (r) =>
        ((json(r).repositories as string[] | undefined) ?? []).includes('docker-prod-local/prod/app'),
      ),
  },
  // The catalog of `docker` mapped to a host name (docker.test): image names of its members.
  'catalog-docker-host': {
    read: async (call) =>
      outcomeOf(await call('GET', '/v2/_catalog', { headers: { host: 'docker.test' } }), (r) =>
        ((json(r).repositories as string[] | undefined) ?? []).includes('prod/app'),
      ),
  },
  'mount-docker': {
    write: async (call, role, w) =>
      mountOutcome(
        await call(
          'POST',
          `/v2/docker/m/${role}/blobs/uploads/?mount=${w.prod.layers[0]?.digest}&from=docker/prod/app`,
        ),
      ),
  },
  'mount-into-team-a': {
    write: async (call, role, w) =>
      mountOutcome(
        await call(
          'POST',
          `/v2/team-a-local/m/${role}/blobs/uploads/?mount=${w.prod.layers[0]?.digest}&from=team-a-everything/prod/app`,
        ),
      ),
  },
  'create-virtual': {
    write: async (call, role) =>
      outcomeOf(
        await call(
          'POST',
          '/api/v1/repositories',
          jsonBody({
            key: `team-a-view-${role}`,
            kind: 'virtual',
            settings: { members: ['team-a-local', 'docker-prod-local'] },
          }),
        ),
      ),
  },
  // The management API's browsing through docker: the image list and an image's tags.
  'images-docker': {
    read: async (call) =>
      outcomeOf(await call('GET', '/api/v1/repositories/docker/images'), (r) =>
        listed(r, 'images', (i) => i.image === 'prod/app'),
      ),
  },
  'tags-api-docker': {
    read: async (call) =>
      outcomeOf(await call('GET', '/api/v1/repositories/docker/images/prod/app/tags'), (r) =>
        listed(r, 'tags', (t) => t.tag === '1'),
      ),
  },
  'search-prod': {
    read: async (call) =>
      outcomeOf(await call('GET', '/api/v1/search?name=prod/app'), (r) =>
        listed(r, 'results', (h) => String(h.image) === 'prod/app'),
      ),
  },
  'builds-prod': {
    read: async (call) =>
      outcomeOf(await call('GET', '/api/v1/builds'), (r) =>
        listed(r, 'builds', (b) => b.name === 'prod-build'),
      ),
  },
  'promotions-staging': {
    read: async (call) =>
      outcomeOf(
        await call('GET', '/api/v1/promotions?repository=docker-staging-local&image=stage/app'),
        (r) => listed(r, 'promotions', () => true),
      ),
    write: async (call, _r, w) =>
      outcomeOf(
        await call(
          'POST',
          '/api/v1/promotions',
          jsonBody({
            source: {
              repository: 'docker-staging-local',
              image: 'stage/app',
              digest: w.stage.manifest.digest,
            },
            target: 'docker-prod-local',
            dryRun: true,
          }),
        ),
      ),
  },
  // A dry-run promotion of dev/app:1 into team-a-local, where tag 1 names other content: moving
  // a tag needs delete on the target besides promote. Developers may promote into team-a-local
  // (a grant made for this row) but not delete there.
  'promote-moves-tag': {
    write: async (call) =>
      outcomeOf(
        await call(
          'POST',
          '/api/v1/promotions',
          jsonBody({
            source: 'docker-dev-local/dev/app:1',
            target: 'team-a-local',
            tags: ['1'],
            dryRun: true,
          }),
        ),
      ),
  },
  'approvals-prod': {
    read: async (call, _r, w) =>
      outcomeOf(
        await call('GET', `/api/v1/approvals?digest=${w.prod.manifest.digest}&repository=docker-prod-local`),
        (r) => listed(r, 'approvals', () => true),
      ),
  },
  audit: {
    read: async (call) => outcomeOf(await call('GET', '/api/v1/audit?limit=1')),
  },
  'statistics-prod': {
    read: async (call) =>
      outcomeOf(
        await call('GET', '/api/v1/repositories/docker-prod-local'),
        (r) => json(r).stats !== undefined,
      ),
  },
};

/** A GET with its own Host header (host-addressed repositories). */
function getWithHost(url: string, path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpRequest(new URL(path, url), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const replyHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') replyHeaders.set(k, v);
        done({
          method: 'GET',
          status: res.statusCode ?? 0,
          headers: replyHeaders,
          body,
          text: () => body.toString('utf8'),
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

function jsonBody(value: unknown) {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

function mountOutcome(res: Reply): Outcome {
  const cell = res.status === 201 ? 'mount' : res.status === 202 ? 'upload' : refusal(res);
  return { cell: cell ?? 'unexpected', status: res.status, text: res.text() };
}

describe('access matrix: every role on every path', () => {
  let world: World;
  // Stopped even when the setup fails half-way (a running server would hold the process open).
  let started: RunningGantry | undefined;
  const credentials = new Map<Role, string | undefined>();
  let ciToken = '';
  const rows = parseMatrix(MATRIX);

  before(async () => {
    const gantry = await startGantry({
      openAccess: false,
      env: { GANTRY_REPOSITORY_HOSTS: 'docker.test=docker' },
    });
    started = gantry;
    const url = gantry.url;
    ({ ciToken } = await createRoles(url));
    await admin(url, 'POST', '/groups', { name: 'team-a' }, 201);
    await admin(url, 'POST', '/users', { name: 'manager', password: PASSWORD, groups: ['team-a'] }, 201);
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'team-a', repositories: ['team-a-*'], groups: { 'team-a': ['manage'] } },
      201,
    );
    await admin(url, 'POST', '/repositories', { key: 'team-a-local', kind: 'local' }, 201);
    const narrowed = await admin(
      url,
      'POST',
      '/tokens',
      { owner: 'rm', name: 'dev-only', targets: ['development'] },
      201,
    );
    credentials.set('admin', ADMIN_AUTH);
    credentials.set('manager', basicAuth('manager', PASSWORD));
    credentials.set('developer', basicAuth('dev', PASSWORD));
    credentials.set('release', basicAuth('rm', PASSWORD));
    credentials.set('ci-token', basicAuth('ci', ciToken));
    credentials.set('narrowed', basicAuth('rm', narrowed.token as string));
    credentials.set('customer', basicAuth('customer', PASSWORD));
    credentials.set('anonymous', undefined);

    // Staging and production receive content by promotion only (moves, so that what production
    // holds is in production alone): the setup keeps working once they refuse pushes.
    const client = new RegistryClient(url, { authorization: ADMIN_AUTH });
    const passQa = (image: string, digest: string) =>
      admin(
        url,
        'PATCH',
        `/repositories/docker-dev-local/images/${image}/manifests/${digest}/properties`,
        { properties: { 'qa.status': ['passed'] } },
        200,
      );
    const move = (source: string, target: string) =>
      admin(url, 'POST', '/promotions', { source, target, mode: 'move' }, 201);
    await client.pushImage('docker-dev-local/dev/app', '1');
    await client.pushImage('team-a-local/team-a/app', '1');
    await client.pushImage('team-a-local/dev/app', '1');
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'team-a-promoters', repositories: ['team-a-local'], groups: { developers: ['promote'] } },
      201,
    );
    const stage = await client.pushImage('docker-dev-local/stage/app', '1');
    await passQa('stage/app', stage.manifest.digest);
    await move('docker-dev-local/stage/app:1', 'docker-staging-local');
    const prod = await client.pushImage('docker-dev-local/prod/app', '1');
    const sbomConfig = makeConfig('application/vnd.oci.empty.v1+json');
    await client.pushBlob('docker-dev-local/prod/app', sbomConfig);
    const sbom = manifestFrom(
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        artifactType: 'application/spdx+json',
        config: { mediaType: sbomConfig.mediaType, digest: sbomConfig.digest, size: sbomConfig.bytes.length },
        layers: [],
        subject: {
          mediaType: prod.manifest.mediaType,
          digest: prod.manifest.digest,
          size: prod.manifest.bytes.length,
        },
      },
      MEDIA.ociManifest,
    );
    await client.pushManifest('docker-dev-local/prod/app', sbom.digest, sbom);
    await passQa('prod/app', prod.manifest.digest);
    await move('docker-dev-local/prod/app:1', 'docker-staging-local');
    await admin(
      url,
      'PUT',
      '/builds/prod-build/1',
      {
        startedAt: '2026-11-25T10:00:00Z',
        artifacts: [{ digest: prod.manifest.digest, name: 'prod/app:1' }],
      },
      201,
    );
    const approval = { repository: 'docker-prod-local', digest: prod.manifest.digest };
    const byRm = await api(url, 'POST', '/approvals', approval, basicAuth('rm', PASSWORD));
    assert.equal(byRm.status, 201, JSON.stringify(byRm.json));
    await move('docker-staging-local/prod/app:1', 'docker-prod-local');
    // A move leaves the blob links behind (until garbage collection); development lets go of them.
    for (const blob of [prod.config, ...prod.layers, sbomConfig]) {
      const res = await client.request('DELETE', `/v2/docker-dev-local/prod/app/blobs/${blob.digest}`);
      assert.equal(res.status, 202, res.text());
    }
    await admin(
      url,
      'POST',
      '/repositories',
      {
        key: 'team-a-everything',
        kind: 'virtual',
        settings: {
          members: ['team-a-local', 'docker-dev-local', 'docker-staging-local', 'docker-prod-local'],
        },
      },
      201,
    );
    world = { gantry, prod, stage, sbomDigest: sbom.digest };
  });

  after(async () => started?.stop());

  for (const role of ROLES) {
    it(`${role}: every path as the table says`, async () => {
      const auth = credentials.get(role);
      const call: Call = (method, path, options = {}) => {
        const headers: Record<string, string> = {
          ...options.headers,
          ...(auth ? { authorization: auth } : {}),
        };
        // fetch cannot send another Host; node:http can.
        if (headers.host) return getWithHost(world.gantry.url, path, headers);
        return request(world.gantry.url, method, path, { ...options, headers });
      };
      const mismatches: string[] = [];
      for (const row of rows) {
        const check = PATHS[row.path]?.[row.op];
        assert.ok(check, `no requests for ${row.path} ${row.op}`);
        const got = await check(call, role, world);
        const expected = row.expected[role];
        if (got.cell !== expected) {
          mismatches.push(
            `${role} ${row.path} ${row.op}: expected ${expected}, got ${got.cell} (${got.status} ${got.text.slice(0, 200).replace(/[^\x20-\x7e]/g, '.')})`,
          );
        }
      }
      assert.deepEqual(mismatches, [], mismatches.join('\n'));
    });
  }

  it('a narrowed token reads no more through docker with registry tokens than with Basic', async () => {
    const ci = new TokenClient(world.gantry.url, { user: 'ci', password: ciToken });
    const get = (name: string) =>
      ci.request('GET', `/v2/${name}/manifests/1`, { headers: { accept: ACCEPT_ALL_MANIFESTS } });
    assert.equal((await get('docker/dev/app')).status, 200);
    const prod = await get('docker/prod/app');
    assert.equal(prod.status, 404, prod.text());
    assert.match(prod.text(), /MANIFEST_UNKNOWN/);
  });

  it('a mount asked without credentials is challenged for the source too, and the token then mounts', async () => {
    const digest = world.prod.layers[0]?.digest as string;
    const path = `/v2/docker-dev-local/mounted/app/blobs/uploads/?mount=${digest}&from=docker-prod-local/prod/app`;
    const first = await request(world.gantry.url, 'POST', path);
    assert.equal(first.status, 401, first.text());
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    assert.deepEqual(challenge?.scope?.split(' '), [
      'repository:docker-dev-local/mounted/app:pull,push',
      'repository:docker-prod-local/prod/app:pull',
    ]);
    const developer = new TokenClient(world.gantry.url, { user: 'dev', password: PASSWORD });
    const mounted = await developer.request('POST', path);
    assert.equal(
      mounted.status,
      201,
      `a developer reads production, so the blob is mounted: ${mounted.text()}`,
    );
  });
});
