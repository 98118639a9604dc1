/**
 * The bad-input corpus for MQTT payloads: one row per way a device can get a message wrong, each with the
 * code the platform must answer with on `devices/{id}/errors` and, where it applies, the offending field.
 * test/e2e/refusals.test.ts holds the first dozen basic rows; these are the rest of the corpus, run by
 * bad-input-mqtt.test.ts against an air-quality station.
 */
export interface MqttCase {
  name: string;
  /** Built at publish time so timestamps are fresh. */
  payload: (now: number) => string | Buffer;
  code: string;
  field?: string;
  /** Default telemetry. */
  channel?: 'telemetry' | 'events' | 'status';
}

const r = (ts: unknown, values: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ts, values, ...extra });
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const DAY = 86_400_000;

export const mqttCorpus: MqttCase[] = [
  // JSON itself
  { name: 'NaN literal', payload: (n) => `{"ts":${n},"values":{"pm25":NaN}}`, code: 'INGEST_MALFORMED_JSON' },
  {
    name: 'Infinity literal',
    payload: (n) => `{"ts":${n},"values":{"pm25":Infinity}}`,
    code: 'INGEST_MALFORMED_JSON',
  },
  {
    name: 'trailing comma',
    payload: (n) => `{"ts":${n},"values":{"pm25":1,}}`,
    code: 'INGEST_MALFORMED_JSON',
  },
  { name: 'single quotes', payload: (n) => `{'ts':${n},'values':{'pm25':1}}`, code: 'INGEST_MALFORMED_JSON' },
  {
    name: 'invalid UTF-8 bytes',
    payload: () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    code: 'INGEST_MALFORMED_JSON',
  },
  {
    name: 'two JSON documents',
    payload: (n) => `${r(n, { pm25: 1 })}${r(n, { pm25: 2 })}`,
    code: 'INGEST_MALFORMED_JSON',
  },
  { name: 'whitespace only', payload: () => '   \n\t ', code: 'INGEST_MALFORMED_JSON' },
  { name: 'deep object nesting', payload: () => nested(200), code: 'INGEST_TOO_DEEP' },
  // shape
  { name: 'top-level null', payload: () => 'null', code: 'INGEST_SCHEMA' },
  { name: 'top-level number', payload: () => '42', code: 'INGEST_SCHEMA' },
  { name: 'top-level string', payload: () => '"pm25=3"', code: 'INGEST_SCHEMA' },
  { name: 'missing ts', payload: () => JSON.stringify({ values: { pm25: 1 } }), code: 'INGEST_SCHEMA' },
  { name: 'missing values', payload: (n) => JSON.stringify({ ts: n }), code: 'INGEST_SCHEMA' },
  { name: 'empty values', payload: (n) => r(n, {}), code: 'INGEST_SCHEMA', field: 'values' },
  { name: 'values is an array', payload: (n) => r(n, [1, 2]), code: 'INGEST_SCHEMA' },
  {
    name: 'value is null',
    payload: (n) => r(n, { pm25: null }),
    code: 'INGEST_SCHEMA',
    field: 'values.pm25',
  },
  {
    name: 'value is a numeric string',
    payload: (n) => r(n, { pm25: '12' }),
    code: 'INGEST_SCHEMA',
    field: 'values.pm25',
  },
  {
    name: 'value is a boolean',
    payload: (n) => r(n, { pm25: true }),
    code: 'INGEST_SCHEMA',
    field: 'values.pm25',
  },
  {
    name: 'value object without value',
    payload: (n) => r(n, { no2: { unit: 'ppb' } }),
    code: 'INGEST_SCHEMA',
  },
  {
    name: 'seq negative',
    payload: (n) => r(n, { pm25: 1 }, { seq: -1 }),
    code: 'INGEST_SCHEMA',
    field: 'seq',
  },
  {
    name: 'seq fractional',
    payload: (n) => r(n, { pm25: 1 }, { seq: 1.5 }),
    code: 'INGEST_SCHEMA',
    field: 'seq',
  },
  { name: 'metric name too long', payload: (n) => r(n, { ['m'.repeat(65)]: 1 }), code: 'INGEST_SCHEMA' },
  {
    name: 'prototype key as metric',
    payload: (n) => `{"ts":${n},"values":{"__proto__":1}}`,
    code: 'INGEST_SCHEMA',
  },
  { name: 'empty batch array', payload: () => '[]', code: 'INGEST_SENML_INVALID' },
  {
    name: 'batch of 1 001 readings',
    payload: (n) =>
      JSON.stringify(Array.from({ length: 1_001 }, (_, i) => ({ ts: n - i, values: { pm25: 1 } }))),
    code: 'INGEST_TOO_MANY_READINGS',
  },
  {
    name: 'batch with a bad member',
    payload: (n) => JSON.stringify([{ ts: n, values: { pm25: 1 } }, { ts: n - 1 }]),
    code: 'INGEST_SCHEMA',
  },
  // numbers
  {
    name: 'negative infinity by overflow',
    payload: (n) => `{"ts":${n},"values":{"pm25":-1e400}}`,
    code: 'INGEST_NOT_FINITE',
    field: 'values.pm25',
  },
  {
    name: 'huge number',
    payload: (n) => r(n, { pm25: 1e308 }),
    code: 'INGEST_OUT_OF_RANGE',
    field: 'values.pm25',
  },
  {
    name: 'above the range after conversion',
    payload: (n) => r(n, { pm25: { value: 2, unit: 'mg/m³' } }),
    code: 'INGEST_OUT_OF_RANGE',
    field: 'values.pm25',
  },
  {
    name: 'battery above 100 %',
    payload: (n) => r(n, { battery: 101 }),
    code: 'INGEST_OUT_OF_RANGE',
    field: 'values.battery',
  },
  // metrics and units
  {
    name: 'metric of another kind',
    payload: (n) => r(n, { laeq: 50 }),
    code: 'INGEST_UNKNOWN_METRIC',
    field: 'values.laeq',
  },
  {
    name: 'metric in the wrong case',
    payload: (n) => r(n, { PM25: 5 }),
    code: 'INGEST_UNKNOWN_METRIC',
    field: 'values.PM25',
  },
  {
    name: 'unit of another metric',
    payload: (n) => r(n, { pm25: { value: 3, unit: 'ppb' } }),
    code: 'INGEST_UNKNOWN_UNIT',
    field: 'values.pm25.unit',
  },
  { name: 'empty unit', payload: (n) => r(n, { no2: { value: 3, unit: '' } }), code: 'INGEST_SCHEMA' },
  // timestamps
  {
    name: 'ISO date without an offset',
    payload: () => r('2024-06-01T12:00:00', { pm25: 1 }),
    code: 'INGEST_TS_INVALID',
  },
  {
    name: 'impossible calendar date',
    payload: () => r('2024-02-30T12:00:00Z', { pm25: 1 }),
    code: 'INGEST_TS_INVALID',
  },
  { name: 'ts negative', payload: () => r(-5, { pm25: 1 }), code: 'INGEST_TS_INVALID' },
  {
    name: 'ts in epoch seconds',
    payload: (n) => r(Math.floor(n / 1000), { pm25: 1 }),
    code: 'INGEST_TS_INVALID',
  },
  { name: 'ts far in the future', payload: (n) => r(n + 365 * DAY, { pm25: 1 }), code: 'INGEST_TS_FUTURE' },
  {
    name: 'ts a year in the past',
    payload: (n) => r(new Date(n - 365 * DAY).toISOString(), { pm25: 1 }),
    code: 'INGEST_TS_TOO_OLD',
  },
  { name: 'ts boolean', payload: () => r(true, { pm25: 1 }), code: 'INGEST_SCHEMA' },
  { name: 'ts fractional epoch', payload: (n) => r(n + 0.5, { pm25: 1 }), code: 'INGEST_TS_INVALID' },
  // SenML
  {
    name: 'SenML record without a value',
    payload: () => JSON.stringify([{ bn: 'urn:dev:x:', n: 'pm25' }]),
    code: 'INGEST_SENML_INVALID',
    field: '[0].v',
  },
  {
    name: 'SenML unsupported bver',
    payload: () => JSON.stringify([{ bver: 99, n: 'pm25', v: 1 }]),
    code: 'INGEST_SENML_INVALID',
    field: '[0].bver',
  },
  {
    name: 'SenML bt as a string',
    payload: () => JSON.stringify([{ bt: 'now', n: 'pm25', v: 1 }]),
    code: 'INGEST_SENML_INVALID',
  },
  {
    name: 'SenML unknown field',
    payload: () => JSON.stringify([{ n: 'pm25', v: 1, vs: 'x' }]),
    code: 'INGEST_SENML_INVALID',
  },
  {
    name: 'SenML bu unknown unit',
    payload: () => JSON.stringify([{ bu: 'furlongs', n: 'pm25', v: 1 }]),
    code: 'INGEST_UNKNOWN_UNIT',
  },
  {
    name: 'SenML name empty',
    payload: () => JSON.stringify([{ bn: 'urn:dev:x:', v: 1 }]),
    code: 'INGEST_SENML_INVALID',
    field: '[0].n',
  },
  {
    name: 'SenML base time far in the future',
    payload: (n) => JSON.stringify([{ bt: n / 1000 + 365 * 86_400, n: 'pm25', v: 1 }]),
    code: 'INGEST_TS_FUTURE',
  },
  {
    name: 'SenML value overflowing with bv',
    payload: () => JSON.stringify([{ bv: 1e308, n: 'pm25', v: 1e308 }]),
    code: 'INGEST_NOT_FINITE',
    field: '[0].v',
  },
  // events and status
  {
    name: 'event without a type',
    payload: (n) => JSON.stringify({ ts: n }),
    code: 'INGEST_SCHEMA',
    channel: 'events',
  },
  {
    name: 'event of another kind',
    payload: (n) => JSON.stringify({ ts: n, type: 'outage_start' }),
    code: 'INGEST_UNKNOWN_EVENT',
    channel: 'events',
  },
  {
    name: 'event data nested',
    payload: (n) => JSON.stringify({ ts: n, type: 'calibration', data: { a: { b: 1 } } }),
    code: 'INGEST_SCHEMA',
    channel: 'events',
  },
  {
    name: 'event in the far future',
    payload: (n) => JSON.stringify({ ts: n + 365 * DAY, type: 'calibration' }),
    code: 'INGEST_TS_FUTURE',
    channel: 'events',
  },
  {
    name: 'status other than online/offline',
    payload: () => 'rebooting',
    code: 'INGEST_SCHEMA',
    channel: 'status',
  },
];
