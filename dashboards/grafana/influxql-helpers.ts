import {
  INFLUX_FIELDS,
  INFLUX_TAGS,
  measurementOf,
  quoteIdent,
  quoteString,
} from '../../core/influx-schema.ts';
import { energyMetric } from '../../core/sound-level.ts';
import type { Transformation } from './grafana-json.ts';
import type { VariableSpec } from './grafana-model.ts';

/**
 * InfluxQL for panels, in the shared schema (core/influx-schema.ts). Grafana fills in $timeFilter and
 * $__interval; $district / $device are multi-value variables (a regex alternation), $tz the city zone, so
 * day buckets are local calendar days.
 */
export type Agg = 'mean' | 'sum' | 'max' | 'min' | 'last' | 'count' | 'energetic';
export type TagName = keyof typeof INFLUX_TAGS;

const VALUE = quoteIdent(INFLUX_FIELDS.value);
const tag = (t: TagName) => quoteIdent(INFLUX_TAGS[t]);
const from = (metric: string) => quoteIdent(measurementOf(metric));

/**
 * What a panel selects, and from where. `energetic` is the level of a sound-level metric over each bucket:
 * decibels never average arithmetically, so it is 10·log10 of the mean of the companion series that holds
 * 10^(L/10) for every reading (core/sound-level.ts). A maximum or minimum of levels needs no such care.
 */
function select(metric: string, agg: Agg, as = ''): string {
  const alias = as === '' ? '' : ` AS ${quoteIdent(as)}`;
  if (agg === 'energetic')
    return `SELECT 10 * log10(mean(${VALUE}))${alias} FROM ${from(energyMetric(metric))}`;
  return `SELECT ${agg}(${VALUE})${alias} FROM ${from(metric)}`;
}

export interface Filter {
  /** restrict to one device kind (a metric such as `energy` is reported by several) */
  kind?: string;
  /** apply the $device variable as well as $district */
  device?: boolean;
}

function where(f: Filter = {}): string {
  const parts = ['$timeFilter', `${tag('district')} =~ /^$district$/`];
  if (f.device === true) parts.push(`${tag('device')} =~ /^$device$/`);
  if (f.kind !== undefined) parts.push(`${tag('kind')} = ${quoteString(f.kind)}`);
  return `WHERE ${parts.join(' AND ')}`;
}

const TZ = "tz('$tz')";

/** A time series per `by` tag (or one for all), at Grafana's interval. */
export function overTime(metric: string, agg: Agg, opts: Filter & { by?: TagName } = {}): string {
  const by = opts.by !== undefined ? `, ${tag(opts.by)}` : '';
  return `${select(metric, agg)} ${where(opts)} GROUP BY time($__interval)${by} fill(none) ${TZ}`;
}

/** Local calendar days (the U4SSC daily values): GROUP BY time(1d) with the city's tz(). */
export function daily(metric: string, agg: Agg, opts: Filter & { by?: TagName } = {}): string {
  const by = opts.by !== undefined ? `, ${tag(opts.by)}` : '';
  return `${select(metric, agg)} ${where(opts)} GROUP BY time(1d)${by} fill(none) ${TZ}`;
}

/**
 * The mean of a daily aggregate: e.g. the mean of daily sums (kWh per day). A subquery, so the days are
 * the city's days. Every day in the range counts in full, so the panel must be given whole days
 * (`WHOLE_DAYS`): InfluxQL cannot tell a partial first or last day from a quiet one.
 */
export function meanOfDaily(metric: string, agg: Agg, opts: Filter = {}): string {
  const inner = `SELECT ${agg}(${VALUE}) AS "d" FROM ${from(metric)} ${where(opts)} GROUP BY time(1d) fill(none) ${TZ}`;
  return `SELECT mean("d") FROM (${inner})`;
}

/**
 * A panel time override of whole city days: the 30 days before today. Grafana takes `now-29d`..`now`,
 * shifts it back one day and rounds (`/d`) the start down and the end up, in the dashboard's time zone:
 * from the start of the day 30 days ago to the end of yesterday.
 */
export const WHOLE_DAYS = { timeFrom: '29d', timeShift: '1d/d' } as const;

/**
 * The highest hourly mean per `by` tag (WHO and EU NO2 limits are on hourly means, not single readings):
 * hours are the city's clock hours.
 */
export function maxOfHourlyMeans(metric: string, by: TagName, opts: Filter = {}): string {
  const inner = `SELECT mean(${VALUE}) AS "h" FROM ${from(metric)} ${where(opts)} GROUP BY time(1h), ${tag(by)} fill(none) ${TZ}`;
  return `SELECT max("h") FROM (${inner}) GROUP BY ${tag(by)}`;
}

/** One value over the whole range (a KPI-style stat). */
export function overall(metric: string, agg: Agg, opts: Filter = {}): string {
  return `${select(metric, agg)} ${where(opts)}`;
}

/** One row per `by` tag value: a table or bar gauge. */
export function perTag(metric: string, agg: Agg, by: TagName, opts: Filter = {}): string {
  return `${select(metric, agg)} ${where(opts)} GROUP BY ${tag(by)}`;
}

/** Values stored per interval in several measurements: ingest throughput. */
export function countOverTime(metrics: readonly string[]): string {
  return `SELECT count(${VALUE}) FROM ${metrics.map(from).join(', ')} ${where()} GROUP BY time($__interval) fill(none) ${TZ}`;
}

/**
 * InfluxDB 1.x never merges measurements (not even in a subquery's outer query): a query over several
 * returns a series per measurement. The panels that need one answer across measurements ask for a table
 * (rows of every measurement, tags as columns) and let Grafana merge the rows and group them
 * (`ACROSS_MEASUREMENTS`).
 */

/** Values stored per `by` tag value over the range, one row per measurement and tag value. */
export function countPerTag(metrics: readonly string[], by: TagName): string {
  return `SELECT count(${VALUE}) FROM ${metrics.map(from).join(', ')} ${where()} GROUP BY ${tag(by)}`;
}

/** A row per interval, measurement and device that reported in it. */
export function devicesReporting(metrics: readonly string[]): string {
  return `SELECT count(${VALUE}) FROM ${metrics.map(from).join(', ')} ${where()} GROUP BY time($__interval), ${tag('device')} fill(none) ${TZ}`;
}

/** Grafana transformations over those table rows (`Time` and tag columns are named as Grafana names them). */
export const ACROSS_MEASUREMENTS = {
  /** one row per `by` value: the sum of the per-measurement counts */
  sumPer: (by: TagName): Transformation[] => [
    { id: 'merge', options: {} },
    {
      id: 'groupBy',
      options: {
        fields: {
          [INFLUX_TAGS[by]]: { operation: 'groupby' },
          count: { operation: 'aggregate', aggregations: ['sum'] },
        },
      },
    },
  ],
  /** one row per interval: how many distinct devices have a row in it */
  distinctDevicesPerInterval: [
    { id: 'merge', options: {} },
    {
      id: 'groupBy',
      options: {
        fields: {
          Time: { operation: 'groupby' },
          [INFLUX_TAGS.device]: { operation: 'aggregate', aggregations: ['distinctCount'] },
        },
      },
    },
    { id: 'sortBy', options: { fields: {}, sort: [{ field: 'Time' }] } },
  ] as Transformation[],
};

/** Newest reading time per device (ms since epoch): freshness. */
export function lastSeen(metric: string, opts: Filter = {}): string {
  return `SELECT last(${quoteIdent(INFLUX_FIELDS.tsMs)}) FROM ${from(metric)} ${where(opts)} GROUP BY ${tag('device')}, ${tag('kind')}`;
}

export const districtVariable: VariableSpec = {
  name: 'district',
  label: 'District',
  type: 'query',
  query: `SHOW TAG VALUES WITH KEY = ${tag('district')}`,
};

/** Devices of the chosen districts, optionally of some kinds. */
export function deviceVariable(kinds: readonly string[] = []): VariableSpec {
  const kindFilter =
    kinds.length === 0
      ? ''
      : ` AND ${tag('kind')} =~ /^(${kinds.map((k) => k.replace(/[-.]/g, '\\$&')).join('|')})$/`;
  return {
    name: 'device',
    label: 'Device',
    type: 'query',
    query: `SHOW TAG VALUES WITH KEY = ${tag('device')} WHERE ${tag('district')} =~ /^$district$/${kindFilter}`,
  };
}
