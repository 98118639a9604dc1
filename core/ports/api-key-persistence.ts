import { z } from 'zod';
/**
 * Where API keys (and the per-role tile layouts of the operations page) are kept: the embedded SQLite
 * file or a PostgreSQL database shared by several nodes. Both pass the contract suite in test/contracts/api-key-store.contract.ts. Only salted hashes are
 * stored; verification and its cache live above, in ApiKeyStore.
 *
 * Errors: `insert` of an id already stored rejects with CityError API_CONFLICT, whatever the backend.
 */
export interface ApiKeyRow {
  id: string;
  name: string;
  /** 'viewer' | 'operator' | 'analyst' | 'admin' (checked by the backend) */
  role: string;
  keyHash: string;
  /** epoch ms */
  createdAt: number;
  /** epoch ms, null while the key is valid */
  revokedAt: number | null;
}

export type RevokeOutcome =
  | { outcome: 'revoked'; row: ApiKeyRow }
  /** no such key, or already revoked */
  | { outcome: 'not-found' }
  /** it is the last valid admin key: revoking it would lock everyone out of key and device management */
  | { outcome: 'last-admin' };

/**
 * The KPI tiles one role sees on the overview, in order, as an admin saved them. Kept beside the keys: a
 * layout belongs to a role, and roles are what this store knows.
 */
/** A layout's codes as stored (JSON), checked when read back. */
export const tileCodesSchema = z.array(z.string());

export interface TileLayoutRow {
  /** 'viewer' | 'operator' | 'analyst' | 'admin' (checked by the backend) */
  role: string;
  /** official KPI codes, in tile order */
  codes: string[];
  /** who saved it: key name and id */
  updatedBy: string;
  /** epoch ms */
  updatedAt: number;
}

export interface ApiKeyPersistence {
  readonly location: string;
  get(id: string): Promise<ApiKeyRow | undefined>;
  /** Every key, oldest first (ties by id). */
  list(): Promise<ApiKeyRow[]>;
  /** True when some admin key is not revoked. */
  hasValidAdmin(): Promise<boolean>;
  insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void>;
  /** Creates key `id` as a valid admin key, or gives the existing one this hash, the admin role and validity. */
  putAdmin(id: string, keyHash: string, createdAt: number): Promise<void>;
  /**
   * Revokes a valid key at `at`. The last-admin rule is decided atomically with the write, so two nodes
   * revoking two admin keys at once cannot leave none.
   */
  revoke(id: string, at: number): Promise<RevokeOutcome>;
  /**
   * Only for stores shared by several nodes: calls `listener` with the id of a key another node revoked or
   * re-hashed, within about a second of its commit, and with null after a lost connection to the change
   * feed (anything may have changed). Returns the unsubscribe function.
   */
  watch?(listener: (keyId: string | null) => void): () => void;
  /** The role's saved tile layout, or undefined when none was saved. */
  getTileLayout(role: string): Promise<TileLayoutRow | undefined>;
  /** Saves (replaces) the role's tile layout. */
  putTileLayout(row: TileLayoutRow): Promise<void>;
  /** Removes the role's layout (back to the default); true when there was one. */
  deleteTileLayout(role: string): Promise<boolean>;
  close(): Promise<void>;
}
