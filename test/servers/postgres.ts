import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findServerBinary, freePort, ProcessServer } from './process-server.ts';

/** Debian's layout: CI's fresh machine has the binaries here only (no /usr/local/bin links). */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

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

/** PostgreSQL refuses to run as root: a root test process runs it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid))
    throw new Error('running as root and there is no "postgres" user to run PostgreSQL as');
  return { uid, gid };
}

const urlOf = (port: number, database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;

async function runSql(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * initdb into a temp dir (trust auth for local TCP: the server listens on 127.0.0.1 only), then postgres
 * on a free port with its unix socket in the same dir. Durability settings stay at their defaults (fsync
 * on), so the store is tested as it runs in production.
 */
export async function startPostgres(binDir: string = POSTGRES_BIN_DIR): Promise<PostgresTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-postgres-'));
  const dataDir = join(dir, 'data');
  const user = serverUser();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'],
    { encoding: 'utf8', ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}):\n${init.stderr}${init.stdout}`);
  }
  const port = await freePort();
  const url = urlOf(port, 'postgres');
  const server = new ProcessServer({
    name: 'postgres',
    command: join(binDir, 'postgres'),
    args: [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=200',
    ],
    ready: async () => (await runSql(url, 'SELECT 1')).rowCount === 1,
    ...(user ?? {}),
  });
  try {
    await server.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let made = 0;
  const owner = userInfo().username.replace(/\W/g, '_');
  return {
    url,
    port,
    get running() {
      return server.running;
    },
    async createDatabase(name = `t_${owner}_${process.pid}_${++made}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await runSql(url, `CREATE DATABASE ${name}`);
      return urlOf(port, name);
    },
    async dropDatabase(dbUrl) {
      const name = new URL(dbUrl).pathname.slice(1);
      await runSql(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    query: (sql, dbUrl = url) => runSql(dbUrl, sql),
    stop: (signal = 'SIGINT') => server.stop(signal),
    start: () => server.start(),
    destroy: async () => {
      await server.stop('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
