import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RegistryTokens, TokenError } from '../../src/auth/registry-tokens.ts';
import { SigningKeys } from '../../src/auth/signing-keys.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-metadata-store.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';

const ACCESS = [{ type: 'repository', name: 'docker/app', actions: ['pull'] }];

describe('registry tokens', () => {
  let store: SqliteMetadataStore;
  let keys: SigningKeys;
  let clock = new Date('2026-06-01T12:00:00Z');
  const now = () => clock;
  const settings = { issuer: 'gantry', service: 'gantry', ttlSeconds: 300, refreshTtlSeconds: 3600 };

  before(async () => {
    store = await SqliteMetadataStore.open({ file: ':memory:' });
    keys = await SigningKeys.open(store.signingKeys, new SecretBox(randomBytes(32)), now);
  });
  after(async () => store.close());

  it('carry sub, access and tid, and verify', async () => {
    const tokens = new RegistryTokens(keys, settings, now);
    const { token, expiresIn } = await tokens.issueAccess('dan', ACCESS, { tid: 't1' });
    assert.equal(expiresIn, 300);
    const claims = await tokens.verifyAccess(token);
    assert.deepEqual(
      { sub: claims.sub, access: claims.access, tid: claims.tid },
      { sub: 'dan', access: ACCESS, tid: 't1' },
    );
  });

  it('expire after their lifetime (a few seconds of clock skew allowed), cached or not', async () => {
    clock = new Date('2026-06-01T12:00:00Z');
    const tokens = new RegistryTokens(keys, settings, now);
    const { token } = await tokens.issueAccess('dan', ACCESS);
    await tokens.verifyAccess(token);
    clock = new Date(clock.getTime() + 302_000);
    await tokens.verifyAccess(token);
    clock = new Date(clock.getTime() + 10_000);
    await assert.rejects(
      tokens.verifyAccess(token),
      (e) => e instanceof TokenError && /expired/.test(e.message),
    );
    clock = new Date('2026-06-01T12:00:00Z');
  });

  it('are refused by a registry with another service name (audience)', async () => {
    const ours = new RegistryTokens(keys, settings, now);
    const theirs = new RegistryTokens(keys, { ...settings, service: 'other' }, now);
    const { token } = await theirs.issueAccess('dan', ACCESS);
    await assert.rejects(ours.verifyAccess(token), (e) => e instanceof TokenError && /aud/.test(e.message));
  });

  it('access and refresh tokens do not pass for each other', async () => {
    const tokens = new RegistryTokens(keys, settings, now);
    const refresh = await tokens.issueRefresh('dan', 'id-dan', 3);
    const claims = await tokens.verifyRefresh(refresh);
    assert.deepEqual([claims.gen, claims.uid], [3, 'id-dan']);
    await assert.rejects(tokens.verifyAccess(refresh), TokenError);
    const { token } = await tokens.issueAccess('dan', ACCESS);
    await assert.rejects(tokens.verifyRefresh(token), TokenError);
  });

  it('a changed payload breaks the signature', async () => {
    const tokens = new RegistryTokens(keys, settings, now);
    const { token } = await tokens.issueAccess('dan', ACCESS);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.access[0].actions = ['pull', 'push'];
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await assert.rejects(
      tokens.verifyAccess(forged),
      (e) => e instanceof TokenError && /signature/.test(e.message),
    );
  });
});
