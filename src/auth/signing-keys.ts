import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import type { SigningKeyRecord } from '../meta/identity-records.ts';
import type { SigningKeyMeta } from '../meta/identity-store.ts';
import { SecretBox } from '../secrets/secret-box.ts';

interface LoadedKey {
  record: SigningKeyRecord;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * The ES256 keys that sign registry tokens, kept in the metadata store so every node of a
 * cluster signs and verifies with the same set. One key signs; rotating adds a new signing key
 * and retires the others, which still verify what they signed until they are removed (after
 * the longest token lifetime, or at once with `dropRetired`). A node that meets an unknown `kid`
 * reloads the set (at most once every few seconds), so a rotation on one node reaches the others.
 * Private keys are stored encrypted (SecretBox); ones stored in clear by an older instance are
 * encrypted when the set is opened.
 */
export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  private signing: LoadedKey | undefined;
  private lastReload = 0;

  private constructor(
    private readonly meta: SigningKeyMeta,
    private readonly box: SecretBox,
    private readonly now: () => Date,
  ) {}

  /** Rejects with SecretKeyMismatch when a stored key was encrypted under another secret key. */
  static async open(
    meta: SigningKeyMeta,
    box: SecretBox,
    now: () => Date = () => new Date(),
  ): Promise<SigningKeys> {
    const ring = new SigningKeys(meta, box, now);
    for (const record of await meta.list()) {
      if (!SecretBox.isSealed(record.privateJwk))
        await meta.replacePrivateJwk(record.kid, box.seal(record.privateJwk));
    }
    await ring.reload();
    if (!ring.signing) await ring.rotate();
    return ring;
  }

  current(): { kid: string; privateKey: CryptoKey } {
    if (!this.signing) throw new Error('no signing key loaded');
    return { kid: this.signing.record.kid, privateKey: this.signing.privateKey };
  }

  /** The public key for `kid`, reloading the set once when it is unknown here. */
  async publicKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    if (kid === undefined) return undefined;
    const known = this.keys.get(kid);
    if (known) return known.publicKey;
    if (Date.now() - this.lastReload < 5_000) return undefined;
    await this.reload();
    return this.keys.get(kid)?.publicKey;
  }

  /** A new signing key; every other key is retired (still verifying). Returns the new kid. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
    const kid = await calculateJwkThumbprint(publicJwk);
    const at = this.now().toISOString();
    const privateJwk = { ...(await exportJWK(privateKey)), alg: 'ES256', kid };
    await this.meta.add({
      kid,
      privateJwk: this.box.seal(JSON.stringify(privateJwk)),
      publicJwk: JSON.stringify({ ...publicJwk, kid }),
      createdAt: at,
      retiredAt: null,
    });
    await this.meta.retireAllBut(kid, at);
    await this.reload();
    return kid;
  }

  /** Removes retired keys retired before `before` (all retired keys when omitted): their tokens stop working. */
  async dropRetired(before?: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const { record } of this.keys.values()) {
      if (record.retiredAt === null) continue;
      if (before && record.retiredAt >= before.toISOString()) continue;
      await this.meta.delete(record.kid);
      dropped.push(record.kid);
    }
    await this.reload();
    return dropped;
  }

  /** Public keys with their state, for the API. */
  list(): { kid: string; createdAt: string; retiredAt: string | null; jwk: JWK }[] {
    return [...this.keys.values()].map(({ record }) => ({
      kid: record.kid,
      createdAt: record.createdAt,
      retiredAt: record.retiredAt,
      jwk: JSON.parse(record.publicJwk) as JWK,
    }));
  }

  private async reload(): Promise<void> {
    this.lastReload = Date.now();
    const records = await this.meta.list();
    const keys = new Map<string, LoadedKey>();
    let signing: LoadedKey | undefined;
    for (const record of records) {
      const loaded: LoadedKey =
        this.keys.get(record.kid)?.record.retiredAt === record.retiredAt
          ? (this.keys.get(record.kid) as LoadedKey)
          : {
              record,
              privateKey: (await importJWK(
                JSON.parse(this.box.open(record.privateJwk, `token signing key ${record.kid}`)) as JWK,
                'ES256',
              )) as CryptoKey,
              publicKey: (await importJWK(JSON.parse(record.publicJwk) as JWK, 'ES256')) as CryptoKey,
            };
      keys.set(record.kid, loaded);
      if (record.retiredAt === null) signing = loaded;
    }
    this.keys = keys;
    this.signing = signing;
  }
}

/** A fresh random id for a JWT (`jti`). */
export function tokenId(): string {
  return randomUUID();
}
