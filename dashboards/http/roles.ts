/**
 * API key roles, each including the rights of those before it:
 * viewer reads, operator runs day-to-day operations, analyst enters manual values and closes months,
 * admin manages devices and keys.
 */
export const ROLES = ['viewer', 'operator', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const rank: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, analyst: 2, admin: 3 };

export const roleAtLeast = (held: Role, needed: Role): boolean => rank[held] >= rank[needed];

export const isRole = (value: unknown): value is Role => typeof value === 'string' && value in rank;

/** Who made a request: the key's id and role (never the key itself). */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
}
