/**
 * Staging and production of the default pipeline take content only by promotion
 * (`writes: promotion-only`). Tests about other things (reads, tags, search, leaks, clients)
 * that want content there quickly turn direct writes on with these, as an administrator would,
 * keeping every other setting of the repository.
 */
import assert from 'node:assert/strict';
import { ADMIN, basicAuth } from './gantry.ts';

const AUTHORIZATION = basicAuth(ADMIN.user, ADMIN.password);

async function setWrites(url: string, key: string, writes: string): Promise<string | undefined> {
  const path = `${url}/api/v1/repositories/${key}`;
  const current = await fetch(path, { headers: { authorization: AUTHORIZATION } });
  assert.equal(current.status, 200, `GET ${path}: ${current.status}`);
  const { settings } = (await current.json()) as { settings: Record<string, unknown> };
  const res = await fetch(path, {
    method: 'PATCH',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ settings: { ...settings, writes } }),
  });
  assert.equal(res.status, 200, `PATCH ${path}: ${res.status} ${await res.text()}`);
  return settings.writes as string | undefined;
}

/** Lets pushes into the repositories from now on (`writes: any`). */
export async function allowDirectWrites(url: string, ...keys: string[]): Promise<void> {
  for (const key of keys) await setWrites(url, key, 'any');
}

/** Runs `seed` with direct writes allowed into `keys`, then puts their `writes` setting back. */
export async function seedDirectly(
  url: string,
  keys: readonly string[],
  seed: () => Promise<void>,
): Promise<void> {
  const before = new Map<string, string | undefined>();
  for (const key of keys) before.set(key, await setWrites(url, key, 'any'));
  try {
    await seed();
  } finally {
    for (const [key, writes] of before) await setWrites(url, key, writes ?? 'any');
  }
}
