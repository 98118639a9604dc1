import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { CityError } from '../../core/errors.ts';
import { checkedJson } from '../../core/json-column.ts';
import type { Logger } from '../../core/logger.ts';
import { PgChangeFeed } from '../../core/pg-change-feed.ts';
import { isPgUniqueViolation, type PgComponentSchema } from '../../core/pg-component-schema.ts';
import { openPgPart } from '../../core/pg-part.ts';
import { handlePoolErrors } from '../../core/pg-pool-errors.ts';
import {
  type ApiKeyPersistence,
  type ApiKeyRow,
  type RevokeOutcome,
  type TileLayoutRow,
  tileCodesSchema,
} from '../../core/ports/api-key-persistence.ts';

export const PG_ACCESS_SCHEMA_VERSION = 2;
/** Where nodes announce a key revoked or re-hashed: `<origin>:<key id>`. */
export const PG_ACCESS_CHANNEL = 'citymetrics_api_keys';

/** The KPI tiles each role sees on the overview, in order (schema version 2). */
const TILE_LAYOUTS_DDL = `
    CREATE TABLE tile_layouts (
      role text PRIMARY KEY CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
      codes jsonb NOT NULL,
      updated_by text NOT NULL,
      updated_at bigint NOT NULL
    );`;

const SCHEMA: PgComponentSchema = {
  what: 'access keys',
  versionTable: 'citymetrics_access_schema',
  version: PG_ACCESS_SCHEMA_VERSION,
  tables: ['api_keys', 'tile_layouts'],
  lock: 0x434d414b,
  ddl: `
    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
      key_hash text NOT NULL,
      created_at bigint NOT NULL,
      revoked_at bigint
    );
    ${TILE_LAYOUTS_DDL}`,
  migrations: { 1: TILE_LAYOUTS_DDL },
};

export interface PostgresApiKeyStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  logger: Logger;
  /** Connections in the pool (default 2); the change feed takes one more. */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

interface KeyRow {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toRow = (r: KeyRow): ApiKeyRow => ({
  id: r.id,
  name: r.name,
  role: r.role,
  keyHash: r.key_hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/**
 * API keys in PostgreSQL, shared by several nodes. A revocation or a new admin hash is announced on
 * PG_ACCESS_CHANNEL in the same transaction as the write (tagged with this store's origin, which it
 * ignores), so the other nodes drop their cached verifications of the key at once. New keys need no
 * announcement: an unknown key is always read from the database.
 */
export class PostgresApiKeyStore implements ApiKeyPersistence {
  readonly location: string;
  private readonly origin = randomBytes(6).toString('hex');
  private readonly writes = new Set<Promise<unknown>>();
  private listener: ((keyId: string | null) => void) | null = null;
  private feed: PgChangeFeed | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    database: string,
  ) {
    this.location = `postgres:${database}`;
    handlePoolErrors(pool, (err) => this.log.warn({ err: err.message }, 'PostgreSQL connection lost'));
  }

  /** Connects, creates or checks the schema (STORE_CORRUPT for another version), starts the change feed. */
  static async open(opts: PostgresApiKeyStoreOptions): Promise<PostgresApiKeyStore> {
    const log = opts.logger.child({ component: 'api-key-store', store: 'postgres' });
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-api-keys' },
      (pool, database) => new PostgresApiKeyStore(pool, log, database),
      async (store) => {
        store.feed = await PgChangeFeed.start({
          url: opts.url,
          channel: PG_ACCESS_CHANNEL,
          logger: log,
          connectTimeoutMs: opts.connectTimeoutMs,
          onMessage: (payload) => store.announced(payload),
          onResync: () => store.listener?.(null),
        });
      },
    );
  }

  async get(id: string): Promise<ApiKeyRow | undefined> {
    const { rows } = await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    return rows[0] && toRow(rows[0]);
  }

  async list(): Promise<ApiKeyRow[]> {
    const { rows } = await this.pool.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toRow);
  }

  async hasValidAdmin(): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1",
    );
    return (rowCount ?? 0) > 0;
  }

  insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void> {
    return this.write(async () => {
      try {
        await this.pool.query(
          'INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)',
          [row.id, row.name, row.role, row.keyHash, row.createdAt],
        );
      } catch (err) {
        if (isPgUniqueViolation(err))
          throw new CityError('API_CONFLICT', `API key ${row.id} already exists`, {
            field: 'id',
            cause: err,
          });
        throw err;
      }
    });
  }

  putAdmin(id: string, keyHash: string, createdAt: number): Promise<void> {
    return this.write(async () => {
      await this.pool.query(
        `WITH w AS (
           INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES ($3, 'admin', 'admin', $4, $5)
           ON CONFLICT (id) DO UPDATE SET role = 'admin', key_hash = excluded.key_hash, revoked_at = NULL
           RETURNING id)
         SELECT pg_notify($1, $2 || ':' || id) FROM w`,
        [PG_ACCESS_CHANNEL, this.origin, id, keyHash, createdAt],
      );
    });
  }

  /**
   * One transaction that first locks the valid admin keys (in id order, so two revocations never
   * deadlock): a concurrent revocation of another admin key waits, then counts one admin fewer.
   */
  revoke(id: string, at: number): Promise<RevokeOutcome> {
    return this.write(async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const admins = await client.query(
          "SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL ORDER BY id FOR UPDATE",
        );
        const found = await client.query<KeyRow>('SELECT * FROM api_keys WHERE id = $1 FOR UPDATE', [id]);
        const row = found.rows[0];
        let out: RevokeOutcome;
        if (!row || row.revoked_at !== null) out = { outcome: 'not-found' };
        else if (row.role === 'admin' && (admins.rowCount ?? 0) <= 1) out = { outcome: 'last-admin' };
        else {
          await client.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2', [at, id]);
          await client.query('SELECT pg_notify($1, $2)', [PG_ACCESS_CHANNEL, `${this.origin}:${id}`]);
          out = { outcome: 'revoked', row: { ...toRow(row), revokedAt: at } };
        }
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  async getTileLayout(role: string): Promise<TileLayoutRow | undefined> {
    const { rows } = await this.pool.query<{
      role: string;
      codes: unknown;
      updated_by: string;
      updated_at: number;
    }>('SELECT * FROM tile_layouts WHERE role = $1', [role]);
    const r = rows[0];
    if (r === undefined) return undefined;
    const corrupt = (detail: string, cause?: unknown) =>
      new CityError('STORE_CORRUPT', `PostgreSQL access records: ${detail}`, { cause });
    const codes = checkedJson(tileCodesSchema, r.codes, `tile layout ${r.role}, codes`, corrupt);
    return { role: r.role, codes, updatedBy: r.updated_by, updatedAt: r.updated_at };
  }

  putTileLayout(row: TileLayoutRow): Promise<void> {
    return this.write(async () => {
      await this.pool.query(
        `INSERT INTO tile_layouts (role, codes, updated_by, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (role) DO UPDATE SET codes = excluded.codes, updated_by = excluded.updated_by,
           updated_at = excluded.updated_at`,
        [row.role, JSON.stringify(row.codes), row.updatedBy, row.updatedAt],
      );
    });
  }

  deleteTileLayout(role: string): Promise<boolean> {
    return this.write(async () => {
      const { rowCount } = await this.pool.query('DELETE FROM tile_layouts WHERE role = $1', [role]);
      return (rowCount ?? 0) > 0;
    });
  }

  watch(listener: (keyId: string | null) => void): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = null;
    };
  }

  /** Waits for the writes in progress, then stops the feed and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener = null;
    await Promise.allSettled([...this.writes]);
    await this.feed?.close();
    await this.pool.end();
  }

  private async write<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the API key store is closed');
    const done = run();
    this.writes.add(done);
    try {
      return await done;
    } finally {
      this.writes.delete(done);
    }
  }

  private announced(payload: string): void {
    const colon = payload.indexOf(':');
    if (colon < 0 || payload.slice(0, colon) === this.origin) return;
    this.listener?.(payload.slice(colon + 1));
  }
}

/** Builds the PostgreSQL key store (connects, checks the schema, listens; reads no environment). */
export const buildPostgresApiKeyStore = (opts: PostgresApiKeyStoreOptions): Promise<PostgresApiKeyStore> =>
  PostgresApiKeyStore.open(opts);
