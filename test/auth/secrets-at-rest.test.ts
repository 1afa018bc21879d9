/**
 * Secrets at rest against a real server process: the data directory and its files are private
 * from the first start, a restart repairs modes loosened since (and says so in the log), token
 * signing keys and upstream passwords are stored encrypted (and plaintext ones left by an older
 * instance are encrypted at start-up), and a wrong key stops the start instead of losing data.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { ADMIN, basicAuth, type RunningGantry, startGantry } from '../support/gantry.ts';
import { api } from './support.ts';

const PASSWORD = 'Upstream-at-rest-s3cret';

async function modeOf(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8);
}

function rows(dataDir: string): { keys: { kid: string; private_jwk: string }[]; settings: string } {
  const db = new BetterSqlite3(join(dataDir, 'gantry.db'), { readonly: true });
  try {
    const keys = db.prepare('SELECT kid, private_jwk FROM signing_keys').all() as {
      kid: string;
      private_jwk: string;
    }[];
    const repo = db.prepare("SELECT settings FROM repositories WHERE key = 'private-remote'").get() as {
      settings: string;
    };
    return { keys, settings: repo.settings };
  } finally {
    db.close();
  }
}

/** Docker-style login: a registry token signed with the stored key proves the key still works. */
async function signedToken(url: string): Promise<number> {
  const res = await fetch(`${url}/v2/token?service=gantry&scope=repository:docker/x:pull`, {
    headers: { authorization: basicAuth(ADMIN.user, ADMIN.password) },
  });
  await res.arrayBuffer();
  return res.status;
}

describe('secrets at rest', () => {
  let gantry: RunningGantry | undefined;
  let dataDir = '';
  after(async () => {
    await gantry?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('file modes after the first start, secrets encrypted, loosened modes repaired at restart', async () => {
    gantry = await startGantry({ openAccess: false });
    dataDir = gantry.dataDir;
    const created = await api(gantry.url, 'POST', '/repositories', {
      key: 'private-remote',
      kind: 'remote',
      settings: { url: 'https://registry.example.com', username: 'bot', password: PASSWORD },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(await signedToken(gantry.url), 200);

    const expected: [string, string][] = [
      ['.', '700'],
      ['gantry.db', '600'],
      ['gantry.db-wal', '600'],
      ['gantry.db-shm', '600'],
      ['secret.key', '600'],
      ['storage', '700'],
    ];
    for (const [name, mode] of expected) assert.equal(await modeOf(join(dataDir, name)), mode, name);

    const { keys, settings } = rows(dataDir);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      assert.ok(SecretBox.isSealed(key.private_jwk), `signing key ${key.kid} stored in clear`);
      assert.doesNotMatch(key.private_jwk, /"d"/);
    }
    const stored = JSON.parse(settings) as { password: string };
    assert.ok(SecretBox.isSealed(stored.password), 'upstream password stored in clear');
    await gantry.stop({ keepData: true });
    for (const file of ['gantry.db', 'gantry.db-wal']) {
      const bytes = await readFile(join(dataDir, file)).catch(() => Buffer.alloc(0));
      assert.ok(!bytes.includes(PASSWORD), `the upstream password is in ${file}`);
    }

    // Loosen what an older instance (or a careless chmod) might have left, then restart.
    await chmod(dataDir, 0o755);
    await chmod(join(dataDir, 'gantry.db'), 0o644);
    await chmod(join(dataDir, 'secret.key'), 0o644);
    await chmod(join(dataDir, 'storage'), 0o755);
    gantry = await startGantry({ dataDir, openAccess: false });
    for (const [name, mode] of expected)
      assert.equal(await modeOf(join(dataDir, name)), mode, `${name} after restart`);
    const warnings = gantry
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":40'))
      .map((line) => JSON.parse(line) as { path?: string; mode?: string; msg: string });
    for (const [name, was] of [
      ['', '755'],
      ['gantry.db', '644'],
      ['secret.key', '644'],
      ['storage', '755'],
    ] as [string, string][]) {
      const path = join(dataDir, name);
      assert.ok(
        warnings.some((w) => w.path === path && w.mode === was),
        `no warning naming ${path} and mode ${was}: ${JSON.stringify(warnings)}`,
      );
    }
    assert.equal(await signedToken(gantry.url), 200, 'the encrypted signing key no longer signs');
    const shown = await api(gantry.url, 'GET', '/repositories/private-remote');
    assert.equal((shown.json.settings as Record<string, unknown>).password, '********');
    await gantry.stop({ keepData: true });
    gantry = undefined;
  });

  test('plaintext secrets of an older instance are encrypted at start-up', async () => {
    const box = new SecretBox(
      Buffer.from((await readFile(join(dataDir, 'secret.key'), 'utf8')).trim(), 'base64'),
    );
    const db = new BetterSqlite3(join(dataDir, 'gantry.db'));
    const before = rows(dataDir);
    for (const key of before.keys) {
      db.prepare('UPDATE signing_keys SET private_jwk = ? WHERE kid = ?').run(
        box.open(key.private_jwk, key.kid),
        key.kid,
      );
    }
    const settings = JSON.parse(before.settings) as Record<string, unknown>;
    db.prepare("UPDATE repositories SET settings = ? WHERE key = 'private-remote'").run(
      JSON.stringify({ ...settings, password: PASSWORD }),
    );
    db.close();

    gantry = await startGantry({ dataDir, openAccess: false });
    const now = rows(dataDir);
    for (const key of now.keys) assert.ok(SecretBox.isSealed(key.private_jwk), `${key.kid} left in clear`);
    const password = (JSON.parse(now.settings) as { password: string }).password;
    assert.ok(SecretBox.isSealed(password), 'upstream password left in clear');
    assert.equal(box.open(password, 'password'), PASSWORD);
    assert.equal(await signedToken(gantry.url), 200);
    await gantry.stop({ keepData: true });
    gantry = undefined;
  });

  test('a different key stops the start with a message, and changes nothing', async () => {
    const before = rows(dataDir);
    await assert.rejects(
      startGantry({
        dataDir,
        openAccess: false,
        env: { GANTRY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') },
      }),
      (err: Error) => {
        assert.match(err.message, /encrypted with another key than GANTRY_SECRET_KEY/);
        assert.doesNotMatch(err.message, /\n\s+at /, 'a stack trace instead of a message');
        return true;
      },
    );
    assert.deepEqual(rows(dataDir), before, 'the stored secrets changed');
    await writeGarbageKeyAndExpectRefusal(dataDir);
  });
});

/** A damaged key file is not replaced by a fresh key (which would orphan every secret). */
async function writeGarbageKeyAndExpectRefusal(dataDir: string): Promise<void> {
  const file = join(dataDir, 'secret.key');
  const original = await readFile(file);
  await writeFile(file, 'not a key\n');
  await assert.rejects(startGantry({ dataDir, openAccess: false }), /does not hold a 32-byte base64 key/);
  assert.equal(await readFile(file, 'utf8'), 'not a key\n');
  await writeFile(file, original);
}
