import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ApiKeyPersistence, ApiKeyRow, TileLayoutRow } from '../../core/ports/api-key-persistence.ts';
import { decoyHash, generateSecret, hashSecret, verifySecret } from '../../core/secret-hash.ts';
import { isRole, type Principal, type Role } from './roles.ts';
import { SqliteApiKeyStore } from './sqlite-api-key-store.ts';

export { ACCESS_APPLICATION_ID, ACCESS_SCHEMA_VERSION } from './sqlite-api-key-store.ts';

/**
 * API keys, stored only as salted scrypt hashes: in `<dataDir>/access.db`, or in PostgreSQL for several
 * nodes (core/ports/api-key-persistence.ts).
 *
 * A key reads `cmk_<id>_<secret>`: the id finds the row without scanning, the scrypt hash of the whole key
 * proves it. scrypt is deliberately slow (~50 ms), so keys already verified are cached in a bounded LRU keyed
 * by the SHA-256 of the key (the key itself is never kept in memory longer than a request); revoking a key
 * purges its entries at once. A configured admin token (ADMIN_TOKEN) may have any form: a token that does not
 * name a known id is tried against the `admin` row.
 *
 * On a store shared by several nodes, a key revoked or re-hashed on another node arrives through the
 * store's change feed: its cached verifications are dropped here too and, when revoked, onRevoked
 * listeners (live connections) are told.
 */

export const ADMIN_KEY_ID = 'admin';
const KEY_PREFIX = 'cmk_';
const KEY_ID = /^[a-z0-9]{1,32}$/;
/** Longer tokens are refused before hashing: scrypt over megabytes of header would be a cheap DoS. */
const MAX_TOKEN_LENGTH = 512;

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  /** epoch ms */
  createdAt: number;
  /** epoch ms, null while the key is valid */
  revokedAt: number | null;
}

/** The key store's options apart from where it is stored (for `openOn`). */
export interface ApiKeyStoreBaseOptions {
  clock: Clock;
  logger: Logger;
  /** scrypt N; lower it only in tests. Default: core/secret-hash.ts's default. */
  hashCost?: number;
  /** Verified keys kept in memory. Default 1 000. */
  cacheSize?: number;
}

export interface ApiKeyStoreOptions extends ApiKeyStoreBaseOptions {
  dataDir: string;
}

export class ApiKeyStore {
  private readonly cache = new Map<string, Principal>();
  private readonly inflight = new Map<string, Promise<Principal | null>>();
  private readonly revokedListeners = new Set<(keyId: string) => void>();
  private readonly decoy: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly hashCost: number | undefined;
  private readonly cacheSize: number;
  private readonly unwatch: (() => void) | null;

  private constructor(
    private readonly store: ApiKeyPersistence,
    options: ApiKeyStoreBaseOptions,
  ) {
    this.clock = options.clock;
    this.logger = options.logger.child({ component: 'api-keys' });
    this.hashCost = options.hashCost;
    this.cacheSize = options.cacheSize ?? 1_000;
    this.decoy = decoyHash(this.hashCost === undefined ? {} : { cost: this.hashCost });
    this.unwatch = store.watch ? store.watch((keyId) => this.changedElsewhere(keyId)) : null;
  }

  /** Opens `<dataDir>/access.db`, synchronously. STORE_CORRUPT if it is damaged, not ours, or newer. */
  static open(options: ApiKeyStoreOptions): ApiKeyStore {
    return new ApiKeyStore(SqliteApiKeyStore.open(options.dataDir), options);
  }

  /** A key store over any persistence (PostgreSQL for cluster mode); it closes the store on close(). */
  static openOn(store: ApiKeyPersistence, options: ApiKeyStoreBaseOptions): ApiKeyStore {
    return new ApiKeyStore(store, options);
  }

  /**
   * Makes sure an admin can sign in. With a configured token it is (re-)registered as key `admin`; without,
   * if no valid admin key exists, one is generated and returned ONCE for the caller to print.
   *
   * `replace: false` (a cluster's api nodes share one key store) refuses a configured token that differs
   * from a valid admin key already there: otherwise each node started with its own token would silently
   * lock out the admins of the nodes started before it.
   */
  async ensureAdmin(
    configuredToken?: string,
    options: { replace?: boolean } = {},
  ): Promise<{ created: boolean; token?: string }> {
    if (configuredToken !== undefined) {
      const row = await this.store.get(ADMIN_KEY_ID);
      const valid = row !== undefined && row.revokedAt === null && row.role === 'admin';
      if (valid && (await verifySecret(configuredToken, row.keyHash))) return { created: false };
      if (valid && options.replace === false)
        throw new CityError(
          'CONFIG_INVALID',
          'ADMIN_TOKEN differs from the admin key the other api nodes registered: give every api node the ' +
            'same ADMIN_TOKEN, or set ADMIN_TOKEN_REPLACE=true on one node to make this token the admin key',
          { field: 'ADMIN_TOKEN' },
        );
      await this.putAdmin(configuredToken);
      this.logger.info('configured admin token registered');
      return { created: true };
    }
    if (await this.store.hasValidAdmin()) return { created: false };
    const token = `${KEY_PREFIX}${ADMIN_KEY_ID}_${generateSecret()}`;
    await this.putAdmin(token);
    this.logger.info('admin key generated');
    return { created: true, token };
  }

  /** Creates a key; the token is returned here only, never again. */
  async create(input: { name: string; role: Role }): Promise<{ key: ApiKeyInfo; token: string }> {
    const id = randomBytes(6).toString('hex');
    const token = `${KEY_PREFIX}${id}_${generateSecret()}`;
    const keyHash = await this.hash(token);
    const createdAt = this.clock.now();
    await this.store.insert({ id, name: input.name, role: input.role, keyHash, createdAt });
    this.logger.info({ keyId: id, role: input.role }, 'api key created');
    return { key: { id, name: input.name, role: input.role, createdAt, revokedAt: null }, token };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.store.list()).map(toInfo);
  }

  /** Revokes at once: cached verifications are dropped and live connections told to close. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    const result = await this.store.revoke(id, this.clock.now());
    if (result.outcome === 'not-found') throw new CityError('API_NOT_FOUND', `no active API key ${id}`);
    // Revoking the last admin key would lock everyone out of key and device management.
    if (result.outcome === 'last-admin')
      throw new CityError('API_CONFLICT', 'the last admin key cannot be revoked');
    this.forget(id);
    this.logger.info({ keyId: id }, 'api key revoked');
    this.emitRevoked(id);
    return toInfo(result.row);
  }

  /** The tile layout saved for a role, or null (the page then shows the default headline tiles). */
  async tileLayout(role: Role): Promise<TileLayoutRow | null> {
    return (await this.store.getTileLayout(role)) ?? null;
  }

  /** Saves a role's tile layout (the route checked the codes and the admin role). */
  async setTileLayout(role: Role, codes: readonly string[], by: { keyId: string; name: string }) {
    const row: TileLayoutRow = {
      role,
      codes: [...codes],
      updatedBy: `${by.name} (${by.keyId})`,
      updatedAt: this.clock.now(),
    };
    await this.store.putTileLayout(row);
    this.logger.info({ role, tiles: codes.length, keyId: by.keyId }, 'tile layout saved');
    return row;
  }

  /** Drops a role's saved layout: it sees the default again. */
  async resetTileLayout(role: Role): Promise<boolean> {
    return this.store.deleteTileLayout(role);
  }

  onRevoked(listener: (keyId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** The principal a token stands for, or null. Never throws on bad input. */
  authenticate(token: unknown): Promise<Principal | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH)
      return Promise.resolve(null);
    const digest = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(digest);
    if (hit) {
      this.cache.delete(digest);
      this.cache.set(digest, hit); // most recently used goes last
      return Promise.resolve(hit);
    }
    // Many requests arriving together with the same new key share one scrypt run.
    let pending = this.inflight.get(digest);
    if (!pending) {
      pending = this.verify(token, digest).finally(() => this.inflight.delete(digest));
      this.inflight.set(digest, pending);
    }
    return pending;
  }

  /** Closes the store; on the SQLite file it is closed when this returns. */
  close(): Promise<void> {
    this.unwatch?.();
    this.cache.clear();
    this.revokedListeners.clear();
    return this.store.close();
  }

  private async verify(token: string, digest: string): Promise<Principal | null> {
    const id = idOf(token);
    let row = id === null ? undefined : await this.store.get(id);
    if (!row) row = await this.store.get(ADMIN_KEY_ID);
    // Unknown ids cost one scrypt too, so timing does not tell which ids exist.
    const ok = await verifySecret(token, row && row.revokedAt === null ? row.keyHash : this.decoy);
    if (!ok || !row) return null;
    // Re-read after the await: a key revoked while we hashed must not be cached as valid.
    const fresh = await this.store.get(row.id);
    if (!fresh || fresh.revokedAt !== null || fresh.keyHash !== row.keyHash || !isRole(fresh.role))
      return null;
    const principal: Principal = { keyId: fresh.id, name: fresh.name, role: fresh.role };
    this.cache.set(digest, principal);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return principal;
  }

  /**
   * Another node revoked or re-hashed `keyId`, or (null) the change feed was cut and anything may have
   * changed. Cached verifications go first, synchronously; listeners are told of keys now revoked.
   */
  private changedElsewhere(keyId: string | null): void {
    if (keyId === null) this.cache.clear();
    else this.forget(keyId);
    const told = keyId === null ? this.store.list() : this.store.get(keyId).then((r) => (r ? [r] : []));
    told.then(
      (rows) => {
        for (const row of rows) if (row.revokedAt !== null) this.emitRevoked(row.id);
      },
      (err: unknown) => this.logger.error({ err, keyId }, 'api key change from another node not read'),
    );
  }

  private emitRevoked(id: string): void {
    for (const listener of [...this.revokedListeners]) {
      try {
        listener(id);
      } catch (err) {
        // One failing listener must not stop the others from closing the key's connections.
        this.logger.error({ err, keyId: id }, 'api key revoked listener threw');
      }
    }
  }

  private async putAdmin(token: string): Promise<void> {
    const hash = await this.hash(token);
    await this.store.putAdmin(ADMIN_KEY_ID, hash, this.clock.now());
    this.forget(ADMIN_KEY_ID);
  }

  private forget(keyId: string): void {
    for (const [digest, principal] of this.cache) if (principal.keyId === keyId) this.cache.delete(digest);
  }

  private hash(token: string): Promise<string> {
    return hashSecret(token, this.hashCost === undefined ? {} : { cost: this.hashCost });
  }
}

/** `cmk_<id>_<secret>` → id, or null when the token has another form. */
function idOf(token: string): string | null {
  if (!token.startsWith(KEY_PREFIX)) return null;
  const end = token.indexOf('_', KEY_PREFIX.length);
  if (end < 0) return null;
  const id = token.slice(KEY_PREFIX.length, end);
  return KEY_ID.test(id) ? id : null;
}

const toInfo = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  role: isRole(row.role) ? row.role : 'viewer',
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});
