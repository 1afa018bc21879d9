import type {
  ApiTokenRecord,
  AuditEvent,
  AuditQuery,
  GroupRecord,
  PermissionTargetRecord,
  SigningKeyRecord,
  UserRecord,
} from './identity-records.ts';

/**
 * The identity part of the MetadataStore port. Same guarantees as the rest of it: each method
 * is one transaction; absence is `undefined`/`false`; a duplicate name throws
 * MetaConflictError; lists are in byte order of their name (audit: newest first).
 */

export interface UserMeta {
  create(record: UserRecord): Promise<void>;
  get(name: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Replaces the given fields; false when absent. */
  update(
    name: string,
    changes: Partial<
      Pick<UserRecord, 'email' | 'passwordHash' | 'admin' | 'disabled' | 'generation' | 'updatedAt'>
    >,
  ): Promise<boolean>;
  /** Removes the user, its group memberships, its grants in permission targets and its API tokens. */
  delete(name: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface GroupMeta {
  /** Members that are not users are refused with UnknownPrincipalError, and nothing is stored. */
  create(record: GroupRecord): Promise<void>;
  get(name: string): Promise<GroupRecord | undefined>;
  list(): Promise<GroupRecord[]>;
  /** Replaces description and/or the whole member list; false when absent. UnknownPrincipalError as on create. */
  update(name: string, changes: { description?: string; members?: string[] }): Promise<boolean>;
  /** Removes the group, its memberships and its grants in permission targets. */
  delete(name: string): Promise<boolean>;
}

export interface PermissionTargetMeta {
  /**
   * Grants to users or groups that do not exist are refused with UnknownPrincipalError, and
   * nothing is stored.
   */
  create(record: PermissionTargetRecord): Promise<void>;
  get(name: string): Promise<PermissionTargetRecord | undefined>;
  list(): Promise<PermissionTargetRecord[]>;
  /** Replaces everything but name and createdAt; false when absent. UnknownPrincipalError as on create. */
  replace(record: PermissionTargetRecord): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface ApiTokenMeta {
  /** UnknownPrincipalError when the owner is not a user. */
  create(record: ApiTokenRecord): Promise<void>;
  get(id: string): Promise<ApiTokenRecord | undefined>;
  /** Every token, or those of one owner; sorted by id. Revoked tokens are listed too. */
  list(owner?: string): Promise<ApiTokenRecord[]>;
  /** Sets revokedAt unless already revoked; false when absent or already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Records use; cheap, may be called often. */
  touch(id: string, at: string): Promise<void>;
}

export interface SigningKeyMeta {
  add(record: SigningKeyRecord): Promise<void>;
  /** Oldest first. */
  list(): Promise<SigningKeyRecord[]>;
  /** Sets retiredAt of every key not retired yet except `except`. */
  retireAllBut(except: string, at: string): Promise<void>;
  delete(kid: string): Promise<boolean>;
  /** Replaces the stored private key text of `kid` (re-encrypting it); the key itself is unchanged. */
  replacePrivateJwk(kid: string, privateJwk: string): Promise<void>;
}

export interface AuditMeta {
  /** Appends events in order, in one transaction. */
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first, filtered; every field of the query narrows. */
  query(query: AuditQuery): Promise<AuditEvent[]>;
}

/** A group member, token owner or grant principal that does not exist. */
export class UnknownPrincipalError extends Error {
  override readonly name = 'UnknownPrincipalError';
  constructor(
    readonly kind: 'user' | 'group',
    readonly principal: string,
  ) {
    super(`${kind} ${principal} does not exist`);
  }
}

/**
 * Web UI sessions ended by signing out before they expired. A session is otherwise stateless (a
 * signed cookie); this list is what makes signing out end it on every node. Rows can go once
 * their session would have expired anyway.
 */
export interface EndedSessionMeta {
  /** Records the end; ending an ended session again changes nothing. */
  end(id: string, expiresAt: string): Promise<void>;
  isEnded(id: string): Promise<boolean>;
  /** Forgets sessions that expired before `now`; returns how many. */
  purgeExpired(now: string): Promise<number>;
}
