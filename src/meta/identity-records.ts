/**
 * Records of identity and access: users, groups, permission targets, API tokens, the keys that
 * sign registry tokens, and the audit log. Pure data; src/auth gives them meaning.
 */

/** What a permission grants on a repository (and, optionally, images inside it). */
export const ACTIONS = ['read', 'annotate', 'deploy', 'delete', 'promote', 'publish', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];

export interface UserRecord {
  /**
   * Immutable random id, assigned at creation and never reused. Everything issued to a user
   * (sessions, registry and refresh tokens, API tokens, cached password checks, build records)
   * is bound to it, so a user deleted and created again under the same name starts with nothing.
   */
  id: string;
  name: string;
  email: string;
  /** argon2id PHC string; null for robot accounts, which authenticate with API tokens only. */
  passwordHash: string | null;
  admin: boolean;
  disabled: boolean;
  /**
   * Bumped whenever the password changes or the account is disabled: refresh tokens carry the
   * generation they were issued under and stop working when it moves on.
   */
  generation: number;
  createdAt: string;
  updatedAt: string;
}

export interface GroupRecord {
  name: string;
  description: string;
  /** User names, sorted. */
  members: string[];
  createdAt: string;
}

/** Include/exclude glob patterns (`*` matches any run of characters, `?` one). */
export interface PatternSet {
  include: string[];
  exclude: string[];
}

/** Who gets which actions through one permission target. */
export interface Grants {
  users: Record<string, Action[]>;
  groups: Record<string, Action[]>;
  /** Actions granted to callers who did not authenticate; empty = none. */
  anonymous: Action[];
}

export interface PermissionTargetRecord {
  name: string;
  description: string;
  /** Repository keys the target covers. */
  repositories: PatternSet;
  /** Image names inside those repositories; `include: ['*']` (or `**`) covers all of them. */
  images: PatternSet;
  grants: Grants;
  createdAt: string;
  updatedAt: string;
}

export interface ApiTokenRecord {
  /** Public identifier, part of the token value (`gat_<id>_<secret>`). */
  id: string;
  name: string;
  /** The user the token acts as. */
  owner: string;
  /** That user's id: the token is dead once no user with this id exists. */
  ownerId: string;
  /** sha256 of the secret part, hex. The secret itself is never stored. */
  secretHash: string;
  /** When set, only grants coming from these permission targets count. */
  targets: string[] | null;
  /** When set, only these actions (of what the owner has). */
  actions: Action[] | null;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface SigningKeyRecord {
  /** Key id in the JWT header: the JWK thumbprint. */
  kid: string;
  /** JWK, JSON text. */
  privateJwk: string;
  publicJwk: string;
  createdAt: string;
  /** From this time the key signs nothing new; it still verifies tokens until it is deleted. */
  retiredAt: string | null;
}

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditEvent {
  /** Assigned by the store, increasing in insertion order. */
  id?: number;
  at: string;
  /** User name, `anonymous`, or `token:<id>` style identities chosen by src/auth. */
  actor: string;
  /** Dotted verb, e.g. `manifest.push`, `tag.move`, `user.create`, `login.failure`. */
  action: string;
  repository: string | null;
  /** What the action was on: `team/app:1.0`, a user name, a permission target name, … */
  target: string;
  outcome: AuditOutcome;
  /** Client address as the server saw it (after trusted proxies). */
  address: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  actor?: string;
  repository?: string;
  /** Exact action, or a prefix ending in `.` (`user.` matches every user action). */
  action?: string;
  outcome?: AuditOutcome;
  /** ISO timestamps, inclusive `since`, exclusive `until`. */
  since?: string;
  until?: string;
  /** Only events with an id below this (paging newest first). */
  beforeId?: number;
  /** At most this many, newest first. */
  limit: number;
}
