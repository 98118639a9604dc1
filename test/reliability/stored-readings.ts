import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Reads what the platform stored, straight from its files (read-only), to count readings per device:
 * raw points, the minute/hour/day roll-up counts, and the distinct identities in the durable log.
 */
export interface StoredCounts {
  /** ts of every raw point of the device's series */
  points: Map<string, number[]>;
  /** per device: the sum of bucket counts in each roll-up tier */
  rollupCount: Map<string, { minute: number; hour: number; day: number }>;
  /** per device and minute bucket start (UTC ms): the count in the minute roll-up */
  minuteBuckets: Map<string, Map<number, number>>;
  /** per device: distinct (metric, ts) in the durable log */
  logDistinct: Map<string, number>;
  /** rows in the durable log (a resent reading appears more than once) */
  logRows: number;
}

export function readStored(dataDir: string, metric: string): StoredCounts {
  const series = new Database(join(dataDir, 'series.db'), { readonly: true, fileMustExist: true });
  const log = new Database(join(dataDir, 'log.db'), { readonly: true, fileMustExist: true });
  try {
    const ids = series
      .prepare("SELECT id, key FROM series WHERE scope = 'device' AND metric = ?")
      .all(metric) as Array<{ id: number; key: string }>;
    const points = new Map<string, number[]>();
    const rollupCount = new Map<string, { minute: number; hour: number; day: number }>();
    const minuteBuckets = new Map<string, Map<number, number>>();
    const pointTs = series.prepare('SELECT ts FROM points WHERE series_id = ? ORDER BY ts').pluck();
    const sum = (table: string) =>
      series.prepare(`SELECT coalesce(sum(cnt), 0) FROM ${table} WHERE series_id = ?`).pluck();
    const minute = sum('rollup_minute');
    const hour = sum('rollup_hour');
    const day = sum('rollup_day');
    const buckets = series.prepare('SELECT bucket, cnt FROM rollup_minute WHERE series_id = ?');
    for (const { id, key } of ids) {
      points.set(key, pointTs.all(id) as number[]);
      rollupCount.set(key, {
        minute: minute.get(id) as number,
        hour: hour.get(id) as number,
        day: day.get(id) as number,
      });
      const m = new Map<number, number>();
      for (const row of buckets.all(id) as Array<{ bucket: number; cnt: number }>) m.set(row.bucket, row.cnt);
      minuteBuckets.set(key, m);
    }
    const logDistinct = new Map<string, number>();
    for (const row of log
      .prepare(
        'SELECT device_id, count(*) AS n FROM (SELECT DISTINCT device_id, ts FROM log_values WHERE metric = ?) GROUP BY device_id',
      )
      .all(metric) as Array<{ device_id: string; n: number }>)
      logDistinct.set(row.device_id, row.n);
    const logRows = log
      .prepare('SELECT count(*) FROM log_values WHERE metric = ?')
      .pluck()
      .get(metric) as number;
    return { points, rollupCount, minuteBuckets, logDistinct, logRows };
  } finally {
    series.close();
    log.close();
  }
}
