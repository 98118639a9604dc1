import type { CityCalendar } from '../../../core/city-calendar.ts';
import type { Clock } from '../../../core/clock.ts';
import { CityError } from '../../../core/errors.ts';
import { quoteIdent } from '../../../core/influx-schema.ts';
import type { Logger } from '../../../core/logger.ts';
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
import { SerialWrites } from '../serial-writes.ts';
import { IdentityIndex } from './identity-index.ts';
import {
  type InfluxStoreOptions,
  type InfluxStoreOptionsInput,
  resolveInfluxOptions,
} from './influx-options.ts';
import {
  aggregateByDeviceQuery,
  aggregateQuery,
  bucketQuery,
  deleteBeforeQuery,
  latestQuery,
  parseBuckets,
  parseByDevice,
  parseLatest,
  toLine,
} from './influx-queries.ts';
import { InfluxQlClient } from './influxql-client.ts';
import type { LineWriter } from './line-writer.ts';
import { V1HttpWriter } from './v1-http-writer.ts';
import { V2WriteApiWriter } from './v2-write-api-writer.ts';

const DAY_MS = 86_400_000;
const HORIZON_KEY = 'horizon.raw';

export interface InfluxStoreDeps {
  logger: Logger;
  clock: Clock;
  /** the city calendar: local hours and days of the buckets */
  calendar: CityCalendar;
  /** Every failed write attempt (retried or not): wire it to a Prometheus counter. */
  onWriteAttemptFailed?: (err: Error) => void;
}

export interface InfluxStoreStats {
  /** failed HTTP write attempts since start */
  writeFailures: number;
  /** points accepted by write() and not yet confirmed by InfluxDB */
  pending: number;
  /** points confirmed by InfluxDB since start (inserted and revised identities) */
  pointsWritten: number;
  /** points refused because they are older than the retention horizon */
  expired: number;
}

/**
 * The SeriesStore on InfluxDB. Writes go through the configured transport (WriteApi on /api/v2/write, or
 * /write for 1.x); reads are InfluxQL on /query, with roll-ups computed by the server at query time (no
 * roll-up tables: InfluxDB's GROUP BY time() tz() is the roll-up). A local identity index classifies
 * inserted / duplicate / revision.
 *
 * write() resolves once InfluxDB has the points; until then the ingest keeps them in its durable log,
 * and a rejected write (retryable INGEST_STORE_UNAVAILABLE) is retried from there. Writes run one at a
 * time in arrival order, so a revision can never be overtaken by an older value still being retried; what
 * waits behind is bounded by `maxPendingPoints` (past it write() rejects at once): when InfluxDB is slow or
 * down, the pressure reaches the ingest backlog, never this process's memory.
 */
export class InfluxSeriesStore implements SeriesStore {
  readonly name = 'influxdb';
  private readonly queries: InfluxQlClient;
  private readonly writes: SerialWrites;
  private closed = false;
  private horizon: number;
  private lastFailure: string | undefined;
  private failing = false;
  private readonly counters = { writeFailures: 0, pointsWritten: 0, expired: 0 };

  private constructor(
    private readonly deps: InfluxStoreDeps,
    readonly options: InfluxStoreOptions,
    private readonly index: IdentityIndex,
    private readonly writer: LineWriter,
    private readonly log: Logger,
  ) {
    this.queries = new InfluxQlClient(options);
    this.writes = new SerialWrites('InfluxDB', options.maxPendingPoints);
    this.horizon = index.getMeta(HORIZON_KEY) ?? Number.NEGATIVE_INFINITY;
  }

  /** Opens the identity index; with `createDatabase` (1.x), creates the database. Opens no listener. */
  static async open(deps: InfluxStoreDeps, input: InfluxStoreOptionsInput): Promise<InfluxSeriesStore> {
    const options = resolveInfluxOptions(input);
    const log = deps.logger.child({ component: 'series-store', store: 'influxdb' });
    const index = IdentityIndex.open(options.indexFile);
    let store: InfluxSeriesStore | undefined;
    const hooks = { onAttemptFailed: (err: Error) => store?.attemptFailed(err) };
    const writer =
      options.writeTransport === 'v2'
        ? new V2WriteApiWriter(options, hooks, log)
        : new V1HttpWriter(options, hooks, deps.clock);
    store = new InfluxSeriesStore(deps, options, index, writer, log);
    if (options.createDatabase) {
      try {
        await store.queries.run(`CREATE DATABASE ${quoteIdent(options.database)}`, { database: null });
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    return store;
  }

  async write(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    this.assertOpen();
    if (points.length === 0) return { inserted: 0, duplicates: 0, revisions: [] };
    for (const p of points) {
      if (!Number.isFinite(p.value))
        throw new CityError('INGEST_NOT_FINITE', undefined, { field: `${p.deviceId}.${p.metric}` });
      if (!Number.isFinite(p.ts))
        throw new CityError('INGEST_TS_INVALID', undefined, { field: `${p.deviceId}.${p.metric}` });
    }
    return this.writes.run(points.length, () => this.writeNow(points));
  }

  async query(q: SeriesQuery): Promise<Bucket[]> {
    this.assertOpen();
    if (q.from >= q.to) return [];
    const statement = bucketQuery(this.deps.calendar, q);
    if (statement === null) return [];
    return parseBuckets((await this.queries.run(statement))[0]);
  }

  async aggregate(q: Omit<SeriesQuery, 'step'>): Promise<Bucket | null> {
    this.assertOpen();
    const statement = aggregateQuery(q);
    if (statement === null) return null;
    return parseBuckets((await this.queries.run(statement))[0], q.from)[0] ?? null;
  }

  /** One InfluxQL statement grouped by the device tag (the kind and district filters are the points' tags). */
  async aggregateByDevice(q: DeviceAggregateQuery): Promise<Map<string, Bucket>> {
    this.assertOpen();
    const statement = aggregateByDeviceQuery(q);
    if (statement === null) return new Map();
    return parseByDevice((await this.queries.run(statement))[0], q.from);
  }

  async latest(deviceId: string): Promise<LatestValue[]> {
    this.assertOpen();
    const statement = latestQuery(deviceId, this.index.metricsOf(deviceId));
    if (statement === null) return [];
    return parseLatest((await this.queries.run(statement))[0]);
  }

  /**
   * Forgets identities older than the start of the city day `identityWindowDays` before `now` (a later
   * write older than that is refused as expired, as in the SQLite store) and, with `deleteOnPrune`, deletes
   * points older than `retentionRawDays` from InfluxDB. Without it the server's retention policy (bucket
   * retention in 2.x) expires the data: keep the two equal. Returns identities removed from the index.
   */
  async prune(now: number): Promise<number> {
    this.assertOpen();
    const dayStart = (days: number) => this.deps.calendar.bucketStart(now - days * DAY_MS, 'day');
    if (this.options.deleteOnPrune) {
      const statement = deleteBeforeQuery(this.index.allMetrics(), dayStart(this.options.retentionRawDays));
      if (statement !== null) await this.queries.run(statement);
    }
    const cut = Math.max(dayStart(this.options.identityWindowDays), this.horizon); // never un-prunes
    const removed = this.index.prune(cut);
    this.index.setMeta(HORIZON_KEY, cut);
    this.horizon = cut;
    this.log.info({ removed, horizon: cut }, 'influx series store pruned');
    return removed;
  }

  health(): StoreHealth {
    const c = this.counters;
    if (this.closed)
      return {
        ok: false,
        detail: 'INGEST_SHUTTING_DOWN: store is closed',
        pending: 0,
        writeFailures: c.writeFailures,
      };
    const out: StoreHealth = {
      ok: !this.failing,
      pending: this.writes.pending,
      writeFailures: c.writeFailures,
    };
    if (this.lastFailure !== undefined)
      out.detail = `${this.failing ? 'INGEST_STORE_UNAVAILABLE: ' : 'last write failure: '}${this.lastFailure}`;
    return out;
  }

  stats(): InfluxStoreStats {
    return { ...this.counters, pending: this.writes.pending };
  }

  /** Waits for the write in progress, then releases the writer and the index. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close(); // cuts retries short: what InfluxDB lacks is still in the durable log
    await this.writes.drained();
    this.index.close();
  }

  private async writeNow(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    this.assertOpen();
    const fresh = points.filter((p) => p.ts >= this.horizon);
    const expired = points.length - fresh.length;
    if (expired > 0) {
      this.counters.expired += expired;
      this.log.warn({ expired, horizon: this.horizon }, 'points older than retention not stored');
    }
    const { outcome, changes } = this.index.classify(fresh);
    if (changes.length > 0) {
      try {
        await this.writer.write(changes.map((ch) => toLine(ch.point)));
      } catch (err) {
        throw new CityError('INGEST_STORE_UNAVAILABLE', `InfluxDB write failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.index.commit(changes);
      this.counters.pointsWritten += changes.length;
    }
    this.failing = false;
    return outcome;
  }

  private attemptFailed(err: Error): void {
    this.counters.writeFailures++;
    this.failing = true;
    this.lastFailure = err.message;
    this.deps.onWriteAttemptFailed?.(err);
    this.log.warn(
      { err: err.message, writeFailures: this.counters.writeFailures },
      'InfluxDB write attempt failed',
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new CityError('INGEST_SHUTTING_DOWN', 'series store is closed');
  }
}

/** Builds the InfluxDB series store (opens its identity index file; no listener, no environment). */
export const buildInfluxSeriesStore = (
  deps: InfluxStoreDeps,
  options: InfluxStoreOptionsInput,
): Promise<InfluxSeriesStore> => InfluxSeriesStore.open(deps, options);
