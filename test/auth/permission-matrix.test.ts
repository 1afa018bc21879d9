/**
 * Who may do what on each repository of the default pipeline, written as a table and checked
 * through HTTP twice: with Basic credentials on every request, and the way docker/skopeo do it
 * (401 challenge → token from the realm for the challenge's scope → retry with the token).
 * Staging and production are promotion-only: nobody pushes there, administrators and release
 * managers included (they may still delete); the setup seeds them with the setting off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedDirectly } from '../support/direct-writes.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import {
  ACCEPT_ALL_MANIFESTS,
  imageManifest,
  makeBlob,
  makeConfig,
  RegistryClient,
  type Reply,
  type RequestOptions,
  request,
} from '../support/http.ts';
import { TokenClient } from '../support/token-client.ts';
import { ADMIN_AUTH, createRoles, PASSWORD, publishProduction } from './support.ts';

// Reading through a virtual repository needs read on the member that serves the content too (a
// virtual one is an address, never a grant), so the production target covers docker-prod and
// docker-prod-local: whoever pulls from docker-prod (here: anyone, once it is published) may
// pull the same content from docker-prod-local.

const MATRIX = `
role       repository            pull  push  overwrite  delete
anonymous  docker-dev-local      no    no    no         no
anonymous  docker-staging-local  no    no    no         no
anonymous  docker-prod-local     ok    no    no         no
anonymous  docker                no    no    no         no
anonymous  docker-prod           ok    no    no         no
reader     docker-dev-local      ok    no    no         no
reader     docker-staging-local  ok    no    no         no
reader     docker-prod-local     ok    no    no         no
reader     docker                ok    no    no         no
reader     docker-prod           ok    no    no         no
dev        docker-dev-local      ok    ok    ok         ok
dev        docker-staging-local  ok    no    no         no
dev        docker-prod-local     ok    no    no         no
dev        docker                ok    ok    ok         ok
dev        docker-prod           ok    no    no         no
rm         docker-dev-local      ok    ok    ok         ok
rm         docker-staging-local  ok    no    no         ok
rm         docker-prod-local     ok    no    no         ok
rm         docker                ok    ok    ok         ok
rm         docker-prod           ok    no    no         no
customer   docker-dev-local      no    no    no         no
customer   docker-staging-local  no    no    no         no
customer   docker-prod-local     ok    no    no         no
customer   docker                no    no    no         no
customer   docker-prod           ok    no    no         no
admin      docker-dev-local      ok    ok    ok         ok
admin      docker-staging-local  ok    no    no         ok
admin      docker-prod-local     ok    no    no         ok
admin      docker                ok    ok    ok         ok
admin      docker-prod           ok    no    no         no
ci-token   docker-dev-local      ok    ok    ok         ok
ci-token   docker-staging-local  no    no    no         no
ci-token   docker-prod-local     ok    no    no         no
ci-token   docker                ok    ok    ok         ok
ci-token   docker-prod           ok    no    no         no
`;

type Operation = 'pull' | 'push' | 'overwrite' | 'delete';
const OPERATIONS: Operation[] = ['pull', 'push', 'overwrite', 'delete'];
const LOCALS = ['docker-dev-local', 'docker-staging-local', 'docker-prod-local'];
/** Stages that take content only by promotion (the default pipeline's `writes` setting). */
const PROMOTION_ONLY = ['docker-staging-local', 'docker-prod-local'];
/** Where writes to each repository land (the virtual docker deploys to development). */
const WRITES_TO: Record<string, string> = {
  'docker-dev-local': 'docker-dev-local',
  'docker-staging-local': 'docker-staging-local',
  'docker-prod-local': 'docker-prod-local',
  docker: 'docker-dev-local',
};

interface Row {
  role: string;
  repository: string;
  expected: Record<Operation, 'ok' | 'no'>;
}

function parseMatrix(text: string): Row[] {
  const lines = text.trim().split('\n').slice(1);
  return lines.map((line) => {
    const [role, repository, ...cells] = line.trim().split(/\s+/) as [string, string, ...('ok' | 'no')[]];
    assert.equal(cells.length, OPERATIONS.length, `row "${line}"`);
    return {
      role,
      repository,
      expected: Object.fromEntries(OPERATIONS.map((op, i) => [op, cells[i]])),
    } as Row;
  });
}

type Send = (method: string, path: string, options?: RequestOptions) => Promise<Reply>;

/** The first answer that is not a success, or the last answer. */
async function firstFailure(steps: (() => Promise<Reply>)[]): Promise<Reply> {
  let last: Reply | undefined;
  for (const step of steps) {
    last = await step();
    if (last.status >= 300) return last;
  }
  return last as Reply;
}

function operation(op: Operation, send: Send, repository: string, tag: string): Promise<Reply> {
  const name = `${repository}/team/app`;
  if (op === 'pull') {
    return send('GET', `/v2/${name}/manifests/1.0`, { headers: { accept: ACCEPT_ALL_MANIFESTS } });
  }
  if (op === 'delete') return send('DELETE', `/v2/${name}/manifests/${tag}`);
  const config = makeConfig();
  const layer = makeBlob(64);
  const manifest = imageManifest({ config, layers: [layer] });
  const blobStep = (blob: { bytes: Buffer; digest: string }) => () =>
    send('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
  return firstFailure([
    blobStep(config),
    blobStep(layer),
    () =>
      send('PUT', `/v2/${name}/manifests/${op === 'push' ? tag : 'moving'}`, {
        headers: { 'content-type': manifest.mediaType },
        body: manifest.bytes,
      }),
  ]);
}

describe('permission matrix of the default pipeline', () => {
  let gantry: RunningGantry;
  let ciToken: string;
  const rows = parseMatrix(MATRIX);
  const roles = [...new Set(rows.map((r) => r.role))];

  before(async () => {
    gantry = await startGantry({ openAccess: false });
    ({ ciToken } = await createRoles(gantry.url));
    await publishProduction(gantry.url);
    const adminClient = new RegistryClient(gantry.url, { Authorization: ADMIN_AUTH });
    await seedDirectly(gantry.url, PROMOTION_ONLY, async () => {
      for (const repository of LOCALS) {
        const name = `${repository}/team/app`;
        await adminClient.pushImage(name, '1.0');
        await adminClient.pushImage(name, 'moving');
      }
      // One tag to delete per role, mode and repository row.
      for (const { role, repository } of rows) {
        const target = WRITES_TO[repository];
        if (!target) continue;
        for (const mode of ['basic', 'token']) {
          await adminClient.pushImage(`${target}/team/app`, `victim-${role}-${mode}-${repository}`);
        }
      }
    });
  });

  after(async () => gantry?.stop());

  function credentials(role: string): { user: string; password: string } | undefined {
    if (role === 'anonymous') return undefined;
    if (role === 'admin') return { user: ADMIN.user, password: ADMIN.password };
    if (role === 'ci-token') return { user: 'ci', password: ciToken };
    return { user: role, password: PASSWORD };
  }

  for (const mode of ['basic', 'token'] as const) {
    for (const role of roles) {
      it(`${role} with ${mode === 'basic' ? 'Basic credentials' : 'registry tokens'}`, async () => {
        const creds = credentials(role);
        const tokenClient = new TokenClient(gantry.url, creds);
        const send: Send =
          mode === 'token'
            ? (method, path, options) => tokenClient.request(method, path, options)
            : (method, path, options = {}) =>
                request(gantry.url, method, path, {
                  ...options,
                  headers: {
                    ...options.headers,
                    ...(creds ? { Authorization: basicAuth(creds.user, creds.password) } : {}),
                  },
                });
        const mismatches: string[] = [];
        for (const row of rows.filter((r) => r.role === role)) {
          for (const op of OPERATIONS) {
            const tag = op === 'push' ? `new-${role}-${mode}` : `victim-${role}-${mode}-${row.repository}`;
            const res = await operation(op, send, row.repository, tag);
            const got = res.status < 300 ? 'ok' : 'no';
            const expected = row.expected[op];
            const refusedRightly =
              got === 'no' &&
              (role === 'anonymous' ? res.status === 401 || res.status === 403 : res.status === 403);
            // Release managers and administrators may write there but for the stage's setting.
            const promotionOnly =
              ['rm', 'admin'].includes(role) &&
              PROMOTION_ONLY.includes(row.repository) &&
              (op === 'push' || op === 'overwrite');
            if (promotionOnly && !/promotion-only/.test(res.text())) {
              mismatches.push(
                `${op} ${row.repository}: expected the promotion-only refusal, got ${res.text()}`,
              );
            }
            if (got !== expected || (got === 'no' && !refusedRightly)) {
              mismatches.push(
                `${op} ${row.repository}: expected ${expected}, got ${res.status} ${res.text().slice(0, 160)}`,
              );
            }
            if (res.status === 401) {
              assert.match(
                res.headers.get('www-authenticate') ?? '',
                /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/v2\/token",service="gantry"/,
              );
            }
          }
        }
        assert.deepEqual(mismatches, [], `${role} (${mode})`);
      });
    }
  }
});
