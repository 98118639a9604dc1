import type Database from 'better-sqlite3';
import type { CityCalendar } from '../../core/city-calendar.ts';
import type { Revision, SeriesPoint, Step, WriteOutcome } from '../../core/ports/series-store.ts';
import { type Agg, addPoint, aggOf, mergeAll, mergeInto } from './rollup-math.ts';
import type { RollupTables } from './rollup-tables.ts';
import type { SeriesInfo, SeriesRegistry } from './series-registry.ts';
import { TIERS, type Tier } from './sqlite-schema.ts';

/** Oldest instant each tier still holds (moved forward by prune); writes older than it are not taken. */
export type Horizons = Record<Tier | 'raw', number>;
/** The same for a store without the month tier (PostgreSQL). */
export type StepHorizons = Record<Step | 'raw', number>;

interface Row {
  s: SeriesInfo;
  ts: number;
  value: number;
}

/** (tier, series, bucket) → value, with maps keyed by numbers: thousands of lookups per batch stay cheap. */
export class BucketMap<T> {
  readonly tiers: Record<Tier, Map<number, Map<number, T>>> = {
    minute: new Map(),
    hour: new Map(),
    day: new Map(),
    month: new Map(),
  };

  get(tier: Tier, id: number, bucket: number): T | undefined {
    return this.tiers[tier].get(id)?.get(bucket);
  }

  set(tier: Tier, id: number, bucket: number, value: T): void {
    const byId = this.tiers[tier];
    let buckets = byId.get(id);
    if (buckets === undefined) {
      buckets = new Map();
      byId.set(id, buckets);
    }
    buckets.set(bucket, value);
  }

  *entries(tier: Tier): Generator<[number, number, T]> {
    for (const [id, buckets] of this.tiers[tier]) for (const [b, v] of buckets) yield [id, b, v];
  }
}

export class DeltaMap extends BucketMap<Agg> {
  /** Adds the point to the bucket's delta; returns that delta. */
  add(tier: Tier, id: number, bucket: number, ts: number, value: number): Agg {
    let agg = this.get(tier, id, bucket);
    if (agg === undefined) {
      agg = aggOf(ts, value);
      this.set(tier, id, bucket, agg);
    } else addPoint(agg, ts, value);
    return agg;
  }
}

/** The deltas the last inserted point went into, reused while points stay in its series and minute. */
class MinuteRun {
  private series: SeriesInfo | undefined;
  private minute = Number.NaN;
  private aggs: Agg[] = [];

  /** Adds to the run's deltas when the point belongs to it; false when it does not. */
  add(s: SeriesInfo, ts: number, value: number): boolean {
    if (s !== this.series || Math.floor(ts / MINUTE_MS) !== this.minute) return false;
    for (const agg of this.aggs) addPoint(agg, ts, value);
    return true;
  }

  start(s: SeriesInfo, ts: number, aggs: Agg[]): void {
    this.series = s;
    this.minute = Math.floor(ts / MINUTE_MS);
    this.aggs = aggs;
  }

  clear(): void {
    this.series = undefined;
  }
}

const MINUTE_MS = 60_000;

/**
 * Writes one batch: classifies each point against the identity index (points table), then folds the
 * inserted points into the roll-ups, touching each (series, tier, bucket) once. Runs inside the caller's
 * transaction.
 *
 * Cheap common case: points are sorted by (series, ts), so inserts into the keyed table come in runs, and a
 * point newer than its series' high-water mark cannot collide with a stored one, so it is inserted without
 * a lookup. Only late (older) points pay a lookup.
 *
 * Revisions: a bucket holding a revised point is recomputed, not patched, so min/max stay exact. Device
 * buckets are recomputed from raw points (or from the finer tier, see recompute()). That is always
 * possible: raw pruning cuts at a city-day boundary and points older than the raw horizon are refused, so
 * every bucket (minute, hour, day) that holds a revisable point still has all its raw points. There is no
 * "adjust the sum, keep min/max" fallback because it cannot be reached. District and city buckets at the
 * same starts are then recomputed by merging their devices' buckets.
 *
 * Months: only sealed months (see sealMonths()) take deltas, late readings and revisions. The open month is
 * summed once, from its days, when it is sealed, so the hot path writes no month row per batch.
 */
export class BatchWriter {
  private readonly insert: Database.Statement;
  private readonly lookup: Database.Statement;
  private readonly update: Database.Statement;
  private readonly logRevision: Database.Statement;
  private readonly stats: Database.Statement;
  private readonly firstIn: Database.Statement;
  private readonly lastIn: Database.Statement;
  /** Months starting before this are sealed (their buckets kept); the open months are left to the days. */
  private sealedBefore = Number.NEGATIVE_INFINITY;

  constructor(
    db: Database.Database,
    private readonly registry: SeriesRegistry,
    private readonly rollups: RollupTables,
    private readonly calendar: CityCalendar,
  ) {
    this.insert = db.prepare('INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?)');
    this.lookup = db.prepare('SELECT value FROM points WHERE series_id = ? AND ts = ?').pluck();
    this.update = db.prepare('UPDATE points SET value = ? WHERE series_id = ? AND ts = ?');
    this.logRevision = db.prepare(
      'INSERT INTO revisions (series_id, ts, previous, value, revised_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.stats = db.prepare(
      'SELECT COUNT(*) AS count, SUM(value) AS sum, MIN(value) AS min, MAX(value) AS max FROM points WHERE series_id = ? AND ts >= ? AND ts < ?',
    );
    this.firstIn = db.prepare(
      'SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts ASC LIMIT 1',
    );
    this.lastIn = db.prepare(
      'SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT 1',
    );
  }

  /** Series must exist (registry.ensure) before this runs. Returns the outcome and the count refused as expired. */
  write(
    points: readonly SeriesPoint[],
    horizons: Horizons,
    now: number,
    monthsSealedBefore: number,
  ): { outcome: WriteOutcome; expired: number } {
    this.sealedBefore = monthsSealedBefore;
    const rows: Row[] = new Array(points.length);
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      rows[i] = { s: this.registry.device(p.deviceId, p.metric)!, ts: p.ts, value: p.value };
    }
    // Stable sort: two writes of one identity in a batch keep their arrival order.
    rows.sort((a, b) => a.s.id - b.s.id || a.ts - b.ts);

    const deltas = new DeltaMap();
    const dirty = new BucketMap<true>();
    const revisions: Revision[] = [];
    let inserted = 0;
    let duplicates = 0;
    let expired = 0;
    let current: SeriesInfo | undefined;
    let highWater = Number.NEGATIVE_INFINITY;
    const run = new MinuteRun();
    for (const row of rows) {
      const { s, ts, value } = row;
      if (s !== current) {
        if (current !== undefined) this.registry.raiseHighWater(current.id, highWater);
        current = s;
        highWater = this.registry.highWaterOf(s.id);
      }
      if (ts < horizons.raw) {
        expired++; // its identity can no longer be checked: taking it could count it twice
        continue;
      }
      if (ts > highWater) {
        this.insert.run(s.id, ts, value);
        highWater = ts;
        inserted++;
        // Rows are sorted by (series, ts): a point in the same series and minute as the one before lands
        // in the same buckets (each tier x device, district, city), already looked up.
        if (!run.add(s, ts, value)) run.start(s, ts, this.addDeltas(deltas, row, horizons));
        continue;
      }
      const previous = this.lookup.get(s.id, ts) as number | undefined;
      run.clear();
      if (previous === undefined) {
        this.insert.run(s.id, ts, value);
        inserted++;
        this.addDeltas(deltas, row, horizons);
      } else if (previous === value) {
        duplicates++;
      } else {
        this.update.run(value, s.id, ts);
        this.logRevision.run(s.id, ts, previous, value, now);
        revisions.push({ deviceId: s.key, metric: s.metric, ts, previous, value });
        this.markDirty(dirty, row, horizons);
      }
    }
    if (current !== undefined) this.registry.raiseHighWater(current.id, highWater);

    for (const tier of TIERS) this.flushTier(tier, deltas, dirty, horizons);
    return { outcome: { inserted, duplicates, revisions }, expired };
  }

  /**
   * Seals the months in [from, to) (month starts): each series' month bucket becomes the merge of its
   * days, replacing whatever was there. Runs inside the caller's transaction, before the batch that
   * crossed into a new month, so that batch's late points fold into the sealed month as deltas.
   */
  sealMonths(from: number, to: number): number {
    let rows = 0;
    for (const s of this.registry.all()) {
      let month = Number.NaN;
      let agg: Agg | undefined;
      const flush = () => {
        if (agg === undefined) return;
        this.rollups.replace('month', s.id, month, agg);
        rows++;
      };
      for (const day of this.rollups.range('day', s.id, from, to)) {
        const m = this.calendar.bucketStart(day.bucket, 'month');
        const { bucket: _day, ...a } = day;
        if (m !== month) {
          flush();
          month = m;
          agg = a;
        } else mergeInto(agg!, a);
      }
      flush();
    }
    return rows;
  }

  /** Folds the point into its buckets; returns the aggregates it touched (for MinuteRun). */
  private addDeltas(deltas: DeltaMap, row: Row, horizons: Horizons): Agg[] {
    const { s, ts, value } = row;
    const touched: Agg[] = [];
    for (const tier of TIERS) {
      const b = this.calendar.bucketStart(ts, tier);
      if (b < horizons[tier]) continue; // that tier has already dropped this bucket
      if (tier === 'month' && b >= this.sealedBefore) continue; // an open month: summed when it is sealed
      touched.push(
        deltas.add(tier, s.id, b, ts, value),
        deltas.add(tier, s.districtId, b, ts, value),
        deltas.add(tier, s.cityId, b, ts, value),
      );
    }
    return touched;
  }

  private markDirty(dirty: BucketMap<true>, row: Row, horizons: Horizons): void {
    const { s, ts } = row;
    for (const tier of TIERS) {
      const b = this.calendar.bucketStart(ts, tier);
      if (b < horizons[tier]) continue;
      if (tier === 'month' && b >= this.sealedBefore) continue;
      dirty.set(tier, s.id, b, true);
      dirty.set(tier, s.districtId, b, true);
      dirty.set(tier, s.cityId, b, true);
    }
  }

  /** Device buckets first: the group recomputations read them. */
  private flushTier(tier: Tier, deltas: DeltaMap, dirty: BucketMap<true>, horizons: Horizons): void {
    const groups: Array<[number, number, Agg]> = [];
    for (const entry of deltas.entries(tier)) {
      const [id, b, agg] = entry;
      if (this.registry.info(id)?.scope !== 'device') groups.push(entry);
      else if (dirty.get(tier, id, b) === undefined) this.rollups.merge(tier, id, b, agg);
    }
    const dirtyGroups: Array<[number, number]> = [];
    for (const [id, b] of dirty.entries(tier)) {
      if (this.registry.info(id)?.scope !== 'device') dirtyGroups.push([id, b]);
      else this.store(tier, id, b, this.recompute(tier, id, b, horizons));
    }
    for (const [id, b, agg] of groups)
      if (dirty.get(tier, id, b) === undefined) this.rollups.merge(tier, id, b, agg);
    for (const [id, b] of dirtyGroups) this.store(tier, id, b, this.fromMembers(tier, id, b));
  }

  private store(tier: Tier, id: number, b: number, agg: Agg | undefined): void {
    if (agg === undefined) this.rollups.remove(tier, id, b);
    else this.rollups.replace(tier, id, b, agg);
  }

  /**
   * A device bucket from scratch. An hour is the merge of its minutes and a day the merge of its hours when
   * the finer tier still holds the whole bucket (flushTier runs minute, hour, day, month, so those are
   * final): 60 or 24 rows instead of every raw point of the day. Otherwise from raw points, which always
   * cover it. A month is always the merge of its days: raw points cover the last weeks only, and the day
   * tier outlives them; a month the day tier has begun to drop keeps what its days still hold.
   */
  private recompute(tier: Tier, id: number, b: number, horizons: Horizons): Agg | undefined {
    const next = this.calendar.nextBucketStart(b, tier);
    if (tier === 'month') return mergeAll(this.rollups.range('day', id, b, next));
    const finer: Tier | undefined = tier === 'day' ? 'hour' : tier === 'hour' ? 'minute' : undefined;
    if (finer !== undefined && horizons[finer] <= b) return mergeAll(this.rollups.range(finer, id, b, next));
    return this.fromPoints(id, b, next);
  }

  private fromPoints(id: number, from: number, to: number): Agg | undefined {
    const st = this.stats.get(id, from, to) as { count: number; sum: number; min: number; max: number };
    if (st.count === 0) return undefined;
    const first = this.firstIn.get(id, from, to) as { ts: number; value: number };
    const last = this.lastIn.get(id, from, to) as { ts: number; value: number };
    return { ...st, firstTs: first.ts, first: first.value, lastTs: last.ts, last: last.value };
  }

  private fromMembers(tier: Tier, groupId: number, b: number): Agg | undefined {
    let out: Agg | undefined;
    for (const member of this.registry.membersOf(groupId)) {
      const agg = this.rollups.get(tier, member, b);
      if (agg === undefined) continue;
      if (out === undefined) out = agg;
      else mergeInto(out, agg);
    }
    return out;
  }
}
