import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LoginLimiter } from '../../src/auth/login-limiter.ts';

it('login limiter: per user, per address, sliding window, success clears the user', () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({ perUser: 3, perAddress: 5, windowSeconds: 60 }, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.retryAfter('alice', '10.0.0.1'), 0);
    limiter.failed('alice', '10.0.0.1');
    now += 1000;
  }
  const wait = limiter.retryAfter('alice', '10.0.0.2');
  assert.ok(wait > 50 && wait <= 60, `alice waits about a minute from anywhere, got ${wait}`);
  assert.equal(limiter.retryAfter('bob', '10.0.0.2'), 0, 'other users from other addresses are not affected');
  limiter.failed('bob', '10.0.0.1');
  limiter.failed('carl', '10.0.0.1');
  assert.ok(
    limiter.retryAfter('dora', '10.0.0.1') > 0,
    'five failures from one address pause it for everyone',
  );
  now += 61_000;
  assert.equal(limiter.retryAfter('alice', '10.0.0.1'), 0, 'failures leave the window');
  limiter.failed('alice', '10.0.0.3');
  limiter.failed('alice', '10.0.0.3');
  limiter.succeeded('alice');
  limiter.failed('alice', '10.0.0.3');
  assert.equal(limiter.retryAfter('alice', '10.0.0.4'), 0, 'a success cleared the count');
});
