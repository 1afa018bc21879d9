import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { LoginLimiter } from '../../src/auth/login-limiter.ts';
import { signatureHeader, verifySignature } from '../../src/events/webhook-signature.ts';
import { EVENT_TYPES } from '../../src/meta/event-records.ts';
import { PROJECT_ROOT } from '../support/gantry.ts';

it('the README lists every event type with an example payload', async () => {
  const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Events and webhooks\n')[1]?.split('\n## ')[0] ?? '';
  assert.ok(section.length > 0, 'README has an "Events and webhooks" section');
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const match = /^\| `(io\.gantry\.[a-z.]+)` \|/.exec(line);
    if (match?.[1]) rows.set(match[1], line);
  }
  assert.deepEqual([...rows.keys()].sort(), [...EVENT_TYPES].sort());
  for (const [type, line] of rows)
    assert.match(line, /\| `\{.*\}` \|$|\| same fields;/, `${type} has an example`);
});

it('signatures verify over the exact body and timestamp, and only within the tolerance', () => {
  const secret = 'sixteen-chars-at-least';
  const body = '{"a":1}';
  const header = signatureHeader(secret, body, 1_000_000);
  assert.ok(verifySignature({ secret, body, header, nowSeconds: 1_000_100 }));
  assert.ok(!verifySignature({ secret, body: '{"a":2}', header, nowSeconds: 1_000_100 }));
  assert.ok(!verifySignature({ secret: 'another-secret-value', body, header, nowSeconds: 1_000_100 }));
  assert.ok(!verifySignature({ secret, body, header, nowSeconds: 1_000_400 }), 'too old');
  assert.ok(!verifySignature({ secret, body, header: undefined, nowSeconds: 1_000_000 }));
});

it('the login limiter tells once when a user name reaches its limit', () => {
  const locks: unknown[] = [];
  const limiter = new LoginLimiter(
    { perUser: 3, perAddress: 100, windowSeconds: 60 },
    () => 0,
    (l) => locks.push(l),
  );
  for (let i = 0; i < 5; i++) limiter.failed('alice', '203.0.113.9');
  assert.deepEqual(locks, [{ user: 'alice', address: '203.0.113.9', by: 'user' }]);
});
