import type pg from 'pg';
import type { Logger } from '../../core/logger.ts';
import { PgChangeFeed } from '../../core/pg-change-feed.ts';
import type { PgComponentSchema } from '../../core/pg-component-schema.ts';
import { openPgPart } from '../../core/pg-part.ts';
import { handlePoolErrors } from '../../core/pg-pool-errors.ts';
import type { DeviceEventRecord } from '../durable-log.ts';

export const PG_EVENTS_SCHEMA_VERSION = 1;
/** Where a writer announces that it stored device events: the payload is the highest seq stored. */
export const PG_EVENTS_CHANNEL = 'citymetrics_device_events';

const SCHEMA: PgComponentSchema = {
  what: 'device events',
  versionTable: 'citymetrics_events_schema',
  version: PG_EVENTS_SCHEMA_VERSION,
  tables: ['device_events'],
  lock: 0x434d4556,
  // An event's identity is (device, type, ts), as the message id on the log: a redelivered or resent event
  // is the same row, never a second one.
  ddl: `
    CREATE TABLE device_events (
      seq bigserial NOT NULL UNIQUE,
      device_id text NOT NULL,
      kind text NOT NULL,
      district text NOT NULL,
      type text NOT NULL,
      ts bigint NOT NULL,
      data text,
      received_at bigint NOT NULL,
      PRIMARY KEY (device_id, type, ts)
    );
    CREATE INDEX device_events_ts ON device_events (ts);`,
};

export interface StoredEvent extends DeviceEventRecord {
  seq: number;
}

interface EventRow {
  seq: number;
  device_id: string;
  kind: string;
  district: string;
  type: string;
  ts: number;
  data: string | null;
  received_at: number;
}

const toEvent = (r: EventRow): StoredEvent => ({
  seq: r.seq,
  deviceId: r.device_id,
  kind: r.kind,
  district: r.district,
  type: r.type,
  ts: r.ts,
  data: r.data === null ? null : (JSON.parse(r.data) as DeviceEventRecord['data']),
  receivedAt: r.received_at,
});

/**
 * Device events (outages, dispatches...) in PostgreSQL, for a cluster: the writers store them from the
 * log, the kpi and api nodes read them (event-mirror.ts) for the event-based KPIs. Each insert ends with a
 * notification carrying the highest seq, so readers fetch what is new instead of everything.
 */
export class PostgresDeviceEvents {
  readonly location: string;
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

  /** Connects and creates or checks the schema; `onStored` (readers) hears of other nodes' inserts. */
  static async open(opts: {
    url: string;
    logger: Logger;
    onStored?: () => void;
    connectTimeoutMs?: number;
  }): Promise<PostgresDeviceEvents> {
    const log = opts.logger.child({ component: 'device-events', store: 'postgres' });
    const onStored = opts.onStored;
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-device-events' },
      (pool, database) => new PostgresDeviceEvents(pool, log, database),
      async (events) => {
        if (onStored !== undefined)
          events.feed = await PgChangeFeed.start({
            url: opts.url,
            channel: PG_EVENTS_CHANNEL,
            logger: log,
            connectTimeoutMs: opts.connectTimeoutMs,
            onMessage: () => onStored(),
            onResync: () => onStored(),
          });
      },
    );
  }

  /** Stores events in one statement; one already stored (same device, type and ts) is left as it is. */
  async insert(events: readonly DeviceEventRecord[]): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    const { rows } = await this.pool.query<{ n: number }>(
      `WITH ins AS (
         INSERT INTO device_events (device_id, kind, district, type, ts, data, received_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[])
         ON CONFLICT DO NOTHING RETURNING seq)
       SELECT count(*)::int AS n, CASE WHEN count(*) > 0 THEN pg_notify($8, max(seq)::text) END AS notified
       FROM ins`,
      [
        events.map((e) => e.deviceId),
        events.map((e) => e.kind),
        events.map((e) => e.district),
        events.map((e) => e.type),
        events.map((e) => e.ts),
        events.map((e) => (e.data === null ? null : JSON.stringify(e.data))),
        events.map((e) => e.receivedAt),
        PG_EVENTS_CHANNEL,
      ],
    );
    return { inserted: rows[0]?.n ?? 0 };
  }

  /** Events stored after `seq` with a reading time from `fromTs` on, in seq order, at most `limit`. */
  async since(seq: number, fromTs: number, limit = 50_000): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT * FROM device_events WHERE seq > $1 AND ts >= $2 ORDER BY seq LIMIT $3',
      [seq, fromTs, limit],
    );
    return rows.map(toEvent);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed?.close();
    await this.pool.end();
  }
}
