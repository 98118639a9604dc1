import type pg from 'pg';
import type { CityCalendar } from '../../../core/city-calendar.ts';
import { STEPS } from '../../../core/ports/series-store.ts';
import type { StepHorizons as Horizons } from '../batch-writer.ts';
import { PG_ROLLUP_TABLE } from './postgres-schema.ts';

const DAY_MS = 86_400_000;

/**
 * Moves each tier's horizon forward (never back: a clock step back, or a node whose clock lags, never
 * un-prunes) and deletes what lies before it, in one statement: the horizons and the deletions commit
 * together. Raw points are cut at a city-day boundary, so a revisable point's buckets can always be
 * recomputed from raw points.
 */
const PRUNE = `
  WITH horizon AS (
    INSERT INTO meta AS m (key, value)
    SELECT * FROM unnest($1::text[], $2::double precision[])
    ON CONFLICT (key) DO UPDATE SET value = GREATEST(m.value, excluded.value)
    RETURNING key, value),
  cut AS (SELECT
    ${['raw', ...STEPS].map((k) => `(SELECT value FROM horizon WHERE key = 'horizon.${k}') AS ${k}`).join(', ')}),
  gone_points AS (DELETE FROM points WHERE ts < (SELECT raw FROM cut) RETURNING 1),
  gone_revisions AS (DELETE FROM revisions WHERE ts < (SELECT raw FROM cut) RETURNING 1),
  ${STEPS.map(
    (tier) =>
      `gone_${tier} AS (DELETE FROM ${PG_ROLLUP_TABLE[tier]} WHERE bucket < (SELECT ${tier} FROM cut) RETURNING 1)`,
  ).join(',\n  ')}
  SELECT (SELECT COUNT(*) FROM gone_points) + (SELECT COUNT(*) FROM gone_revisions)
    ${STEPS.map((tier) => `+ (SELECT COUNT(*) FROM gone_${tier})`).join(' ')} AS removed,
    (SELECT json_object_agg(key, value) FROM horizon) AS horizons`;

export async function prunePg(
  db: Pick<pg.Pool, 'query'>,
  calendar: CityCalendar,
  retention: { rawDays: number; minuteDays: number; hourDays: number; dayDays: number },
  now: number,
): Promise<{ removed: number; horizons: Horizons }> {
  const cuts: Horizons = {
    raw: calendar.bucketStart(now - retention.rawDays * DAY_MS, 'day'),
    minute: now - retention.minuteDays * DAY_MS,
    hour: now - retention.hourDays * DAY_MS,
    day: now - retention.dayDays * DAY_MS,
  };
  const keys = Object.keys(cuts) as Array<keyof Horizons>;
  const { rows } = await db.query<{ removed: number; horizons: Record<string, number> }>(PRUNE, [
    keys.map((k) => `horizon.${k}`),
    keys.map((k) => cuts[k]),
  ]);
  const row = rows[0]!;
  const horizons = { ...cuts };
  for (const k of keys) horizons[k] = row.horizons[`horizon.${k}`] ?? cuts[k];
  return { removed: row.removed, horizons };
}
