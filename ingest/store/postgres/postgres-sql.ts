import { STEPS } from '../../../core/ports/series-store.ts';
import type { Agg } from '../rollup-math.ts';
import { PG_ROLLUP_TABLE, TIER_NO } from './postgres-schema.ts';

/** Roll-up columns after (series_id, bucket), in table order. */
export const AGG_COLUMNS = 'cnt, total, lo, hi, first_ts, first_val, last_ts, last_val';

/** A roll-up row as the queries select it (AGG_COLUMNS by name). */
export interface AggRow {
  cnt: number;
  total: number;
  lo: number;
  hi: number;
  first_ts: number;
  first_val: number;
  last_ts: number;
  last_val: number;
}

export const aggOfRow = (r: AggRow): Agg => ({
  count: r.cnt,
  sum: r.total,
  min: r.lo,
  max: r.hi,
  firstTs: r.first_ts,
  first: r.first_val,
  lastTs: r.last_ts,
  last: r.last_val,
});

/**
 * Merges roll-up rows (AGG_COLUMNS) in a GROUP BY. Ties on first/last timestamps go to the smaller first
 * and the larger last value, as mergeInto() in rollup-math.ts decides them, so SQL and TypeScript merges
 * agree whatever the row order.
 */
export const MERGE_AGG = `SUM(cnt)::integer AS cnt, SUM(total) AS total, MIN(lo) AS lo, MAX(hi) AS hi,
  MIN(first_ts) AS first_ts, (array_agg(first_val ORDER BY first_ts, first_val))[1] AS first_val,
  MAX(last_ts) AS last_ts, (array_agg(last_val ORDER BY last_ts DESC, last_val DESC))[1] AS last_val`;

/**
 * One INSERT per tier table from a source relation with a `tier` column: data-modifying CTEs, so the
 * three tables are written by one statement (one round trip). `merge` adds the source to what is there
 * (the delta of new points, tie rules of mergeInto()); `replace` overwrites it (a recomputed bucket).
 * SET expressions read the row as it was before the update.
 */
export function upsertTiers(source: string, mode: 'merge' | 'replace'): string {
  const set =
    mode === 'replace'
      ? AGG_COLUMNS.split(', ')
          .map((c) => `${c} = excluded.${c}`)
          .join(', ')
      : `cnt = r.cnt + excluded.cnt, total = r.total + excluded.total,
         lo = LEAST(r.lo, excluded.lo), hi = GREATEST(r.hi, excluded.hi),
         first_val = CASE WHEN excluded.first_ts < r.first_ts
           OR (excluded.first_ts = r.first_ts AND excluded.first_val < r.first_val)
           THEN excluded.first_val ELSE r.first_val END,
         first_ts = LEAST(r.first_ts, excluded.first_ts),
         last_val = CASE WHEN excluded.last_ts > r.last_ts
           OR (excluded.last_ts = r.last_ts AND excluded.last_val > r.last_val)
           THEN excluded.last_val ELSE r.last_val END,
         last_ts = GREATEST(r.last_ts, excluded.last_ts)`;
  return STEPS.map(
    (tier) => `${tier}_${mode} AS (
      INSERT INTO ${PG_ROLLUP_TABLE[tier]} AS r (series_id, bucket, ${AGG_COLUMNS})
      SELECT series_id, bucket, ${AGG_COLUMNS} FROM ${source} WHERE tier = ${TIER_NO[tier]}
      ON CONFLICT (series_id, bucket) DO UPDATE SET ${set})`,
  ).join(',\n');
}

/** Columns of one array per field, for unnest(): one round trip carries a whole batch. */
export class Columns<Row extends readonly unknown[]> {
  readonly arrays: unknown[][];
  constructor(width: number) {
    this.arrays = Array.from({ length: width }, () => []);
  }

  push(...row: Row): void {
    for (let i = 0; i < row.length; i++) this.arrays[i]!.push(row[i]);
  }

  get length(): number {
    return this.arrays[0]?.length ?? 0;
  }
}

/** An Agg's fields in AGG_COLUMNS order. */
export const aggFields = (a: Agg): [number, number, number, number, number, number, number, number] => [
  a.count,
  a.sum,
  a.min,
  a.max,
  a.firstTs,
  a.first,
  a.lastTs,
  a.last,
];
