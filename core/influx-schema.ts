/**
 * The InfluxDB schema of citymetrics, designed once and shared by the InfluxDB series store, the Grafana
 * dashboards and the docs (docs/run-at-scale.md, "Schema"). Changing a name here is a data migration.
 *
 * - measurement: the metric name (`pm25`, `laeq`, `volume`, `energy`...). A metric has one canonical unit
 *   across every device kind that reports it, so one measurement never mixes units.
 * - tags (all bounded: by the device registry, the kind catalogue and the city's districts):
 *   `device` (device id), `kind` (device kind id), `district`.
 * - fields: `value` (float, canonical unit) and `ts_ms` (integer, the reading's epoch ms: equal to the
 *   point's time, stored because an InfluxQL selector under GROUP BY time() reports the bucket start, and
 *   the roll-ups need the time of each bucket's first and last reading).
 * - time: the reading timestamp, written with millisecond precision.
 *
 * Never a tag: values, sequence numbers, message ids, units, free text (unbounded: each new tag value is a
 * new series in the index).
 */
export const INFLUX_TAGS = { device: 'device', kind: 'kind', district: 'district' } as const;
export const INFLUX_FIELDS = { value: 'value', tsMs: 'ts_ms' } as const;
export const INFLUX_PRECISION = 'ms' as const;

/** The measurement of a metric. */
export const measurementOf = (metric: string): string => metric;

/** An InfluxQL identifier: always double-quoted, so keywords (`count`) and dashes (`air-quality`) are safe. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An InfluxQL string literal (tag values in WHERE). */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An InfluxQL regex literal matching exactly `value` (Grafana multi-value variables use regexes). */
export function exactRegex(value: string): string {
  return `/^${value.replace(/[\\/^$.*+?()[\]{}|]/g, '\\$&')}$/`;
}

/** An RFC 3339 time literal for InfluxQL WHERE clauses. */
export const timeLiteral = (ms: number): string => `'${new Date(ms).toISOString()}'`;
