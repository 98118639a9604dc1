import type Database from 'better-sqlite3';
import type { CityCalendar } from '../../core/city-calendar.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type {
  Bucket,
  DeviceAggregateQuery,
  LatestValue,
  SeriesPoint,
  SeriesQuery,
  SeriesScope,
  SeriesStore,
  StoreHealth,
  WriteOutcome,
} from '../../core/ports/series-store.ts';
import { STEPS } from '../../core/ports/series-store.ts';
import { BatchWriter, type Horizons } from './batch-writer.ts';
import { planRange, type Segment } from './range-plan.ts';
import { type Agg, mergeAll, mergeInto, toBucket } from './rollup-math.ts';
import { RollupTables } from './rollup-tables.ts';
import { CITY_KEY, type ScopeName, type SeriesInfo, SeriesRegistry } from './series-registry.ts';
import { isCorruptionError, MONTHS_SEALED_KEY, openSeriesDatabase, TIERS } from './sqlite-schema.ts';

const DAY_MS = 86_400_000;

export interface SqliteSeriesStoreOptions {
  /** path of the SQLite file; created (with its directory) when missing */
  file: string;
  calendar: CityCalendar;
  /** per tier, in days: raw points by ts, roll-up buckets by bucket start */
  retention: { rawDays: number; minuteDays: number; hourDays: number; dayDays: number };
  logger: Logger;
  /** stamps revision history; defaults to the system clock */
  clock?: Clock;
  /** told how many points of a write were older than raw retention, so the drop shows on /metrics */
  onExpired?: (count: number) => void;
}

export interface SeriesRef {
  scope: ScopeName;
  /** device id, district name, or '' for the city */
  key: string;
  metric: string;
}

const HORIZON_KEYS = ['raw', ...TIERS] as const;

/** Health of an embedded store (nothing buffered): closed, or open with its write failures so far. */
export function embeddedStoreHealth(
  closed: boolean,
  writeFailures: number,
  lastFailure?: string,
): StoreHealth {
  if (closed)
    return { ok: false, detail: 'INGEST_SHUTTING_DOWN: store is closed', pending: 0, writeFailures };
  const out: StoreHealth = { ok: true, pending: 0, writeFailures };
  if (lastFailure !== undefined) out.detail = `last write failure: ${lastFailure}`;
  return out;
}

export interface BatchResult {
  outcome: WriteOutcome;
  /** points older than the raw horizon, not stored */
  expired: number;
  /** series were created or a device moved district: readers on other connections must reload */
  seriesChanged: boolean;
}

/**
 * The embedded series store: raw device points (the identity index, for duplicate and revision detection)
 * and minute/hour/day roll-ups per device, district and city, in one SQLite file (WAL), with a month tier
 * that only aggregates read (a year is 12 rows per series): a month is summed from its days when it ends
 * (sealed), and takes late readings and revisions after that; queries step by minute, hour or day.
 *
 * better-sqlite3 is synchronous: a write() blocks the event loop for the duration of its transaction, so
 * callers batch (thousands of points per call) and keep batches bounded.
 */
export class SqliteSeriesStore implements SeriesStore {
  readonly name = 'sqlite';
  private readonly registry: SeriesRegistry;
  private readonly rollups: RollupTables;
  private readonly writer: BatchWriter;
  private readonly horizons: Horizons;
  private readonly writeTx: (
    points: readonly SeriesPoint[],
    now: number,
  ) => { outcome: WriteOutcome; expired: number };
  private readonly latestPoint: Database.Statement;
  private readonly prunePoints: Database.Statement;
  private readonly pruneRevisions: Database.Statement;
  private readonly saveHorizon: Database.Statement;
  private readonly sealedStatement: Database.Statement;
  private readonly sealTx: (now: number) => void;
  /** Months starting before this are in the month tier (sealed); later ones are read from their days. */
  private sealedBefore: number;
  private closed = false;
  private writeFailures = 0;
  private lastFailure: string | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly opts: SqliteSeriesStoreOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.registry = new SeriesRegistry(db);
    this.rollups = new RollupTables(db);
    this.writer = new BatchWriter(db, this.registry, this.rollups, opts.calendar);
    this.latestPoint = db.prepare(
      'SELECT ts, value FROM points WHERE series_id = ? ORDER BY ts DESC LIMIT 1',
    );
    this.prunePoints = db.prepare('DELETE FROM points WHERE series_id = ? AND ts < ?');
    this.pruneRevisions = db.prepare('DELETE FROM revisions WHERE series_id = ? AND ts < ?');
    this.saveHorizon = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const saved = new Map(
      (
        db.prepare("SELECT key, value FROM meta WHERE key LIKE 'horizon.%'").all() as Array<{
          key: string;
          value: number;
        }>
      ).map((r) => [r.key, r.value]),
    );
    this.horizons = { raw: 0, minute: 0, hour: 0, day: 0, month: 0 };
    for (const k of HORIZON_KEYS) this.horizons[k] = saved.get(`horizon.${k}`) ?? Number.NEGATIVE_INFINITY;
    this.sealedStatement = db.prepare(`SELECT value FROM meta WHERE key = '${MONTHS_SEALED_KEY}'`).pluck();
    this.sealedBefore = this.readSealed();
    this.sealTx = db.transaction((now: number) => this.sealNow(now));
    this.writeTx = db.transaction((points: readonly SeriesPoint[], now: number) => {
      this.sealNow(now);
      return this.writer.write(points, this.horizons, now, this.sealedBefore);
    });
  }

  /** Opens or creates the store file. Throws CityError STORE_CORRUPT (with the path) for a damaged or foreign file. */
  static open(opts: SqliteSeriesStoreOptions): SqliteSeriesStore {
    const db = openSeriesDatabase(opts.file);
    try {
      const log = opts.logger.child({ component: 'series-store', store: 'sqlite' });
      return new SqliteSeriesStore(db, opts, log, opts.clock ?? systemClock);
    } catch (err) {
      db.close();
      throw isCorruptionError(err)
        ? new CityError('STORE_CORRUPT', `${opts.file}: ${(err as Error).message}`, {
            details: { file: opts.file },
            cause: err,
          })
        : err;
    }
  }

  async write(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    const { outcome, expired } = this.writeBatch(points, this.clock.now());
    if (expired > 0) {
      this.opts.onExpired?.(expired);
      this.log.warn({ expired, rawHorizon: this.horizons.raw }, 'points older than raw retention not stored');
    }
    return outcome;
  }

  /**
   * write() without the logging, at an explicit `now` (stamps revisions): what the writer thread runs
   * (threaded-series-store.ts), where the clock and the logger are the main thread's. `seriesChanged` says
   * whether series were created or moved, so a reader elsewhere knows to reload its mirror.
   */
  writeBatch(points: readonly SeriesPoint[], now: number): BatchResult {
    this.assertOpen();
    if (points.length === 0)
      return { outcome: { inserted: 0, duplicates: 0, revisions: [] }, expired: 0, seriesChanged: false };
    for (const p of points) {
      // NaN would be stored as NULL and poison every aggregate: refuse the batch before touching anything.
      if (!Number.isFinite(p.value))
        throw new CityError('INGEST_NOT_FINITE', undefined, { field: `${p.deviceId}.${p.metric}` });
      if (!Number.isFinite(p.ts))
        throw new CityError('INGEST_TS_INVALID', undefined, { field: `${p.deviceId}.${p.metric}` });
    }
    try {
      const seriesChanged = this.registry.ensure(points);
      const { outcome, expired } = this.writeTx(points, now);
      return { outcome, expired, seriesChanged };
    } catch (err) {
      this.writeFailures++;
      this.lastFailure = (err as Error).message;
      throw this.storeError(err);
    }
  }

  /** Re-reads the series table: another connection (the writer thread) created or moved series. */
  reloadSeries(): void {
    this.assertOpen();
    this.registry.reload();
  }

  /** Oldest instant each tier still holds. */
  get retentionHorizons(): Readonly<Horizons> {
    return this.horizons;
  }

  async query(q: SeriesQuery): Promise<Bucket[]> {
    this.assertOpen();
    const s = this.resolve(q.scope, q.metric);
    if (s === undefined || q.from >= q.to) return [];
    return this.rollups.buckets(q.step, s.id, q.from, q.to);
  }

  /**
   * Merges the coarsest buckets that tile [from, to) (see planRange); t of the result is `from`. Like
   * query(), it counts a minute by its start, so a `from` inside a minute starts at the next one. A ragged
   * edge older than the finer tier's retention (minutes: 14 days by default) has no buckets left to read:
   * calendar periods (days, months) are whole days and never hit this.
   */
  async aggregate(q: Omit<SeriesQuery, 'step'>): Promise<Bucket | null> {
    this.assertOpen();
    const s = this.resolve(q.scope, q.metric);
    if (s === undefined) return null;
    const parts = this.plan(q.from, q.to).flatMap((seg) =>
      this.rollups.range(seg.tier, s.id, seg.from, seg.to),
    );
    const merged = mergeAll(parts);
    return merged === undefined ? null : toBucket(q.from, merged);
  }

  /** One grouped query per tier segment of the range (see aggregate), merged per device. */
  async aggregateByDevice(q: DeviceAggregateQuery): Promise<Map<string, Bucket>> {
    this.assertOpen();
    const merged = new Map<string, Agg>();
    const params = { metric: q.metric, kind: q.kind ?? null, district: q.district ?? null };
    for (const seg of this.plan(q.from, q.to)) {
      for (const [id, agg] of this.rollups.byDevice(seg.tier, { ...params, from: seg.from, to: seg.to })) {
        const into = merged.get(id);
        if (into === undefined) merged.set(id, agg);
        else mergeInto(into, agg);
      }
    }
    const out = new Map<string, Bucket>();
    for (const [id, a] of merged) out.set(id, toBucket(q.from, a));
    return out;
  }

  /** Newest reading per metric, from raw points; once those are pruned, from the newest roll-up bucket. */
  async latest(deviceId: string): Promise<LatestValue[]> {
    this.assertOpen();
    const out: LatestValue[] = [];
    for (const s of this.registry.ofDevice(deviceId)) {
      let found = this.latestPoint.get(s.id) as { ts: number; value: number } | undefined;
      for (const tier of STEPS) {
        if (found !== undefined) break;
        found = this.rollups.newest(tier, s.id);
      }
      if (found !== undefined) out.push({ metric: s.metric, ts: found.ts, value: found.value });
    }
    return out.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  }

  /**
   * Drops raw points (and their revision history) older than the start of the city day `rawDays` before
   * `now` (whole days, so a revisable point's buckets can always be recomputed from raw), and roll-up
   * buckets starting more than each tier's retention before `now`. One transaction per tier.
   */
  async prune(now: number): Promise<number> {
    this.assertOpen();
    try {
      this.sealTx(now); // the hourly pass seals a month that ended without a write since
    } catch (err) {
      throw this.storeError(err);
    }
    const r = this.opts.retention;
    const cuts: Horizons = {
      raw: this.opts.calendar.bucketStart(now - r.rawDays * DAY_MS, 'day'),
      minute: now - r.minuteDays * DAY_MS,
      hour: now - r.hourDays * DAY_MS,
      day: now - r.dayDays * DAY_MS,
      // Months wholly before the day tier's cut: the month holding the cut stays whole, as it was summed.
      month: this.opts.calendar.bucketStart(now - r.dayDays * DAY_MS, 'month'),
    };
    const series = [...this.registry.all()];
    let removed = 0;
    try {
      for (const key of HORIZON_KEYS) {
        const cut = Math.max(cuts[key], this.horizons[key]); // a clock step back never un-prunes a tier
        removed += this.db.transaction(() => {
          let n = 0;
          for (const s of series) {
            if (key !== 'raw') n += this.rollups.prune(key, s.id, cut);
            else if (s.scope === 'device')
              n += this.prunePoints.run(s.id, cut).changes + this.pruneRevisions.run(s.id, cut).changes;
          }
          this.saveHorizon.run(`horizon.${key}`, cut);
          return n;
        })();
        this.horizons[key] = cut;
      }
    } catch (err) {
      throw this.storeError(err);
    }
    this.log.info({ removed, horizons: this.horizons }, 'series store pruned');
    return removed;
  }

  health(): StoreHealth {
    return embeddedStoreHealth(this.closed, this.writeFailures, this.lastFailure);
  }

  /** Series known to the store, filtered; `key` is the device id, the district name, or '' for the city. */
  listSeries(filter: { scope?: ScopeName; metric?: string; key?: string } = {}): SeriesRef[] {
    this.assertOpen();
    const out: SeriesRef[] = [];
    for (const s of this.registry.all()) {
      if (filter.scope !== undefined && s.scope !== filter.scope) continue;
      if (filter.metric !== undefined && s.metric !== filter.metric) continue;
      if (filter.key !== undefined && s.key !== filter.key) continue;
      out.push({ scope: s.scope, key: s.key, metric: s.metric });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close(); // writes are synchronous and committed: nothing is buffered
  }

  /**
   * Seals the months that ended before `now`'s month: their buckets become the merge of their days (inside
   * the caller's transaction). Writes then fold late readings into them; the open month is read from its
   * days until it is sealed, so a batch writes no month row for it.
   */
  private sealNow(now: number): void {
    const until = this.opts.calendar.bucketStart(now, 'month');
    if (until <= this.sealedBefore) return; // a clock set back never unseals a month
    this.writer.sealMonths(this.sealedBefore, until);
    this.saveHorizon.run(MONTHS_SEALED_KEY, until);
    this.sealedBefore = until;
  }

  private readSealed(): number {
    return (this.sealedStatement.get() as number | undefined) ?? Number.NEGATIVE_INFINITY;
  }

  /**
   * The segments an aggregate over [from, to) reads: whole sealed months from the month tier, the rest
   * from days, hours and minutes. The seal is read from the file each time: the writer (a thread of its
   * own) seals on its connection, and a reader that still thinks a month open reads its days, which is
   * slower but the same figure.
   */
  private plan(from: number, to: number): Segment[] {
    const calendar = this.opts.calendar;
    const sealed = Math.max(this.sealedBefore, this.readSealed());
    if (to <= sealed) return planRange(calendar, from, to, 'month');
    if (from >= sealed) return planRange(calendar, from, to);
    return [...planRange(calendar, from, sealed, 'month'), ...planRange(calendar, sealed, to)];
  }

  private resolve(scope: SeriesScope, metric: string): SeriesInfo | undefined {
    if ('device' in scope) return this.registry.find('device', scope.device, metric);
    if ('district' in scope) return this.registry.find('district', scope.district, metric);
    return this.registry.find('city', CITY_KEY, metric);
  }

  private assertOpen(): void {
    if (this.closed) throw new CityError('INGEST_SHUTTING_DOWN', 'series store is closed');
  }

  private storeError(err: unknown): CityError {
    if (err instanceof CityError) return err;
    if (isCorruptionError(err)) {
      return new CityError('STORE_CORRUPT', `${this.opts.file}: ${(err as Error).message}`, {
        details: { file: this.opts.file },
        cause: err,
      });
    }
    return new CityError('INGEST_STORE_UNAVAILABLE', `series store: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
