import type pg from 'pg';
import type { CityCalendar } from '../../../core/city-calendar.ts';
import {
  type Bucket,
  type DeviceAggregateQuery,
  type LatestValue,
  type SeriesQuery,
  type SeriesScope,
  STEPS,
} from '../../../core/ports/series-store.ts';
import { planRange } from '../range-plan.ts';
import { toBucket } from '../rollup-math.ts';
import { CITY_KEY } from '../series-registry.ts';
import { PG_ROLLUP_TABLE } from './postgres-schema.ts';
import { AGG_COLUMNS, type AggRow, aggOfRow, MERGE_AGG } from './postgres-sql.ts';

/** Reads run on the pool; each is one statement (one round trip). */
type Db = Pick<pg.Pool, 'query'>;

const scopeParams = (scope: SeriesScope): [string, string] =>
  'device' in scope
    ? ['device', scope.device]
    : 'district' in scope
      ? ['district', scope.district]
      : ['city', CITY_KEY];

const SERIES_ID = '(SELECT id FROM series WHERE scope = $1 AND key = $2 AND metric = $3)';

/**
 * The roll-up rows whose bucket start lies in the segments planRange() tiles [from, to) with, as one
 * UNION ALL; `filter` restricts the series. Parameters from `$first` on are the segments' bounds.
 */
function segmentRows(
  calendar: CityCalendar,
  from: number,
  to: number,
  filter: string,
  first: number,
): { sql: string; params: number[] } {
  const params: number[] = [];
  const parts = planRange(calendar, from, to).map((seg) => {
    params.push(seg.from, seg.to);
    const n = first + params.length - 2;
    return `SELECT series_id, ${AGG_COLUMNS} FROM ${PG_ROLLUP_TABLE[seg.tier]}
      WHERE series_id ${filter} AND bucket >= $${n} AND bucket < $${n + 1}`;
  });
  return { sql: parts.join('\n UNION ALL '), params };
}

export async function queryBuckets(db: Db, q: SeriesQuery): Promise<Bucket[]> {
  const { rows } = await db.query<AggRow & { bucket: number }>(
    `SELECT bucket, ${AGG_COLUMNS} FROM ${PG_ROLLUP_TABLE[q.step]}
     WHERE series_id = ${SERIES_ID} AND bucket >= $4 AND bucket < $5 ORDER BY bucket`,
    [...scopeParams(q.scope), q.metric, q.from, q.to],
  );
  return rows.map((r) => toBucket(r.bucket, aggOfRow(r)));
}

/** The merge of the coarsest buckets tiling [from, to), in SQL; t of the result is `from`. */
export async function aggregateRange(
  db: Db,
  calendar: CityCalendar,
  q: Omit<SeriesQuery, 'step'>,
): Promise<Bucket | null> {
  const seg = segmentRows(calendar, q.from, q.to, `= ${SERIES_ID}`, 4);
  if (seg.params.length === 0) return null;
  const { rows } = await db.query<AggRow>(`SELECT ${MERGE_AGG} FROM (${seg.sql}) r`, [
    ...scopeParams(q.scope),
    q.metric,
    ...seg.params,
  ]);
  const row = rows[0];
  return row === undefined || row.cnt === null ? null : toBucket(q.from, aggOfRow(row));
}

/** aggregateRange() for every device series of a metric (of a kind, in a district), grouped in SQL. */
export async function aggregateDevices(
  db: Db,
  calendar: CityCalendar,
  q: DeviceAggregateQuery,
): Promise<Map<string, Bucket>> {
  const ids = `IN (SELECT id FROM series WHERE scope = 'device' AND metric = $1
    AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR district = $3))`;
  const seg = segmentRows(calendar, q.from, q.to, ids, 4);
  const out = new Map<string, Bucket>();
  if (seg.params.length === 0) return out;
  const { rows } = await db.query<AggRow & { device_id: string }>(
    `SELECT s.key AS device_id, ${MERGE_AGG} FROM (${seg.sql}) r JOIN series s ON s.id = r.series_id
     GROUP BY s.key`,
    [q.metric, q.kind ?? null, q.district ?? null, ...seg.params],
  );
  for (const r of rows) out.set(r.device_id, toBucket(q.from, aggOfRow(r)));
  return out;
}

/** Newest raw point per metric of a device; once raw points are pruned, the newest roll-up's last reading. */
export async function latestValues(db: Db, deviceId: string): Promise<LatestValue[]> {
  const rollups = STEPS.map(
    (tier, i) => `(SELECT last_ts, last_val, ${i + 1} FROM ${PG_ROLLUP_TABLE[tier]}
      WHERE series_id = s.id ORDER BY bucket DESC LIMIT 1)`,
  ).join(' UNION ALL ');
  const { rows } = await db.query<LatestValue>(
    `SELECT s.metric, x.ts, x.value FROM series s CROSS JOIN LATERAL (
       SELECT ts, value FROM (
         (SELECT ts, value, 0 AS rank FROM points WHERE series_id = s.id ORDER BY ts DESC LIMIT 1)
         UNION ALL ${rollups}) newest
       ORDER BY rank LIMIT 1) x
     WHERE s.scope = 'device' AND s.key = $1`,
    [deviceId],
  );
  return rows.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
}
