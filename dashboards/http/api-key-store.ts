import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { decoyHash, generateSecret, hashSecret, verifySecret } from '../../core/secret-hash.ts';
import { openCitymetricsDb } from '../../core/sqlite-file.ts';
import { isRole, type Principal, type Role } from './roles.ts';

/**
 * API keys in `<dataDir>/access.db`, stored only as salted scrypt hashes.
 *
 * A key reads `cmk_<id>_<secret>`: the id finds the row without scanning, the scrypt hash of the whole key
 * proves it. scrypt is deliberately slow (~50 ms), so keys already verified are cached in a bounded LRU keyed
 * by the SHA-256 of the key (the key itself is never kept in memory longer than a request); revoking a key
 * purges its entries at once. A configured admin token (ADMIN_TOKEN) may have any form: a token that does not
 * name a known id is tried against the `admin` row.
 */

/** 'CMAK': citymetrics access keys. */
export const ACCESS_APPLICATION_ID = 0x434d414b;
export const ACCESS_SCHEMA_VERSION = 1;
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

export interface ApiKeyStoreOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** scrypt N; lower it only in tests. Default: core/secret-hash.ts's default. */
  hashCost?: number;
  /** Verified keys kept in memory. Default 1 000. */
  cacheSize?: number;
}

interface KeyRow {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export class ApiKeyStore {
  private readonly cache = new Map<string, Principal>();
  private readonly inflight = new Map<string, Promise<Principal | null>>();
  private readonly revokedListeners = new Set<(keyId: string) => void>();
  private readonly decoy: string;

  private constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly hashCost: number | undefined,
    private readonly cacheSize: number,
  ) {
    this.decoy = decoyHash(hashCost === undefined ? {} : { cost: hashCost });
  }

  static open(options: ApiKeyStoreOptions): ApiKeyStore {
    const file = join(options.dataDir, 'access.db');
    const db = openAccessDb(file);
    return new ApiKeyStore(
      db,
      options.clock,
      options.logger.child({ component: 'api-keys' }),
      options.hashCost,
      options.cacheSize ?? 1_000,
    );
  }

  /**
   * Makes sure an admin can sign in. With a configured token it is (re-)registered as key `admin`; without,
   * if no valid admin key exists, one is generated and returned ONCE for the caller to print.
   */
  async ensureAdmin(configuredToken?: string): Promise<{ created: boolean; token?: string }> {
    const row = this.row(ADMIN_KEY_ID);
    if (configuredToken !== undefined) {
      if (
        row &&
        row.revoked_at === null &&
        row.role === 'admin' &&
        (await verifySecret(configuredToken, row.key_hash))
      )
        return { created: false };
      await this.putAdmin(configuredToken);
      this.logger.info('configured admin token registered');
      return { created: true };
    }
    const anyAdmin = this.db
      .prepare("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1")
      .get();
    if (anyAdmin) return { created: false };
    const token = `${KEY_PREFIX}${ADMIN_KEY_ID}_${generateSecret()}`;
    await this.putAdmin(token);
    this.logger.info('admin key generated');
    return { created: true, token };
  }

  /** Creates a key; the token is returned here only, never again. */
  async create(input: { name: string; role: Role }): Promise<{ key: ApiKeyInfo; token: string }> {
    const id = randomBytes(6).toString('hex');
    const token = `${KEY_PREFIX}${id}_${generateSecret()}`;
    const hash = await this.hash(token);
    const createdAt = this.clock.now();
    this.db
      .prepare('INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, input.name, input.role, hash, createdAt);
    this.logger.info({ keyId: id, role: input.role }, 'api key created');
    return { key: { id, name: input.name, role: input.role, createdAt, revokedAt: null }, token };
  }

  list(): ApiKeyInfo[] {
    const rows = this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[];
    return rows.map(toInfo);
  }

  /** Revokes at once: cached verifications are dropped and live connections told to close. */
  revoke(id: string): ApiKeyInfo {
    const row = this.row(id);
    if (!row || row.revoked_at !== null) throw new CityError('API_NOT_FOUND', `no active API key ${id}`);
    if (row.role === 'admin') {
      const admins = this.db
        .prepare("SELECT COUNT(*) AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
        .get() as { n: number };
      // Revoking the last admin key would lock everyone out of key and device management.
      if (admins.n <= 1) throw new CityError('API_CONFLICT', 'the last admin key cannot be revoked');
    }
    const revokedAt = this.clock.now();
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(revokedAt, id);
    this.forget(id);
    this.logger.info({ keyId: id }, 'api key revoked');
    for (const listener of this.revokedListeners) listener(id);
    return toInfo({ ...row, revoked_at: revokedAt });
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

  close(): void {
    this.cache.clear();
    this.db.close();
  }

  private async verify(token: string, digest: string): Promise<Principal | null> {
    const id = idOf(token);
    let row = id === null ? undefined : this.row(id);
    if (!row) row = this.row(ADMIN_KEY_ID);
    // Unknown ids cost one scrypt too, so timing does not tell which ids exist.
    const ok = await verifySecret(token, row && row.revoked_at === null ? row.key_hash : this.decoy);
    if (!ok || !row) return null;
    // Re-read after the await: a key revoked while we hashed must not be cached as valid.
    const fresh = this.row(row.id);
    if (!fresh || fresh.revoked_at !== null || fresh.key_hash !== row.key_hash || !isRole(fresh.role))
      return null;
    const principal: Principal = { keyId: fresh.id, name: fresh.name, role: fresh.role };
    this.cache.set(digest, principal);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return principal;
  }

  private async putAdmin(token: string): Promise<void> {
    const hash = await this.hash(token);
    this.db
      .prepare(
        `INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES (?, 'admin', 'admin', ?, ?)
         ON CONFLICT (id) DO UPDATE SET role = 'admin', key_hash = excluded.key_hash, revoked_at = NULL`,
      )
      .run(ADMIN_KEY_ID, hash, this.clock.now());
    this.forget(ADMIN_KEY_ID);
  }

  private forget(keyId: string): void {
    for (const [digest, principal] of this.cache) if (principal.keyId === keyId) this.cache.delete(digest);
  }

  private hash(token: string): Promise<string> {
    return hashSecret(token, this.hashCost === undefined ? {} : { cost: this.hashCost });
  }

  private row(id: string): KeyRow | undefined {
    return this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
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

const toInfo = (row: KeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  role: isRole(row.role) ? row.role : 'viewer',
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/**
 * Opens (or creates) the access database. A file that is not SQLite, SQLite that is not ours, or ours from a
 * newer version stops the platform with STORE_CORRUPT: silently re-creating it would drop every key.
 */
function openAccessDb(file: string): Database.Database {
  return openCitymetricsDb({
    file,
    what: 'access database',
    applicationId: ACCESS_APPLICATION_ID,
    schemaVersion: ACCESS_SCHEMA_VERSION,
    migrate(db) {
      db.exec(`
        CREATE TABLE api_keys (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
          key_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        ) STRICT;
      `);
    },
  });
}
