/**
 * Secrets at rest (token signing keys, upstream passwords): AES-256-GCM under one key from
 * GANTRY_SECRET_KEY or a key file. A stored value is `enc:v1:` + base64(iv | tag | ciphertext);
 * anything without that prefix is plaintext written by an older instance, read as is and
 * re-encrypted at start-up by its owner. Every node of a cluster must use the same key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/config.ts';
import type { Logger } from '../config/logger.ts';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/**
 * Encrypted data that the configured key does not open: wrong key, or damaged data. A
 * configuration error: `gantry serve` stops with the message, no stack.
 */
export class SecretKeyMismatch extends ConfigError {}

export class SecretBox {
  readonly #key: Buffer;

  /** `source` names where the key came from, for the message when it does not fit. */
  constructor(
    key: Buffer,
    readonly source = 'the configured secret key',
  ) {
    if (key.length !== KEY_BYTES)
      throw new TypeError(`a secret key has ${KEY_BYTES} bytes, not ${key.length}`);
    this.#key = Buffer.from(key);
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plaintext; values stored before encryption existed come back unchanged. `what` names it in errors. */
  open(stored: string, what: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretKeyMismatch(
        `${what} was encrypted with another key than ${this.source}; start Gantry with the key this data was written with (GANTRY_SECRET_KEY or GANTRY_SECRET_KEY_FILE; every node needs the same one)`,
      );
    }
  }
}

/**
 * The key: GANTRY_SECRET_KEY when set, else the key file (default `<data>/secret.key`), created
 * with mode 0600 on first start. A key file readable by others is narrowed to 0600, with a
 * warning. A file that holds no 32-byte base64 key stops the start: replacing it silently would
 * make every stored secret unreadable.
 */
export async function loadSecretBox(options: {
  secretKey?: string | undefined;
  secretKeyFile?: string | undefined;
  data: string;
  log: Logger;
}): Promise<SecretBox> {
  if (options.secretKey) return new SecretBox(Buffer.from(options.secretKey, 'base64'), 'GANTRY_SECRET_KEY');
  const file = options.secretKeyFile ?? join(options.data, 'secret.key');
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read the secret key file ${file}: ${(e as Error).message}`);
    }
  }
  if (text === undefined) {
    const key = randomBytes(KEY_BYTES);
    // 'wx': two processes starting at once must not each write a different key.
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    options.log.info({ file }, 'generated the key that encrypts secrets at rest; back it up with the data');
    return new SecretBox(key, `the key file ${file}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new ConfigError(
      `the secret key file ${file} does not hold a ${KEY_BYTES}-byte base64 key; restore the original file (secrets stored with it cannot be read without it)`,
    );
  }
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    options.log.warn(
      { path: file, mode: mode.toString(8) },
      'secret key file was readable by others; set to 0600',
    );
    await chmod(file, 0o600);
  }
  return new SecretBox(key, `the key file ${file}`);
}
