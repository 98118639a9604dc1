/**
 * Where API keys are kept: the embedded SQLite file or a PostgreSQL database shared by several nodes.
 * Both pass the contract suite in test/contracts/api-key-store.contract.ts. Only salted hashes are
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
  close(): Promise<void>;
}
