import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ProcessServer } from './process-server.ts';

/** Debian's layout: a fresh machine has the binaries here only (no /usr/local/bin links). */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** A real PostgreSQL on 127.0.0.1, its cluster in a directory of the caller's. */
export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth on loopback: no password) */
  readonly url: string;
  readonly port: number;
  readonly pid: number | null;
  readonly running: boolean;
  /** The URL of another database of this server. */
  urlOf(database: string): string;
  /** Runs SQL against one database (the server's `postgres` one by default). */
  query(sql: string, url?: string): Promise<pg.QueryResult>;
  /**
   * Stops the server, keeping its data. SIGINT (the default) is PostgreSQL's fast shutdown: sessions are
   * cut, which is what a client sees when its database goes away. SIGTERM waits for every client to leave.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
}

/** PostgreSQL refuses to run as root: a root process runs it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid))
    throw new Error('running as root and there is no "postgres" user to run PostgreSQL as');
  return { uid, gid };
}

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
 * initdb into `<dir>/data` unless a cluster is already there (a second start keeps its databases), trust
 * auth for local TCP (the server listens on 127.0.0.1 only), then postgres on a free port (or `port`) with
 * its unix socket in `dir`. Durability settings stay at their defaults (fsync on), as in production.
 */
export async function startPostgresServer(options: {
  dir: string;
  binDir?: string;
  port?: number;
  logs?: boolean;
}): Promise<PostgresServer> {
  const { dir } = options;
  const binDir = options.binDir ?? POSTGRES_BIN_DIR;
  const dataDir = join(dir, 'data');
  const user = serverUser();
  mkdirSync(dir, { recursive: true });
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const init = spawnSync(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'],
      { encoding: 'utf8', ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } },
    );
    if (init.status !== 0)
      throw new Error(`initdb failed (${init.status ?? init.signal}):\n${init.stderr}${init.stdout}`);
  }
  const port = options.port ?? (await freePort());
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const url = urlOf('postgres');
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
    ...(options.logs === true ? { logFile: join(dir, 'postgres.log') } : {}),
  });
  await server.start();
  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    get running() {
      return server.running;
    },
    urlOf,
    query: (sql, dbUrl = url) => runSql(dbUrl, sql),
    stop: (signal = 'SIGINT') => server.stop(signal),
    start: () => server.start(),
  };
}
