import type Database from 'better-sqlite3';
import type { Bucket } from '../../core/ports/series-store.ts';
import type { Agg } from './rollup-math.ts';
import { ROLLUP_TABLE, type Tier } from './sqlite-schema.ts';

const AGG_COLUMNS =
  'cnt AS count, total AS sum, lo AS min, hi AS max, first_ts AS firstTs, first_val AS first, last_ts AS lastTs, last_val AS last';

export type AggRow = Agg & { bucket: number };

interface TierStatements {
  merge: Database.Statement;
  replace: Database.Statement;
  remove: Database.Statement;
  get: Database.Statement;
  range: Database.Statement;
  newest: Database.Statement;
  prune: Database.Statement;
  byDevice: Database.Statement;
  rangeRaw: Database.Statement;
}

/** A column of the earliest (ASC) or latest (DESC) bucket of the outer series in [from, to). */
const edge = (table: string, column: string, order: 'ASC' | 'DESC'): string =>
  `(SELECT e.${column} FROM ${table} e WHERE e.series_id = s.id AND e.bucket >= @from AND e.bucket < @to ORDER BY e.bucket ${order} LIMIT 1)`;
/** Prepared statements over the roll-up tables, one set per tier. */
export class RollupTables {
  private readonly tiers: Record<Tier, TierStatements>;

  constructor(db: Database.Database) {
    const make = (table: string): TierStatements => ({
      // SET expressions read the row as it was before the update, so first/last compare against the old
      // values. Tie rules match mergeInto() in rollup-math.ts.
      merge: db.prepare(`
        INSERT INTO ${table} (series_id, bucket, cnt, total, lo, hi, first_ts, first_val, last_ts, last_val)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (series_id, bucket) DO UPDATE SET
          cnt = cnt + excluded.cnt,
          total = total + excluded.total,
          lo = MIN(lo, excluded.lo),
          hi = MAX(hi, excluded.hi),
          first_val = CASE WHEN excluded.first_ts < first_ts
            OR (excluded.first_ts = first_ts AND excluded.first_val < first_val)
            THEN excluded.first_val ELSE first_val END,
          first_ts = MIN(first_ts, excluded.first_ts),
          last_val = CASE WHEN excluded.last_ts > last_ts
            OR (excluded.last_ts = last_ts AND excluded.last_val > last_val)
            THEN excluded.last_val ELSE last_val END,
          last_ts = MAX(last_ts, excluded.last_ts)`),
      replace: db.prepare(`
        INSERT OR REPLACE INTO ${table} (series_id, bucket, cnt, total, lo, hi, first_ts, first_val, last_ts, last_val)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      remove: db.prepare(`DELETE FROM ${table} WHERE series_id = ? AND bucket = ?`),
      get: db.prepare(`SELECT ${AGG_COLUMNS} FROM ${table} WHERE series_id = ? AND bucket = ?`),
      range: db.prepare(
        `SELECT bucket, ${AGG_COLUMNS} FROM ${table} WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
      ),
      // Same as range, rows as arrays (see buckets()).
      rangeRaw: db
        .prepare(
          `SELECT bucket, cnt, total, lo, hi, first_ts, first_val, last_ts, last_val FROM ${table} WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
        )
        .raw(true),
      newest: db.prepare(
        `SELECT last_ts AS ts, last_val AS value FROM ${table} WHERE series_id = ? ORDER BY bucket DESC LIMIT 1`,
      ),
      prune: db.prepare(`DELETE FROM ${table} WHERE series_id = ? AND bucket < ?`),
      // Driven by the series table (one row per device and metric), each series seeking its own bucket range
      // through the primary key, grouped in SQLite. Buckets of one tier are disjoint in time, so the first
      // (last) reading of a series is that of its earliest (latest) bucket: one primary-key seek each.
      byDevice: db.prepare(
        `SELECT s.key AS deviceId, SUM(r.cnt) AS count, SUM(r.total) AS sum, MIN(r.lo) AS min, MAX(r.hi) AS max,
           ${edge(table, 'first_ts', 'ASC')} AS firstTs, ${edge(table, 'first_val', 'ASC')} AS first,
           ${edge(table, 'last_ts', 'DESC')} AS lastTs, ${edge(table, 'last_val', 'DESC')} AS last
         FROM series s
         JOIN ${table} r ON r.series_id = s.id AND r.bucket >= @from AND r.bucket < @to
         WHERE s.scope = 'device' AND s.metric = @metric
           AND (@kind IS NULL OR s.kind = @kind) AND (@district IS NULL OR s.district = @district)
         GROUP BY s.id`,
      ),
    });
    this.tiers = {
      minute: make(ROLLUP_TABLE.minute),
      hour: make(ROLLUP_TABLE.hour),
      day: make(ROLLUP_TABLE.day),
      month: make(ROLLUP_TABLE.month),
    };
  }

  merge(tier: Tier, seriesId: number, bucket: number, a: Agg): void {
    writeRow(this.tiers[tier].merge, seriesId, bucket, a);
  }

  replace(tier: Tier, seriesId: number, bucket: number, a: Agg): void {
    writeRow(this.tiers[tier].replace, seriesId, bucket, a);
  }

  remove(tier: Tier, seriesId: number, bucket: number): void {
    this.tiers[tier].remove.run(seriesId, bucket);
  }

  get(tier: Tier, seriesId: number, bucket: number): Agg | undefined {
    return this.tiers[tier].get.get(seriesId, bucket) as Agg | undefined;
  }

  /** Buckets whose start lies in [from, to), ascending. */
  range(tier: Tier, seriesId: number, from: number, to: number): AggRow[] {
    return this.tiers[tier].range.all(seriesId, from, to) as AggRow[];
  }

  /** Per device series of a metric, the merge of its buckets whose start lies in [from, to). */
  byDevice(
    tier: Tier,
    q: { metric: string; kind: string | null; district: string | null; from: number; to: number },
  ): Map<string, Agg> {
    const out = new Map<string, Agg>();
    for (const r of this.tiers[tier].byDevice.all(q) as Array<Agg & { deviceId: string }>)
      out.set(r.deviceId, r);
    return out;
  }

  /**
   * Buckets whose start lies in [from, to), ascending, built straight from array rows: a KPI recompute reads
   * a year of hour buckets per sonde and monitor, and an object per row plus a Bucket copy of it cost
   * about twice the time of the reads themselves.
   */
  buckets(tier: Tier, seriesId: number, from: number, to: number): Bucket[] {
    const rows = this.tiers[tier].rangeRaw.all(seriesId, from, to) as number[][];
    const out: Bucket[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = {
        t: r[0]!,
        count: r[1]!,
        sum: r[2]!,
        min: r[3]!,
        max: r[4]!,
        mean: r[2]! / r[1]!,
        firstTs: r[5]!,
        first: r[6]!,
        lastTs: r[7]!,
        last: r[8]!,
      };
    }
    return out;
  }

  /** The last reading of the newest bucket, for `latest` once raw points are pruned. */
  newest(tier: Tier, seriesId: number): { ts: number; value: number } | undefined {
    return this.tiers[tier].newest.get(seriesId) as { ts: number; value: number } | undefined;
  }

  /** Deletes the series' buckets starting before `before`; returns rows removed. */
  prune(tier: Tier, seriesId: number, before: number): number {
    return this.tiers[tier].prune.run(seriesId, before).changes;
  }
}

/** Runs an INSERT of one roll-up row, columns in table order (merge and replace share them). */
function writeRow(statement: Database.Statement, seriesId: number, bucket: number, a: Agg): void {
  statement.run(seriesId, bucket, a.count, a.sum, a.min, a.max, a.firstTs, a.first, a.lastTs, a.last);
}
