import { connect, Events, type NatsConnection } from 'nats';
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { handlePoolErrors } from '../core/pg-pool-errors.ts';
import { parseNatsServers } from './nats-servers.ts';

/** How long the first connection to NATS or PostgreSQL may take before the start fails (ms). */
const CONNECT_TIMEOUT_MS = 5_000;
/** How often the PostgreSQL probe asks `SELECT 1` (ms): what /readyz reports in between. */
const PG_PROBE_INTERVAL_MS = 2_000;

/** Where a URL points, without its password: for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** An open NATS connection and whether it is connected now (it reconnects by itself, for ever). */
export interface NatsLink {
  readonly nc: NatsConnection;
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Connects to the servers of NATS_URL. The first connection must succeed, or the start fails with
 * retryable INGEST_LOG_UNAVAILABLE naming NATS_URL; afterwards a lost server is reconnected to (or another
 * of the list), and `connected()` says false meanwhile.
 */
export async function openNatsLink(config: Config, logger: Logger, name: string): Promise<NatsLink> {
  const { servers, shown, ...auth } = parseNatsServers(config.natsUrl ?? '');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      ...auth,
      name,
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'AUTHORIZATION_VIOLATION')
      throw new CityError(
        'CONFIG_INVALID',
        `NATS_URL ${shown}: NATS refused ${auth.user !== undefined || auth.token !== undefined ? 'the credentials' : 'a connection without credentials'}: put the user and password (or token) the servers expect in NATS_URL, nats://user:password@host:4222`,
        { field: 'NATS_URL', cause: err },
      );
    throw new CityError(
      'INGEST_LOG_UNAVAILABLE',
      `NATS_URL ${shown}: cannot connect (${(err as Error).message}): start nats-server with JetStream (nats-server -js) or set NATS_URL to reachable servers`,
      { field: 'NATS_URL', cause: err },
    );
  }
  const log = logger.child({ component: 'nats' });
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        connected = false;
        log.warn({ server: s.data }, 'NATS disconnected');
      } else if (s.type === Events.Reconnect) {
        connected = true;
        log.info({ server: s.data }, 'NATS reconnected');
      }
    }
  })();
  return {
    nc,
    connected: () => connected && !nc.isClosed(),
    async close() {
      if (nc.isClosed()) return;
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Wraps a PostgreSQL failure at start as retryable INGEST_STORE_UNAVAILABLE naming POSTGRES_URL. */
export function postgresStartError(err: unknown, url: string, what: string): unknown {
  if (err instanceof CityError) return err;
  return new CityError(
    'INGEST_STORE_UNAVAILABLE',
    `POSTGRES_URL ${redactedUrl(url)}: ${what}: ${(err as Error).message}: start PostgreSQL or set POSTGRES_URL to a reachable database`,
    { field: 'POSTGRES_URL', cause: err },
  );
}

/** Whether PostgreSQL answers, asked every couple of seconds on one connection of its own (for /readyz). */
export interface PgProbe {
  ok(): boolean;
  close(): Promise<void>;
}

/** Checks the server answers now (the start fails if not), then keeps asking in the background. */
export async function openPgProbe(url: string, logger: Logger): Promise<PgProbe> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'citymetrics-probe',
  });
  // Its failures are what it reports through ok(); a lost connection is simply asked again.
  handlePoolErrors(pool, () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw postgresStartError(err, url, 'cannot connect');
  }
  let ok = true;
  let asking = false;
  const timer = setInterval(() => {
    if (asking) return;
    asking = true;
    pool
      .query('SELECT 1')
      .then(
        () => {
          if (!ok) logger.info('PostgreSQL answers again');
          ok = true;
        },
        (err: unknown) => {
          if (ok) logger.warn({ err: (err as Error).message }, 'PostgreSQL does not answer');
          ok = false;
        },
      )
      .finally(() => {
        asking = false;
      });
  }, PG_PROBE_INTERVAL_MS);
  timer.unref();
  return {
    ok: () => ok,
    async close() {
      clearInterval(timer);
      await pool.end().catch(() => {});
    },
  };
}
