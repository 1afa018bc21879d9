import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest, notFound } from '../domain/errors.ts';
import type { ApiTokenRecord } from '../meta/identity-records.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { actionList, expiryDays, objectBody, optionalString, stringList } from './identity-input.ts';
import type { IdentityService } from './identity-service.ts';

/** Every token value starts with this, so scanners and people recognise one. */
export const TOKEN_PREFIX = 'gat_';
const VALUE = /^gat_([a-z0-9]{16})_([A-Za-z0-9_-]{32})$/;
/** Last-use times are written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

/**
 * API tokens for CI and robot accounts: `gat_<id>_<secret>`. Only sha256 of the secret is
 * stored (the secret is 24 random bytes: a slow hash adds nothing), the value is returned once
 * at creation. Tokens are held in memory for the hot path; the comparison is constant-time.
 */
export class ApiTokens {
  private tokens = new Map<string, ApiTokenRecord>();
  private touched = new Map<string, number>();
  /** Grows with every revocation or removal, so caches of token-derived principals notice. */
  version = 0;

  constructor(
    private readonly meta: MetadataStore,
    private readonly identity: IdentityService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async init(): Promise<void> {
    this.tokens = new Map((await this.meta.apiTokens.list()).map((t) => [t.id, t]));
  }

  list(owner?: string): ApiTokenRecord[] {
    return [...this.tokens.values()].filter((t) => owner === undefined || t.owner === owner);
  }

  get(id: string): ApiTokenRecord | undefined {
    return this.tokens.get(id);
  }

  /** Creates a token acting as `owner`; returns the record and the value (shown once). */
  async create(owner: string, body: unknown): Promise<{ record: ApiTokenRecord; value: string }> {
    const input = objectBody(body, '{"name": "ci-main", "targets": ["development"], "expiresInDays": 90}');
    const name = optionalString(input, 'name');
    if (!name || name.length > 128)
      throw badRequest('name must be 1-128 characters that say what the token is for');
    const ownerRecord = this.identity.user(owner);
    if (!ownerRecord) throw badRequest(`user ${owner} does not exist`);
    const targets = input.targets === undefined ? null : stringList(input.targets, 'targets');
    const unknown = (targets ?? []).filter((t) => !this.identity.target(t));
    if (unknown.length > 0) throw badRequest(`no such permission targets: ${unknown.join(', ')}`);
    const actions = input.actions === undefined ? null : actionList(input.actions, 'actions');
    const days = expiryDays(input.expiresInDays);
    const at = this.now();
    const id = randomBytes(10).toString('hex').slice(0, 16);
    const secret = randomBytes(24).toString('base64url');
    const record: ApiTokenRecord = {
      id,
      name,
      owner,
      ownerId: ownerRecord.id,
      secretHash: sha256(secret),
      targets,
      actions,
      expiresAt: days === 0 ? null : new Date(at.getTime() + days * 86_400_000).toISOString(),
      createdAt: at.toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.meta.apiTokens.create(record);
    this.tokens.set(id, record);
    return { record, value: `${TOKEN_PREFIX}${id}_${secret}` };
  }

  async revoke(id: string): Promise<ApiTokenRecord> {
    const record = this.tokens.get(id);
    if (!record) throw notFound(`API token ${id} does not exist`);
    if (record.revokedAt !== null) return record;
    const at = this.now().toISOString();
    await this.meta.apiTokens.revoke(id, at);
    const revoked = { ...record, revokedAt: at };
    this.tokens.set(id, revoked);
    this.version++;
    return revoked;
  }

  /** Forgets the tokens of a deleted user (the store removed them). */
  dropOwner(owner: string): void {
    for (const [id, t] of this.tokens) if (t.owner === owner) this.tokens.delete(id);
    this.version++;
  }

  /**
   * The token a value stands for, when it is valid now: known, secret matches, not revoked,
   * not expired, owner enabled. Otherwise the reason, in words for the caller.
   */
  verify(value: string): { token: ApiTokenRecord } | { problem: string } {
    const m = VALUE.exec(value);
    if (!m) return { problem: 'malformed API token' };
    const token = this.tokens.get(m[1] as string);
    const given = Buffer.from(sha256(m[2] as string), 'hex');
    const stored = Buffer.from(token?.secretHash ?? '0'.repeat(64), 'hex');
    if (!token || !timingSafeEqual(given, stored)) return { problem: 'unknown API token' };
    if (token.revokedAt !== null) return { problem: `API token ${token.name} was revoked` };
    const now = this.now();
    if (token.expiresAt !== null && token.expiresAt <= now.toISOString()) {
      return { problem: `API token ${token.name} expired at ${token.expiresAt}` };
    }
    // Bound to the owner's id: after the owner was deleted (the token row goes with it, but
    // another node may still hold it in memory) a new user of that name does not inherit it.
    const owner = this.identity.userWithId(token.owner, token.ownerId);
    if (!owner) return { problem: `the owner of API token ${token.name} no longer exists` };
    if (owner.disabled) return { problem: `the owner of API token ${token.name} is disabled` };
    this.touch(token, now);
    return { token };
  }

  /** Whether a token id (from a registry token's `tid`) is still usable. */
  isLive(id: string): boolean {
    const t = this.tokens.get(id);
    return (
      t !== undefined &&
      this.identity.userWithId(t.owner, t.ownerId) !== undefined &&
      t.revokedAt === null &&
      (t.expiresAt === null || t.expiresAt > this.now().toISOString())
    );
  }

  private touch(token: ApiTokenRecord, now: Date): void {
    const last = this.touched.get(token.id) ?? 0;
    if (now.getTime() - last < TOUCH_EVERY_MS) return;
    this.touched.set(token.id, now.getTime());
    const at = now.toISOString();
    this.tokens.set(token.id, { ...token, lastUsedAt: at });
    void this.meta.apiTokens.touch(token.id, at).catch(() => undefined);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
