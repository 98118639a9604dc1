import type pg from 'pg';
import type { CityCalendar } from '../../../core/city-calendar.ts';
import {
  type Revision,
  type SeriesPoint,
  STEPS,
  type WriteOutcome,
} from '../../../core/ports/series-store.ts';
import { BucketMap, DeltaMap, type StepHorizons as Horizons } from '../batch-writer.ts';
import { TIER_NO } from './postgres-schema.ts';
import type { DeviceSeries, PgSeriesCache } from './postgres-series.ts';
import { AGG_COLUMNS, aggFields, Columns, MERGE_AGG, upsertTiers } from './postgres-sql.ts';

/** One identity (series, ts) of a batch with the values it carried, in arrival order. */
interface Identity {
  s: DeviceSeries;
  ts: number;
  values: number[];
}

/**
 * Stores the final value of each identity and returns the value stored before, if any: every CTE sees
 * the snapshot taken when the statement starts, so `previous` reads the rows as they were.
 */
const UPSERT_POINTS = `
  WITH input AS (SELECT * FROM unnest($1::integer[], $2::bigint[], $3::double precision[]) AS i(series_id, ts, value)),
  previous AS (SELECT p.series_id, p.ts, p.value FROM points p JOIN input i USING (series_id, ts)),
  stored AS (
    INSERT INTO points AS p (series_id, ts, value) SELECT series_id, ts, value FROM input
    ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value WHERE p.value <> excluded.value)
  SELECT series_id, ts, value FROM previous`;

/** Deltas of new points merged into the three tiers, and the revision history, in one statement. */
const MERGE_DELTAS = `
  WITH delta AS (
    SELECT * FROM unnest($1::integer[], $2::integer[], $3::bigint[], $4::integer[], $5::double precision[],
      $6::double precision[], $7::double precision[], $8::bigint[], $9::double precision[], $10::bigint[],
      $11::double precision[]) AS d(tier, series_id, bucket, ${AGG_COLUMNS})),
  ${upsertTiers('delta', 'merge')},
  history AS (
    INSERT INTO revisions (series_id, ts, previous, value, revised_at)
    SELECT *, $16::bigint FROM unnest($12::integer[], $13::bigint[], $14::double precision[], $15::double precision[]))
  SELECT 1`;

/** Device buckets holding a revised point, recomputed from raw points (which always cover them). */
const RECOMPUTE_DEVICES = `
  WITH dirty AS (SELECT * FROM unnest($1::integer[], $2::integer[], $3::bigint[], $4::bigint[]) AS d(tier, series_id, bucket, bucket_end)),
  fresh AS (
    SELECT d.tier, d.series_id, d.bucket, COUNT(*)::integer AS cnt, SUM(p.value) AS total,
      MIN(p.value) AS lo, MAX(p.value) AS hi,
      MIN(p.ts) AS first_ts, (array_agg(p.value ORDER BY p.ts))[1] AS first_val,
      MAX(p.ts) AS last_ts, (array_agg(p.value ORDER BY p.ts DESC))[1] AS last_val
    FROM dirty d JOIN points p ON p.series_id = d.series_id AND p.ts >= d.bucket AND p.ts < d.bucket_end
    GROUP BY d.tier, d.series_id, d.bucket),
  ${upsertTiers('fresh', 'replace')}
  SELECT 1`;

/**
 * District and city buckets holding a revised point, recomputed by merging their member devices'
 * buckets (after RECOMPUTE_DEVICES: a separate statement, so it reads them recomputed). Members are the
 * devices the group has now, as in the embedded store.
 */
const RECOMPUTE_GROUPS = `
  WITH dirty AS (SELECT * FROM unnest($1::integer[], $2::integer[], $3::bigint[]) AS d(tier, series_id, bucket)),
  members AS (
    SELECT d.tier, d.series_id, d.bucket, m.id AS member
    FROM dirty d JOIN series g ON g.id = d.series_id
    JOIN series m ON m.scope = 'device' AND m.metric = g.metric AND (g.scope = 'city' OR m.district = g.key)),
  parts AS (
    ${STEPS.map(
      (tier) => `SELECT m.tier, m.series_id, m.bucket, ${AGG_COLUMNS.replace(/(\w+)/g, 'r.$1')}
      FROM members m JOIN rollup_${tier} r ON r.series_id = m.member AND r.bucket = m.bucket
      WHERE m.tier = ${TIER_NO[tier]}`,
    ).join('\n    UNION ALL ')}),
  fresh AS (SELECT tier, series_id, bucket, ${MERGE_AGG} FROM parts GROUP BY tier, series_id, bucket),
  ${upsertTiers('fresh', 'replace')}
  SELECT 1`;

const key = (id: number, ts: number): string => `${id}:${ts}`;

/**
 * Writes one batch inside the caller's transaction: series, then points (classified against what is
 * stored), then roll-ups. Round trips per batch: the series upsert when new series appear, the points,
 * the deltas; with revisions, two more (devices, then groups).
 *
 * Repeats inside a batch are read in arrival order, as the embedded store does: the first value of an
 * identity is compared with the stored one, each later value with the one before it.
 */
export async function writePgBatch(
  db: pg.ClientBase,
  cache: PgSeriesCache,
  calendar: CityCalendar,
  points: readonly SeriesPoint[],
  horizons: Horizons,
  now: number,
): Promise<WriteOutcome> {
  await cache.ensure(db, points);
  const identities = new Map<string, Identity>();
  for (const p of points) {
    const s = cache.device(p.deviceId, p.metric)!;
    const k = key(s.id, p.ts);
    const found = identities.get(k);
    if (found === undefined) identities.set(k, { s, ts: p.ts, values: [p.value] });
    else found.values.push(p.value);
  }
  const input = new Columns<[number, number, number]>(3);
  for (const id of identities.values()) input.push(id.s.id, id.ts, id.values[id.values.length - 1]!);
  const { rows } = await db.query<{ series_id: number; ts: number; value: number }>(
    UPSERT_POINTS,
    input.arrays,
  );
  const stored = new Map(rows.map((r) => [key(r.series_id, r.ts), r.value]));

  const outcome: WriteOutcome = { inserted: 0, duplicates: 0, revisions: [] };
  const deltas = new DeltaMap();
  const dirtyDevices = new BucketMap<true>();
  const dirtyGroups = new BucketMap<true>();
  const history = new Columns<[number, number, number, number]>(4);
  for (const [k, id] of identities) {
    let current = stored.get(k);
    const before = current;
    for (const value of id.values) {
      if (current === undefined) outcome.inserted++;
      else if (current === value) outcome.duplicates++;
      else {
        outcome.revisions.push(revision(id, current, value));
        history.push(id.s.id, id.ts, current, value);
      }
      current = value;
    }
    for (const tier of STEPS) {
      const b = calendar.bucketStart(id.ts, tier);
      if (b < horizons[tier]) continue; // that tier has already dropped this bucket
      if (before === undefined) {
        for (const sid of [id.s.id, id.s.districtId, id.s.cityId]) deltas.add(tier, sid, b, id.ts, current!);
      } else if (before !== current) {
        dirtyDevices.set(tier, id.s.id, b, true);
        dirtyGroups.set(tier, id.s.districtId, b, true);
        dirtyGroups.set(tier, id.s.cityId, b, true);
      }
    }
  }

  await mergeDeltas(db, deltas, [dirtyDevices, dirtyGroups], history, now);
  await recompute(db, calendar, dirtyDevices, dirtyGroups);
  return outcome;
}

const revision = (id: Identity, previous: number, value: number): Revision => ({
  deviceId: id.s.deviceId,
  metric: id.s.metric,
  ts: id.ts,
  previous,
  value,
});

/** Bucket deltas not covered by a recomputation, and the revision history. */
async function mergeDeltas(
  db: pg.ClientBase,
  deltas: DeltaMap,
  dirty: ReadonlyArray<BucketMap<true>>,
  history: Columns<[number, number, number, number]>,
  now: number,
): Promise<void> {
  const rows = new Columns<[number, number, number, ...ReturnType<typeof aggFields>]>(11);
  for (const tier of STEPS)
    for (const [id, b, agg] of deltas.entries(tier))
      if (dirty.every((d) => d.get(tier, id, b) === undefined))
        rows.push(TIER_NO[tier], id, b, ...aggFields(agg));
  if (rows.length === 0 && history.length === 0) return;
  await db.query(MERGE_DELTAS, [...rows.arrays, ...history.arrays, now]);
}

async function recompute(
  db: pg.ClientBase,
  calendar: CityCalendar,
  devices: BucketMap<true>,
  groups: BucketMap<true>,
): Promise<void> {
  const d = new Columns<[number, number, number, number]>(4);
  const g = new Columns<[number, number, number]>(3);
  for (const tier of STEPS) {
    for (const [id, b] of devices.entries(tier))
      d.push(TIER_NO[tier], id, b, calendar.nextBucketStart(b, tier));
    for (const [id, b] of groups.entries(tier)) g.push(TIER_NO[tier], id, b);
  }
  if (d.length === 0) return;
  await db.query(RECOMPUTE_DEVICES, d.arrays);
  await db.query(RECOMPUTE_GROUPS, g.arrays);
}
