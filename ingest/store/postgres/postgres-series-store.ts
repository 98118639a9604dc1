import pg from 'pg';
import { type Clock, systemClock } from '../../../core/clock.ts';
import { CityError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { handlePoolErrors } from '../../../core/pg-pool-errors.ts';
import type {
  Bucket,
  DeviceAggregateQuery,
  LatestValue,
  SeriesPoint,
  SeriesQuery,
  SeriesStore,
  StoreHealth,
  WriteOutcome,
} from '../../../core/ports/series-store.ts';
import type { StepHorizons as Horizons } from '../batch-writer.ts';
import { SerialWrites } from '../serial-writes.ts';
import type { SqliteSeriesStoreOptions } from '../sqlite-series-store.ts';
import { writePgBatch } from './postgres-batch.ts';
import { isTransient, readError, writeError } from './postgres-errors.ts';
import { prunePg } from './postgres-prune.ts';
import { aggregateDevices, aggregateRange, latestValues, queryBuckets } from './postgres-queries.ts';
import { ensureSchema } from './postgres-schema.ts';
import { PgSeriesCache } from './postgres-series.ts';

/** The embedded store's options (calendar, retention tiers, logger, clock, onExpired) and a server. */
export interface PostgresSeriesStoreOptions extends Omit<SqliteSeriesStoreOptions, 'file'> {
  /** postgres://user:password@host:port/database (libpq form; sslmode and the like as query parameters) */
  url: string;
  /** connections in the pool (default 4): one writes at a time, the others serve reads */
  maxConnections?: number;
  /** a connection attempt fails after this (default 5000 ms), so an unreachable server fails a write fast */
  connectTimeoutMs?: number;
  /** the server cancels a statement running longer than this (default 60000 ms) */
  statementTimeoutMs?: number;
  /** points waiting for the database; past it writes are refused, retryable (default 100000) */
  maxPendingPoints?: number;
}

/** Any fixed number, not the schema's: writers of one database (ingest nodes) take turns. */
const WRITE_LOCK = 0x434d5357;
const INT8_OID = 20;

// Epoch milliseconds and counts come back as numbers: every value involved is far below 2^53.
const parseInt8 = (v: string): number => Number(v);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The SeriesStore on PostgreSQL: the embedded store's tables (raw points keyed by series and ts,
 * minute/hour/day roll-ups per device, district and city) in a database several nodes can share.
 *
 * A write is one transaction: series, points and roll-ups commit together, so a duplicate changes
 * nothing and a revision replaces its value in every bucket, or nothing happens at all. Writes of one
 * database take turns (a transaction-level advisory lock): the classification of a point and the
 * recomputation of a revised bucket then read a state no other writer is changing. Within this process
 * writes also run one at a time in arrival order, so a revision is never overtaken by an older value.
 *
 * When the server is unreachable, write() rejects with retryable INGEST_STORE_UNAVAILABLE and health()
 * says why; the ingest keeps the batch in its durable log and retries. The pool reconnects by itself.
 */
export class PostgresSeriesStore implements SeriesStore {
  readonly name = 'postgres';
  private readonly cache = new PgSeriesCache();
  private readonly writes: SerialWrites;
  private closed = false;
  private failing = false;
  private lastFailure: string | undefined;
  private writeFailures = 0;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PostgresSeriesStoreOptions,
    private readonly horizons: Horizons,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.writes = new SerialWrites('PostgreSQL', opts.maxPendingPoints ?? 100_000);
  }

  /** A connection of the pool failed (the server went away): said once, the next write retries. */
  connectionLost(err: Error): void {
    this.failed(err, 'connection lost');
  }

  /**
   * Connects, creates the schema in an empty database or checks the one there (STORE_CORRUPT for another
   * version), and loads the retention horizons. An unreachable server fails with INGEST_STORE_UNAVAILABLE.
   */
  static async open(opts: PostgresSeriesStoreOptions): Promise<PostgresSeriesStore> {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 4,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      statement_timeout: opts.statementTimeoutMs ?? 60_000,
      application_name: 'citymetrics',
      types,
    });
    // Until the store exists, a connection's failure has nobody to tell; open() reports its own.
    let store: PostgresSeriesStore | null = null;
    handlePoolErrors(pool, (err) => store?.connectionLost(err));
    try {
      const client = await pool.connect();
      try {
        await ensureSchema(client, databaseOf(opts.url));
        const { rows } = await client.query<{ key: string; value: number }>(
          "SELECT key, value FROM meta WHERE key LIKE 'horizon.%'",
        );
        const saved = new Map(rows.map((r) => [r.key, r.value]));
        const horizon = (k: string) => saved.get(`horizon.${k}`) ?? Number.NEGATIVE_INFINITY;
        const horizons = {
          raw: horizon('raw'),
          minute: horizon('minute'),
          hour: horizon('hour'),
          day: horizon('day'),
        };
        const log = opts.logger.child({ component: 'series-store', store: 'postgres' });
        store = new PostgresSeriesStore(pool, opts, horizons, log, opts.clock ?? systemClock);
        return store;
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw readError(err);
    }
  }

  async write(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    this.assertOpen();
    if (points.length === 0) return { inserted: 0, duplicates: 0, revisions: [] };
    for (const p of points) {
      const field = `${p.deviceId}.${p.metric}`;
      // NaN or Infinity would poison every aggregate; the columns hold integer milliseconds.
      if (!Number.isFinite(p.value)) throw new CityError('INGEST_NOT_FINITE', undefined, { field });
      if (!Number.isSafeInteger(p.ts)) throw new CityError('INGEST_TS_INVALID', undefined, { field });
    }
    return this.writes.run(points.length, () => this.writeNow(points));
  }

  async query(q: SeriesQuery): Promise<Bucket[]> {
    this.assertOpen();
    if (q.from >= q.to) return [];
    return this.read(() => queryBuckets(this.pool, q));
  }

  /** Merges the coarsest buckets that tile [from, to) (see planRange), as the embedded store does. */
  async aggregate(q: Omit<SeriesQuery, 'step'>): Promise<Bucket | null> {
    this.assertOpen();
    return this.read(() => aggregateRange(this.pool, this.opts.calendar, q));
  }

  async aggregateByDevice(q: DeviceAggregateQuery): Promise<Map<string, Bucket>> {
    this.assertOpen();
    return this.read(() => aggregateDevices(this.pool, this.opts.calendar, q));
  }

  async latest(deviceId: string): Promise<LatestValue[]> {
    this.assertOpen();
    return this.read(() => latestValues(this.pool, deviceId));
  }

  /**
   * Drops raw points (and their revision history) older than the start of the city day `rawDays` before
   * `now`, and roll-up buckets starting more than each tier's retention before `now`, in one statement.
   * A horizon only moves forward, whichever node prunes.
   */
  async prune(now: number): Promise<number> {
    this.assertOpen();
    const { removed, horizons } = await this.read(() =>
      prunePg(this.pool, this.opts.calendar, this.opts.retention, now),
    );
    Object.assign(this.horizons, horizons);
    this.log.info({ removed, horizons: this.horizons }, 'series store pruned');
    return removed;
  }

  health(): StoreHealth {
    const base = { pending: this.writes.pending, writeFailures: this.writeFailures };
    if (this.closed) return { ok: false, detail: 'INGEST_SHUTTING_DOWN: store is closed', ...base };
    const out: StoreHealth = { ok: !this.failing, ...base };
    if (this.lastFailure !== undefined)
      out.detail = `${this.failing ? 'INGEST_STORE_UNAVAILABLE: ' : 'last failure: '}${this.lastFailure}`;
    return out;
  }

  /** Waits for the write in progress, then closes the pool's connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.drained();
    await this.pool.end();
  }

  private async writeNow(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    this.assertOpen();
    const fresh = points.filter((p) => p.ts >= this.horizons.raw);
    const expired = points.length - fresh.length;
    if (expired > 0) {
      // Its identity can no longer be checked against pruned raw points: taking it could count it twice.
      this.opts.onExpired?.(expired);
      this.log.warn({ expired, rawHorizon: this.horizons.raw }, 'points older than raw retention not stored');
    }
    if (fresh.length === 0) return { inserted: 0, duplicates: 0, revisions: [] };
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.writeFailed(err);
    }
    let broken = false;
    try {
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
      const outcome = await writePgBatch(
        client,
        this.cache,
        this.opts.calendar,
        fresh,
        this.horizons,
        this.clock.now(),
      );
      await client.query('COMMIT');
      this.recovered();
      return outcome;
    } catch (err) {
      this.cache.clear(); // series ids learnt inside the rolled-back transaction may not exist
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.writeFailed(err);
    } finally {
      client.release(broken);
    }
  }

  private async read<T>(run: () => Promise<T>): Promise<T> {
    try {
      const out = await run();
      this.recovered();
      return out;
    } catch (err) {
      if (isTransient(err)) this.failed(err as Error, 'query failed');
      throw readError(err);
    }
  }

  private writeFailed(err: unknown): CityError {
    this.writeFailures++;
    this.failed(err as Error, 'write failed');
    return writeError(err);
  }

  private failed(err: Error, what: string): void {
    this.failing = true;
    this.lastFailure = err.message;
    this.log.warn({ err: err.message, writeFailures: this.writeFailures }, `PostgreSQL ${what}`);
  }

  private recovered(): void {
    if (this.failing) this.log.info('PostgreSQL reachable again');
    this.failing = false;
  }

  private assertOpen(): void {
    if (this.closed) throw new CityError('INGEST_SHUTTING_DOWN', 'series store is closed');
  }
}

/** The database name of a connection URL, for messages. */
function databaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || '(default)';
  } catch {
    return '(unparsable URL)';
  }
}

/** Builds the PostgreSQL series store (connects and checks the schema; no listener, no environment). */
export const buildPostgresSeriesStore = (opts: PostgresSeriesStoreOptions): Promise<PostgresSeriesStore> =>
  PostgresSeriesStore.open(opts);
