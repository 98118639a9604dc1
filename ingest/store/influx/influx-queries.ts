import { Point } from '@influxdata/influxdb-client';
import type { CityCalendar } from '../../../core/city-calendar.ts';
import {
  INFLUX_FIELDS,
  INFLUX_TAGS,
  measurementOf,
  quoteIdent,
  quoteString,
  timeLiteral,
} from '../../../core/influx-schema.ts';
import type {
  Bucket,
  LatestValue,
  SeriesPoint,
  SeriesScope,
  Step,
} from '../../../core/ports/series-store.ts';
import type { InfluxResult } from './influxql-client.ts';

const msSettings = { convertTime: (t: unknown) => String(Math.floor(Number(t))) };

/** One point as line protocol, in the shared schema (core/influx-schema.ts), ms precision. */
export function toLine(p: SeriesPoint): string {
  const line = new Point(measurementOf(p.metric))
    .tag(INFLUX_TAGS.device, p.deviceId)
    .tag(INFLUX_TAGS.kind, p.kind)
    .tag(INFLUX_TAGS.district, p.district)
    .floatField(INFLUX_FIELDS.value, p.value)
    .intField(INFLUX_FIELDS.tsMs, p.ts)
    .timestamp(p.ts)
    .toLineProtocol(msSettings);
  if (line === undefined) throw new Error(`no line protocol for ${p.deviceId}.${p.metric}`);
  return line;
}

const GROUP: Record<Step, string> = { minute: '1m', hour: '1h', day: '1d' };

const v = quoteIdent(INFLUX_FIELDS.value);
const ts = quoteIdent(INFLUX_FIELDS.tsMs);
/** The mergeable aggregate of a bucket; first/last reading times come from the ts_ms field (see schema). */
const AGGREGATES = [
  `count(${v}) AS "n"`,
  `sum(${v}) AS "sum"`,
  `min(${v}) AS "min"`,
  `max(${v}) AS "max"`,
  `first(${v}) AS "first"`,
  `last(${v}) AS "last"`,
  `min(${ts}) AS "first_ts"`,
  `max(${ts}) AS "last_ts"`,
].join(', ');

function scopeFilter(scope: SeriesScope): string {
  if ('device' in scope) return ` AND ${quoteIdent(INFLUX_TAGS.device)} = ${quoteString(scope.device)}`;
  if ('district' in scope) return ` AND ${quoteIdent(INFLUX_TAGS.district)} = ${quoteString(scope.district)}`;
  return '';
}

const ceilTo = (calendar: CityCalendar, t: number, step: Step): number => {
  const start = calendar.bucketStart(t, step);
  return start === t ? t : calendar.nextBucketStart(t, step);
};

/**
 * Buckets whose start lies in [from, to), as the port defines them: the points from the first bucket start
 * at or after `from` up to the first bucket start at or after `to`. Local hours and days come from tz(),
 * which InfluxDB applies per bucket (23- and 25-hour days, half-hour zones): checked by the contract suite.
 */
export function bucketQuery(
  calendar: CityCalendar,
  q: { scope: SeriesScope; metric: string; from: number; to: number; step: Step },
): string | null {
  const from = ceilTo(calendar, q.from, q.step);
  const to = ceilTo(calendar, q.to, q.step);
  if (from >= to) return null;
  return (
    `SELECT ${AGGREGATES} FROM ${quoteIdent(measurementOf(q.metric))}` +
    ` WHERE time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)}${scopeFilter(q.scope)}` +
    ` GROUP BY time(${GROUP[q.step]}) fill(none) tz(${quoteString(calendar.zone)})`
  );
}

/** One aggregate over the minute buckets whose start lies in [from, to) (as SQLite's aggregate). */
export function aggregateQuery(q: {
  scope: SeriesScope;
  metric: string;
  from: number;
  to: number;
}): string | null {
  const from = Math.ceil(q.from / 60_000) * 60_000;
  const to = Math.ceil(q.to / 60_000) * 60_000;
  if (from >= to) return null;
  return (
    `SELECT ${AGGREGATES} FROM ${quoteIdent(measurementOf(q.metric))}` +
    ` WHERE time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)}${scopeFilter(q.scope)}`
  );
}

/** aggregateQuery for every device of a metric at once: one series per device tag (GROUP BY device). */
export function aggregateByDeviceQuery(q: {
  metric: string;
  kind?: string;
  district?: string;
  from: number;
  to: number;
}): string | null {
  const base = aggregateQuery({ scope: { city: true }, metric: q.metric, from: q.from, to: q.to });
  if (base === null) return null;
  const kind = q.kind === undefined ? '' : ` AND ${quoteIdent(INFLUX_TAGS.kind)} = ${quoteString(q.kind)}`;
  const district =
    q.district === undefined ? '' : ` AND ${quoteIdent(INFLUX_TAGS.district)} = ${quoteString(q.district)}`;
  return `${base}${kind}${district} GROUP BY ${quoteIdent(INFLUX_TAGS.device)}`;
}

/** Rows of aggregateByDeviceQuery: one series per device, tagged with its id; t of each bucket is `from`. */
export function parseByDevice(result: InfluxResult | undefined, from: number): Map<string, Bucket> {
  const out = new Map<string, Bucket>();
  for (const series of result?.series ?? []) {
    const device = series.tags?.[INFLUX_TAGS.device];
    if (device === undefined) continue;
    const b = parseBuckets({ statement_id: 0, series: [series] }, from)[0];
    if (b !== undefined) out.set(device, b);
  }
  return out;
}

/** The newest point of each metric of a device: a lone selector reports the point's own time. */
export function latestQuery(deviceId: string, metrics: readonly string[]): string | null {
  if (metrics.length === 0) return null;
  const from = metrics.map((m) => quoteIdent(measurementOf(m))).join(', ');
  return `SELECT last(${v}) AS "value" FROM ${from} WHERE ${quoteIdent(INFLUX_TAGS.device)} = ${quoteString(deviceId)}`;
}

/** DELETE of our measurements before `cutoff` (InfluxDB 1.x; 2.x expires data by bucket retention). */
export function deleteBeforeQuery(metrics: readonly string[], cutoff: number): string | null {
  if (metrics.length === 0) return null;
  return metrics
    .map((m) => `DELETE FROM ${quoteIdent(measurementOf(m))} WHERE time < ${timeLiteral(cutoff)}`)
    .join('; ');
}

const num = (x: unknown): number => {
  if (typeof x !== 'number') throw new Error(`InfluxDB returned a non-number: ${JSON.stringify(x)}`);
  return x;
};

/** Rows of a bucket query as Buckets; `tOverride` for aggregate() (no GROUP BY time: t is `from`). */
export function parseBuckets(result: InfluxResult | undefined, tOverride?: number): Bucket[] {
  const series = result?.series?.[0];
  if (series === undefined) return [];
  const col = (name: string) => {
    const i = series.columns.indexOf(name);
    if (i < 0) throw new Error(`InfluxDB result lacks column ${name}`);
    return i;
  };
  const [t, n, sum, min, max, first, last, firstTs, lastTs] = [
    'time',
    'n',
    'sum',
    'min',
    'max',
    'first',
    'last',
    'first_ts',
    'last_ts',
  ].map(col) as [number, number, number, number, number, number, number, number, number];
  const out: Bucket[] = [];
  for (const row of series.values) {
    const count = num(row[n]);
    if (count === 0) continue;
    const s = num(row[sum]);
    out.push({
      t: tOverride ?? num(row[t]),
      count,
      sum: s,
      min: num(row[min]),
      max: num(row[max]),
      mean: s / count,
      firstTs: num(row[firstTs]),
      first: num(row[first]),
      lastTs: num(row[lastTs]),
      last: num(row[last]),
    });
  }
  return out;
}

/** Rows of latestQuery: one series per measurement (metric). */
export function parseLatest(result: InfluxResult | undefined): LatestValue[] {
  const out: LatestValue[] = [];
  for (const s of result?.series ?? []) {
    const row = s.values[0];
    if (row === undefined) continue;
    out.push({ metric: s.name, ts: num(row[0]), value: num(row[1]) });
  }
  return out.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
}
