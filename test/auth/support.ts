/** Setting up people and permissions on a test server through the management API, as an administrator would. */
import assert from 'node:assert/strict';
import { ADMIN, basicAuth } from '../support/gantry.ts';

export const ADMIN_AUTH = basicAuth(ADMIN.user, ADMIN.password);

export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  auth: string | undefined = ADMIN_AUTH,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(auth ? { Authorization: auth } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

/** Calls the API as admin and asserts the status. */
export async function admin(url: string, method: string, path: string, body: unknown, status: number) {
  const res = await api(url, method, path, body);
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** Asserts that an `api` reply is a problem with this status whose detail matches. */
export async function expectProblem(
  reply: Promise<{ status: number; json: Record<string, unknown> }>,
  status: number,
  detail: RegExp,
): Promise<void> {
  const { status: got, json } = await reply;
  assert.equal(got, status, JSON.stringify(json));
  assert.match(String(json.detail), detail);
}

export const PASSWORD = 'correct-horse-battery';

/** The people of the default pipeline's roles, each in the default group for the role. */
export async function createRoles(url: string): Promise<{ ciToken: string }> {
  const people: [string, string][] = [
    ['reader', 'readers'],
    ['dev', 'developers'],
    ['rm', 'release-managers'],
    ['customer', 'customers'],
  ];
  for (const [name, group] of people) {
    await admin(url, 'POST', '/users', { name, password: PASSWORD, groups: [group] }, 201);
  }
  await admin(url, 'POST', '/users', { name: 'ci', robot: true, groups: ['developers', 'ci'] }, 201);
  const token = await admin(
    url,
    'POST',
    '/tokens',
    { owner: 'ci', name: 'pipeline', targets: ['development'] },
    201,
  );
  return { ciToken: token.token as string };
}

/** Grants anonymous read on production (docker-prod and its member), keeping the rest of the target. */
export async function publishProduction(url: string): Promise<void> {
  const current = await admin(url, 'GET', '/permissions/production', undefined, 200);
  await admin(url, 'PUT', '/permissions/production', { ...current, anonymous: ['read'] }, 200);
}
