/** The upstream address policy: built-in refusals, allow/deny precedence, mapped forms, host names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPolicy, entryProblem, unmapped } from '../../src/net/address-policy.ts';

const REFUSED_BY_DEFAULT = [
  ['127.0.0.1', /loopback/],
  ['127.8.9.10', /loopback/],
  ['::1', /loopback/],
  ['169.254.169.254', /link-local/],
  ['fe80::1', /link-local/],
  ['10.1.2.3', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['fd12:3456::1', /unique local/],
  ['0.0.0.0', /unspecified/],
  ['::', /unspecified/],
  ['100.64.0.1', /CGNAT/],
  ['224.0.0.1', /multicast/],
  ['ff02::1', /multicast/],
  ['255.255.255.255', /reserved/],
  ['::ffff:127.0.0.1', /loopback/],
  ['::ffff:7f00:1', /loopback/],
  ['::ffff:169.254.169.254', /link-local/],
  ['::ffff:10.0.0.1', /private/],
] as const;

describe('address policy', () => {
  it('refuses loopback, link-local, private and the like by default, naming the rule', () => {
    const policy = new AddressPolicy();
    for (const [address, rule] of REFUSED_BY_DEFAULT) {
      const verdict = policy.checkAddress(address);
      assert.equal(verdict.allowed, false, `${address} admitted`);
      assert.match(verdict.rule?.label ?? '', rule, address);
    }
  });

  it('admits public addresses', () => {
    const policy = new AddressPolicy();
    for (const address of ['1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(policy.checkAddress(address).allowed, true, address);
    }
  });

  it('an allow entry admits its range; a deny entry wins over it', () => {
    const policy = new AddressPolicy({
      allow: ['127.0.0.0/8', '10.0.0.0/8'],
      deny: ['10.9.0.0/16', '8.8.8.8'],
    });
    assert.equal(policy.checkAddress('127.0.0.1').allowed, true);
    assert.equal(policy.checkAddress('::ffff:127.0.0.1').allowed, true);
    assert.equal(policy.checkAddress('10.1.0.1').allowed, true);
    const denied = policy.checkAddress('10.9.1.1');
    assert.equal(denied.allowed, false);
    assert.match(denied.rule?.label ?? '', /upstreamDeny 10\.9\.0\.0\/16/);
    assert.equal(policy.checkAddress('8.8.8.8').allowed, false);
    assert.equal(
      policy.checkAddress('169.254.169.254').allowed,
      false,
      'metadata is not in the allowed ranges',
    );
    assert.equal(policy.checkAddress('::1').allowed, false, 'IPv6 loopback was not allowed');
  });

  it('host names: literals and localhost are decided from the URL, other names at resolution', () => {
    const policy = new AddressPolicy({ allow: ['registry.internal', '*.corp.example'] });
    assert.equal(policy.checkHost('127.0.0.1')?.allowed, false);
    assert.equal(policy.checkHost('[::1]')?.allowed, false);
    assert.equal(policy.checkHost('[::ffff:7f00:1]')?.allowed, false);
    assert.equal(policy.checkHost('localhost')?.allowed, false);
    assert.equal(policy.checkHost('api.localhost')?.allowed, false);
    assert.equal(policy.checkHost('registry-1.docker.io'), undefined);
    assert.equal(policy.checkHost('registry.internal')?.allowed, true);
    assert.equal(policy.allowsName('Registry.Internal.'), true);
    assert.equal(policy.allowsName('a.corp.example'), true);
    assert.equal(policy.allowsName('corp.example'), false);
    assert.equal(policy.allowsName('evilcorp.example'), false);
    assert.equal(
      policy.checkAddress('10.0.0.5', 'registry.internal').allowed,
      true,
      'an allowed name resolving inside',
    );
    assert.equal(policy.checkAddress('10.0.0.5', 'other.example').allowed, false);
    const denying = new AddressPolicy({ allow: ['registry.internal'], deny: ['10.9.0.0/16'] });
    assert.equal(
      denying.checkAddress('10.9.0.1', 'registry.internal').allowed,
      false,
      'deny wins over an allowed name',
    );
  });

  it('list entries: addresses, CIDR ranges and host names; anything else is named', () => {
    for (const good of [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
      '[::1]',
      'registry.internal',
      '*.corp.example',
    ]) {
      assert.equal(entryProblem(good), undefined, good);
    }
    for (const bad of [
      '10.0.0.0/33',
      '300.1.1.1/8',
      'fd00::/129',
      'not a host',
      '10.0.0.0/8/1',
      'http://x',
    ]) {
      assert.ok(entryProblem(bad), `${bad} accepted`);
    }
    assert.throws(() => new AddressPolicy({ deny: ['evil.example'] }), /addresses and CIDR ranges only/);
  });

  it('unmaps IPv4-mapped IPv6 in both spellings', () => {
    assert.equal(unmapped('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(unmapped('::FFFF:169.254.169.254'), '169.254.169.254');
    assert.equal(unmapped('2001:db8::1'), '2001:db8::1');
    assert.equal(unmapped('10.0.0.1'), '10.0.0.1');
  });
});
