import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf, parseDigest } from '../../src/oci/digest.ts';
import type { OciError } from '../../src/oci/errors.ts';
import { checkName, isRepositoryKey, isTag } from '../../src/oci/names.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as OciError).code;
  }
  return 'no error';
};

describe('digests', () => {
  it('accepts lowercase sha256 and sha512 of the right length', () => {
    const d256 = digestOf(Buffer.from('x'));
    assert.equal(parseDigest(d256), d256);
    const d512 = digestOf(Buffer.from('x'), 'sha512');
    assert.equal(d512.length, 'sha512:'.length + 128);
    assert.equal(parseDigest(d512), d512);
  });

  it('refuses uppercase hex, wrong lengths, unknown algorithms and junk with DIGEST_INVALID', () => {
    const hex = 'a'.repeat(64);
    for (const bad of [
      `sha256:${hex.toUpperCase()}`,
      `sha256:${hex}0`,
      `md5:${hex}`,
      'sha256:',
      'latest',
      `sha256:${'g'.repeat(64)}`,
    ]) {
      assert.equal(
        code(() => parseDigest(bad)),
        'DIGEST_INVALID',
        bad,
      );
    }
  });
});

describe('names and tags', () => {
  it('accepts the grammar of the distribution spec', () => {
    for (const good of ['a', 'team/app', 'a.b/c_d/e__f/g--h', 'docker-dev-local/x/y/z', '0/1']) {
      assert.equal(checkName(good), good);
    }
  });

  it('refuses uppercase, dot segments, empty segments, escapes and 256 characters with NAME_INVALID', () => {
    for (const bad of [
      'Team/app',
      'a/../b',
      'a/./b',
      'a//b',
      '/a',
      'a/',
      'a%2Fb',
      'a_-b',
      `${'a'.repeat(255)}b`,
      '',
    ]) {
      assert.equal(
        code(() => checkName(bad)),
        'NAME_INVALID',
        bad,
      );
    }
    assert.equal(checkName('a'.repeat(255)).length, 255);
  });

  it('tells tags apart', () => {
    assert.ok(isTag('1.4.2'));
    assert.ok(isTag('main-abc123-20261125'));
    assert.ok(isTag('_x'));
    assert.ok(!isTag('.x'));
    assert.ok(!isTag('-x'));
    assert.ok(!isTag('a:b'));
    assert.ok(!isTag('x'.repeat(129)));
    assert.ok(isTag('x'.repeat(128)));
  });

  it('repository keys are one name component', () => {
    assert.ok(isRepositoryKey('docker-dev-local'));
    assert.ok(!isRepositoryKey('Docker'));
    assert.ok(!isRepositoryKey('a/b'));
  });
});
