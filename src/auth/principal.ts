import type { Action } from '../meta/identity-records.ts';

/** One `repository:<name>:<actions>` entry of a registry token's `access` claim. */
export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

/** Who is calling, as established by src/auth/authenticator.ts. */
export interface Principal {
  /** User name; 'anonymous' when nobody authenticated. */
  name: string;
  /** The user's immutable id (UserRecord.id); absent for anonymous callers. */
  id?: string;
  authenticated: boolean;
  admin: boolean;
  groups: readonly string[];
  /** How the caller proved who they are. */
  via: 'none' | 'basic' | 'bearer' | 'api-token' | 'session';
  /** The API token acted through, with its restrictions. */
  token?: { id: string; name: string; targets: readonly string[] | null; actions: readonly Action[] | null };
  /** A registry token's `access` claim: the most it may do, whatever the user could. */
  access?: readonly RegistryAccess[];
}

export const ANONYMOUS: Principal = Object.freeze({
  name: 'anonymous',
  authenticated: false,
  admin: false,
  groups: [],
  via: 'none',
});
