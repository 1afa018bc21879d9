/**
 * The management API's access matrix: every role of the default pipeline (plus a delegated
 * manager and two API tokens) against the management paths that read or change shared records.
 * One table; one assertion per cell, whose message names role, path and what was expected.
 * (The registry paths have their own matrix, test/auth/access-matrix.test.ts.)
 *
 * Columns:
 * - search:  GET /search?name=app → the repositories of the hits, sorted (`-` when none)
 * - list:    GET /builds → whether build shared#1 is listed
 * - get:     GET /builds/shared/1 → the repositories its artifacts are shown in, or the status
 * - publish: PUT /builds/pub-<role>/1 → status
 * - delete:  DELETE /builds/del-<role>/1 (recorded by the administrator) → status
 * - history: GET /promotions → how many of the two promotions (dev → staging promoted,
 *            staging → prod refused) are listed
 * - approve: POST /approvals for docker-prod-local → status
 * - audit:   GET /audit → status
 * - stats:   GET /repositories/docker-dev-local → `full` (stats), `null`, or the status
 * - statsA:  the same for team-a-local
 * - gc:      GET /gc/runs → status (administrators only)
 * - usage:   GET /usage → whether docker-dev-local is listed, or the status
 * - retain:  POST /retention/docker-dev-local/evaluate (a dry run of unsaved rules) → status (manage there)
 * - metrics: GET /metrics → status (administrators, or the metrics token)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { type PushedImage, RegistryClient } from '../support/http.ts';
import { ADMIN_AUTH, admin, api, createRoles, PASSWORD } from './support.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies are checked field by field
type Json = any;

const MATRIX = `
role       search                                              list  get                                                 publish  delete  history  approve  audit  stats  statsA  gc   usage  retain  metrics
admin      docker-dev-local,docker-staging-local,team-a-local  yes   docker-dev-local,docker-staging-local,team-a-local  201      204     2        403      200    full   full  200  yes    200     200
manager    team-a-local                                        yes   team-a-local                                        403      204     0        404      403    404    full  403  no     403     403
developer  docker-dev-local,docker-staging-local               yes   docker-dev-local,docker-staging-local               403      403     2        403      403    full   404  403  yes    403     403
release    docker-dev-local,docker-staging-local               yes   docker-dev-local,docker-staging-local               403      403     2        201      403    full   404  403  yes    403     403
ci-token   docker-dev-local                                    yes   docker-dev-local                                    201      204     0        404      403    full   404  403  yes    403     403
narrowed   docker-dev-local,docker-staging-local               yes   docker-dev-local,docker-staging-local               403      403     2        403      403    full   404  403  yes    403     403
customer   -                                                   no    404                                                 403      404     0        404      403    404    404  403  no     403     403
anonymous  -                                                   no    404                                                 401      404     0        401      401    404    404  401  401    401     401
`;

const COLUMNS = [
  'search',
  'list',
  'get',
  'publish',
  'delete',
  'history',
  'approve',
  'audit',
  'stats',
  'statsA',
  'gc',
  'usage',
  'retain',
  'metrics',
];

interface Row {
  role: string;
  expected: Record<string, string>;
}

function rows(): Row[] {
  const lines = MATRIX.trim().split('\n').slice(1);
  return lines.map((line) => {
    const [role, ...cells] = line.trim().split(/\s+/);
    assert.equal(cells.length, COLUMNS.length, `matrix row ${role} has ${cells.length} cells`);
    return {
      role: role as string,
      expected: Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i] as string])),
    };
  });
}

describe('management API access matrix', () => {
  let gantry: RunningGantry;
  let url = '';
  let image: PushedImage;
  const auth: Record<string, string> = {};

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    url = gantry.url;
    const { ciToken } = await createRoles(url);
    await admin(url, 'POST', '/users', { name: 'mgr', password: PASSWORD }, 201);
    await admin(
      url,
      'POST',
      '/permissions',
      { name: 'team-a', repositories: ['team-a-*'], users: { mgr: ['manage', 'publish'] } },
      201,
    );
    await admin(url, 'POST', '/repositories', { key: 'team-a-local', kind: 'local' }, 201);
    const narrowed = await admin(
      url,
      'POST',
      '/tokens',
      { owner: 'rm', name: 'read-only', actions: ['read'] },
      201,
    );
    Object.assign(auth, {
      admin: ADMIN_AUTH,
      manager: basicAuth('mgr', PASSWORD),
      developer: basicAuth('dev', PASSWORD),
      release: basicAuth('rm', PASSWORD),
      'ci-token': `Bearer ${ciToken}`,
      narrowed: `Bearer ${narrowed.token}`,
      customer: basicAuth('customer', PASSWORD),
      anonymous: '',
    });

    const client = new RegistryClient(url, { Authorization: ADMIN_AUTH });
    image = await client.pushImage('docker-dev-local/team/app', '1.0');
    const other = await client.pushImage('team-a-local/app', '1.0');
    const build = (digests: string[]) => ({
      startedAt: '2026-11-25T10:00:00Z',
      artifacts: digests.map((digest) => ({ digest })),
    });
    await admin(url, 'PUT', '/builds/shared/1', build([image.manifest.digest, other.manifest.digest]), 201);
    for (const { role } of rows()) {
      await admin(
        url,
        'PUT',
        `/builds/del-${role}/1`,
        build([role === 'manager' ? other.manifest.digest : image.manifest.digest]),
        201,
      );
    }
    const digest = image.manifest.digest;
    await admin(
      url,
      'PUT',
      `/repositories/docker-dev-local/images/team/app/manifests/${digest}/properties`,
      { properties: { 'qa.status': 'passed' } },
      200,
    );
    await admin(
      url,
      'POST',
      '/promotions',
      { source: 'docker-dev-local/team/app:1.0', target: 'docker-staging-local' },
      201,
    );
    await admin(
      url,
      'POST',
      '/promotions',
      { source: 'docker-staging-local/team/app:1.0', target: 'docker-prod-local' },
      409,
    );
  });
  after(() => gantry?.stop());

  /** What each column observes for a role. */
  const observe: Record<string, (role: string) => Promise<string>> = {
    search: async (role) => {
      const res = await api(url, 'GET', '/search?name=app', undefined, auth[role]);
      if (res.status !== 200) return String(res.status);
      const keys = [...new Set((res.json.results as Json[]).map((r) => r.repository as string))].sort();
      return keys.length === 0 ? '-' : keys.join(',');
    },
    list: async (role) => {
      const res = await api(url, 'GET', '/builds', undefined, auth[role]);
      if (res.status !== 200) return String(res.status);
      return (res.json.builds as Json[]).some((b) => b.name === 'shared') ? 'yes' : 'no';
    },
    get: async (role) => {
      const res = await api(url, 'GET', '/builds/shared/1', undefined, auth[role]);
      if (res.status !== 200) return String(res.status);
      const keys = (res.json.artifacts as Json[]).flatMap((a) => a.locations.map((l: Json) => l.repository));
      return [...new Set(keys)].sort().join(',') || '-';
    },
    publish: async (role) => {
      const body = { startedAt: '2026-11-25T10:00:00Z', artifacts: [{ digest: image.manifest.digest }] };
      return String((await api(url, 'PUT', `/builds/pub-${role}/1`, body, auth[role])).status);
    },
    delete: async (role) =>
      String((await api(url, 'DELETE', `/builds/del-${role}/1`, undefined, auth[role])).status),
    history: async (role) => {
      const res = await api(url, 'GET', '/promotions', undefined, auth[role]);
      if (res.status !== 200) return String(res.status);
      return String((res.json.promotions as Json[]).length);
    },
    approve: async (role) => {
      const body = { repository: 'docker-prod-local', digest: image.manifest.digest };
      return String((await api(url, 'POST', '/approvals', body, auth[role])).status);
    },
    audit: async (role) => String((await api(url, 'GET', '/audit', undefined, auth[role])).status),
    stats: (role) => statsOf('docker-dev-local', role),
    statsA: (role) => statsOf('team-a-local', role),
    gc: async (role) => String((await api(url, 'GET', '/gc/runs', undefined, auth[role])).status),
    usage: async (role) => {
      const res = await api(url, 'GET', '/usage', undefined, auth[role]);
      if (res.status !== 200) return String(res.status);
      return (res.json.repositories as Json[]).some((r) => r.key === 'docker-dev-local') ? 'yes' : 'no';
    },
    retain: async (role) =>
      String(
        (
          await api(
            url,
            'POST',
            '/retention/docker-dev-local/evaluate',
            { dryRun: true, rules: [{ keep: 'last', count: 10 }] },
            auth[role],
          )
        ).status,
      ),
    metrics: async (role) => {
      const headers: Record<string, string> = auth[role] ? { authorization: auth[role] } : {};
      return String((await fetch(`${url}/metrics`, { headers })).status);
    },
  };

  async function statsOf(key: string, role: string): Promise<string> {
    const res = await api(url, 'GET', `/repositories/${key}`, undefined, auth[role]);
    if (res.status !== 200) return String(res.status);
    return res.json.stats === null ? 'null' : 'full';
  }

  for (const { role, expected } of rows()) {
    it(`${role}`, async () => {
      const problems: string[] = [];
      for (const column of COLUMNS) {
        const got = await (observe[column] as (role: string) => Promise<string>)(role);
        if (got !== expected[column])
          problems.push(`${role} × ${column}: expected ${expected[column]}, got ${got}`);
      }
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }
});
