import type { ApiTokenRecord } from '../../../../src/meta/identity-records.ts';

export interface User {
  name: string;
  email: string;
  admin: boolean;
  disabled: boolean;
  robot: boolean;
  groups: string[];
  createdAt: string;
}
export interface Group {
  name: string;
  description: string;
  members: string[];
}
export interface Target {
  name: string;
  description: string;
  repositories: { include: string[]; exclude: string[] };
  images: { include: string[]; exclude: string[] };
  users: Record<string, string[]>;
  groups: Record<string, string[]>;
  anonymous: string[];
}
/** An API token as the server shows it: everything but the hash of its secret. */
export type Token = Omit<ApiTokenRecord, 'secretHash'>;
export interface AuditEvent {
  id?: number;
  at: string;
  actor: string;
  action: string;
  repository: string | null;
  target: string;
  outcome: string;
  address: string | null;
  detail: Record<string, unknown> | null;
}

export const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
