import {
  INFLUX_FIELDS,
  INFLUX_TAGS,
  measurementOf,
  quoteIdent,
  quoteString,
} from '../../core/influx-schema.ts';
import type { VariableSpec } from './grafana-model.ts';

/**
 * InfluxQL for panels, in the shared schema (core/influx-schema.ts). Grafana fills in $timeFilter and
 * $__interval; $district / $device are multi-value variables (a regex alternation), $tz the city zone, so
 * day buckets are local calendar days.
 */
export type Agg = 'mean' | 'sum' | 'max' | 'min' | 'last' | 'count';
export type TagName = keyof typeof INFLUX_TAGS;

const VALUE = quoteIdent(INFLUX_FIELDS.value);
const tag = (t: TagName) => quoteIdent(INFLUX_TAGS[t]);
const from = (metric: string) => quoteIdent(measurementOf(metric));

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
  return `SELECT ${agg}(${VALUE}) FROM ${from(metric)} ${where(opts)} GROUP BY time($__interval)${by} fill(none) ${TZ}`;
}

/** Local calendar days (the U4SSC daily values): GROUP BY time(1d) with the city's tz(). */
export function daily(metric: string, agg: Agg, opts: Filter & { by?: TagName } = {}): string {
  const by = opts.by !== undefined ? `, ${tag(opts.by)}` : '';
  return `SELECT ${agg}(${VALUE}) FROM ${from(metric)} ${where(opts)} GROUP BY time(1d)${by} fill(none) ${TZ}`;
}

/**
 * A daily aggregate averaged over the range: e.g. the mean of daily sums (kWh per day). A subquery, so
 * the days are the city's days.
 */
export function meanOfDaily(metric: string, agg: Agg, opts: Filter = {}): string {
  const inner = `SELECT ${agg}(${VALUE}) AS "d" FROM ${from(metric)} ${where(opts)} GROUP BY time(1d) fill(none) ${TZ}`;
  return `SELECT mean("d") FROM (${inner})`;
}

/** One value over the whole range (a KPI-style stat). */
export function overall(metric: string, agg: Agg, opts: Filter = {}): string {
  return `SELECT ${agg}(${VALUE}) FROM ${from(metric)} ${where(opts)}`;
}

/** One row per `by` tag value: a table or bar gauge. */
export function perTag(metric: string, agg: Agg, by: TagName, opts: Filter = {}): string {
  return `SELECT ${agg}(${VALUE}) FROM ${from(metric)} ${where(opts)} GROUP BY ${tag(by)}`;
}

/** Values stored per interval in several measurements: ingest throughput. */
export function countOverTime(metrics: readonly string[]): string {
  return `SELECT count(${VALUE}) FROM ${metrics.map(from).join(', ')} ${where()} GROUP BY time($__interval) fill(none) ${TZ}`;
}

/**
 * Series (device × metric) that reported in each interval: a tag is counted through a subquery, whose
 * rows are per measurement and device (InfluxQL cannot count distinct tag values across measurements).
 */
export function devicesReporting(metrics: readonly string[]): string {
  const inner = `SELECT count(${VALUE}) AS "n" FROM ${metrics.map(from).join(', ')} ${where()} GROUP BY time($__interval), ${tag('device')}`;
  return `SELECT count("n") FROM (${inner}) GROUP BY time($__interval) fill(none) ${TZ}`;
}

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
