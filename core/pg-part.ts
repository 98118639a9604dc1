import pg from 'pg';
import {
  ensurePgComponentSchema,
  type PgComponentSchema,
  pgDatabaseOf,
  pgNumberTypes,
} from './pg-component-schema.ts';

export interface PgPartOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  schema: PgComponentSchema;
  /** What the part's sessions are called in pg_stat_activity. */
  applicationName: string;
  /** Connections in the pool (default 2). */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

/**
 * Opens one citymetrics part on PostgreSQL (registry, keys, KPI records, device events): its own pool
 * (epoch milliseconds read back as numbers), its schema created or checked (STORE_CORRUPT for another
 * version), then `ready` for what the part starts on top (a change feed). Whatever fails, the pool is
 * ended, so a part that did not open holds no connection.
 */
export async function openPgPart<T>(
  opts: PgPartOptions,
  build: (pool: pg.Pool, database: string) => T,
  ready?: (part: T) => Promise<void>,
): Promise<T> {
  const database = pgDatabaseOf(opts.url);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.maxConnections ?? 2,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    application_name: opts.applicationName,
    types: pgNumberTypes(pg.types),
  });
  // built first: it listens for the pool's errors before any connection is made
  const part = build(pool, database);
  try {
    const client = await pool.connect();
    try {
      await ensurePgComponentSchema(client, database, opts.schema);
    } finally {
      client.release();
    }
    await ready?.(part);
    return part;
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}
