import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import {
  POSTGRES_BIN_DIR,
  type PostgresServer,
  startPostgresServer,
} from '../../cluster/local/postgres-server.ts';
import { findServerBinary } from './process-server.ts';

export { POSTGRES_BIN_DIR };

/** The bin directory, or null (the caller skips) when PostgreSQL 15 is not installed; under CI it throws. */
export function postgresBinDir(): string | null {
  const found = findServerBinary(join(POSTGRES_BIN_DIR, 'postgres'), 'postgresql');
  return found === null ? null : POSTGRES_BIN_DIR;
}

/** A real PostgreSQL on 127.0.0.1, its cluster in a temp dir, for tests. */
export interface PostgresTestServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth: no password) */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** A new empty database; returns its URL. Each contract test gets its own. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database made by createDatabase, closing its sessions first. */
  dropDatabase(url: string): Promise<void>;
  /** Runs SQL against one database (the server's `postgres` one by default). */
  query(sql: string, url?: string): Promise<pg.QueryResult>;
  /**
   * Stops the server, keeping its data. SIGINT (the default) is PostgreSQL's fast shutdown: sessions are
   * cut, which is what a client sees when its database goes away. SIGTERM waits for every client to leave.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster in a temp dir (cluster/local/postgres-server.ts), with a database per test and
 * destroy() removing everything.
 */
export async function startPostgres(binDir: string = POSTGRES_BIN_DIR): Promise<PostgresTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-postgres-'));
  let server: PostgresServer;
  try {
    server = await startPostgresServer({ dir, binDir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let made = 0;
  const owner = userInfo().username.replace(/\W/g, '_');
  return {
    url: server.url,
    port: server.port,
    get running() {
      return server.running;
    },
    async createDatabase(name = `t_${owner}_${process.pid}_${++made}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await server.query(`CREATE DATABASE ${name}`);
      return server.urlOf(name);
    },
    async dropDatabase(dbUrl) {
      const name = new URL(dbUrl).pathname.slice(1);
      await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    query: (sql, dbUrl) => server.query(sql, dbUrl),
    stop: (signal = 'SIGINT') => server.stop(signal),
    start: () => server.start(),
    destroy: async () => {
      await server.stop('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
