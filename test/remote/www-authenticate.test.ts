import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenCache } from '../../src/repos/remote/token-cache.ts';
import { parseWwwAuthenticate } from '../../src/repos/remote/www-authenticate.ts';

describe('WWW-Authenticate parsing', () => {
  test('Docker Hub style Bearer challenge', () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
    assert.deepEqual(parseWwwAuthenticate(header), [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ]);
  });

  test('quoted values with commas, equals signs and escapes; spaces around separators', () => {
    const [c] = parseWwwAuthenticate(
      'bEaReR  realm = "https://a.example/t?x=1,y=2" , scope="repository:a/b:pull,push", error="say \\"hi\\""',
    );
    assert.equal(c?.scheme, 'bearer');
    assert.deepEqual(c?.params, {
      realm: 'https://a.example/t?x=1,y=2',
      scope: 'repository:a/b:pull,push',
      error: 'say "hi"',
    });
  });

  test('case-insensitive scheme and param names', () => {
    const [c] = parseWwwAuthenticate('BASIC Realm="Registry Realm", CHARSET="UTF-8"');
    assert.deepEqual(c, { scheme: 'basic', params: { realm: 'Registry Realm', charset: 'UTF-8' } });
  });

  test('several challenges in one header', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="basic, realm", Bearer realm="https://t.example/token",service="reg", Negotiate abc+/==',
    );
    assert.deepEqual(
      challenges.map((c) => c.scheme),
      ['basic', 'bearer', 'negotiate'],
    );
    assert.equal(challenges[0]?.params.realm, 'basic, realm');
    assert.deepEqual(challenges[1]?.params, { realm: 'https://t.example/token', service: 'reg' });
    assert.equal(challenges[2]?.token68, 'abc+/==');
  });

  test('unquoted values, including URLs', () => {
    const [c] = parseWwwAuthenticate('Bearer realm=https://auth.example/token,service=reg');
    assert.deepEqual(c?.params, { realm: 'https://auth.example/token', service: 'reg' });
  });

  test('a scheme alone, empty and junk headers do not throw', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('  ,, '), []);
    assert.doesNotThrow(() => parseWwwAuthenticate('"unterminated = , ="'));
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ]);
  });
});

describe('token cache', () => {
  test('a token lives until expires_in minus a margin, per key', () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    cache.set('repository:a:pull', 'A', 300);
    assert.equal(cache.get('repository:a:pull'), 'A');
    assert.equal(cache.get('repository:b:pull'), undefined);
    now += 289_000;
    assert.equal(cache.get('repository:a:pull'), 'A');
    now += 2_000; // 291 s: inside the 10 s margin
    assert.equal(cache.get('repository:a:pull'), undefined);
  });

  test('missing or nonsense expires_in means 60 s', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('x', 'X');
    cache.set('y', 'Y', -5);
    now = 49_000;
    assert.equal(cache.get('x'), 'X');
    assert.equal(cache.get('y'), 'Y');
    now = 51_000;
    assert.equal(cache.get('x'), undefined);
    assert.equal(cache.get('y'), undefined);
  });

  test('short lifetimes keep most of their life', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('x', 'X', 5);
    now = 3_900;
    assert.equal(cache.get('x'), 'X');
    now = 4_100;
    assert.equal(cache.get('x'), undefined);
  });
});
