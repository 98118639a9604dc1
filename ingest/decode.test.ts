import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeReadings, formatPath, MAX_DEPTH, nestingDepth } from './decode.ts';

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const opts = { maxReadings: 3, now: NOW };
const decode = (text: string) => decodeReadings(Buffer.from(text, 'utf8'), opts);
const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;

describe('decodeReadings refusals', () => {
  const cases: Array<{ name: string; payload: string; code: string; field?: string }> = [
    { name: 'empty payload', payload: '', code: 'INGEST_EMPTY_PAYLOAD' },
    { name: 'nesting past the limit', payload: deep(MAX_DEPTH + 1), code: 'INGEST_TOO_DEEP' },
    { name: 'pathological nesting', payload: deep(100_000), code: 'INGEST_TOO_DEEP' },
    { name: 'not JSON', payload: '{ts: 1}', code: 'INGEST_MALFORMED_JSON' },
    { name: 'truncated JSON', payload: '{"ts":1,"values":{"pm25":1', code: 'INGEST_MALFORMED_JSON' },
    { name: 'whitespace only', payload: '   ', code: 'INGEST_MALFORMED_JSON' },
    { name: 'a bare number', payload: '42', code: 'INGEST_SCHEMA', field: '' },
    { name: 'null', payload: 'null', code: 'INGEST_SCHEMA', field: '' },
    { name: 'missing ts', payload: '{"values":{"pm25":1}}', code: 'INGEST_SCHEMA', field: 'ts' },
    {
      name: 'ts of the wrong type',
      payload: '{"ts":true,"values":{"pm25":1}}',
      code: 'INGEST_SCHEMA',
      field: 'ts',
    },
    {
      name: 'value is a string',
      payload: '{"ts":1,"values":{"pm25":"12"}}',
      code: 'INGEST_SCHEMA',
      field: 'values.pm25',
    },
    {
      name: 'value object without unit',
      payload: '{"ts":1,"values":{"no2":{"value":21}}}',
      code: 'INGEST_SCHEMA',
      field: 'values.no2.unit',
    },
    {
      name: 'value object with extra key',
      payload: '{"ts":1,"values":{"no2":{"value":21,"unit":"ppb","x":1}}}',
      code: 'INGEST_SCHEMA',
      field: 'values.no2.x',
    },
    {
      name: 'unknown top-level key',
      payload: '{"ts":1,"values":{"pm25":1},"foo":2}',
      code: 'INGEST_SCHEMA',
      field: 'foo',
    },
    {
      name: 'negative seq',
      payload: '{"ts":1,"seq":-1,"values":{"pm25":1}}',
      code: 'INGEST_SCHEMA',
      field: 'seq',
    },
    { name: 'no values', payload: '{"ts":1,"values":{}}', code: 'INGEST_SCHEMA', field: 'values' },
    {
      name: 'empty metric name',
      payload: '{"ts":1,"values":{"":1}}',
      code: 'INGEST_SCHEMA',
      field: 'values.',
    },
    {
      name: '1e400 is Infinity',
      payload: '{"ts":1,"values":{"pm25":1e400}}',
      code: 'INGEST_NOT_FINITE',
      field: 'values.pm25',
    },
    {
      name: 'batch element with bad ts',
      payload: '[{"ts":1,"values":{"pm25":1}},{"ts":2,"values":{"pm25":1}},{"ts":null,"values":{"pm25":1}}]',
      code: 'INGEST_SCHEMA',
      field: '[2].ts',
    },
    {
      name: 'batch too large',
      payload: JSON.stringify(Array.from({ length: 4 }, (_, i) => ({ ts: i, values: { pm25: 1 } }))),
      code: 'INGEST_TOO_MANY_READINGS',
    },
    { name: 'empty array', payload: '[]', code: 'INGEST_SENML_INVALID', field: '' },
    {
      name: 'batch element with no values',
      payload: '[{"ts":1,"values":{}}]',
      code: 'INGEST_SCHEMA',
      field: '[0].values',
    },
    {
      name: 'SenML with unknown field',
      payload: '[{"n":"pm25","v":1},{"n":"x","vs":"on"}]',
      code: 'INGEST_SENML_INVALID',
      field: '[1].vs',
    },
    {
      name: 'SenML value as string',
      payload: '[{"n":"pm25","v":"1"}]',
      code: 'INGEST_SENML_INVALID',
      field: '[0].v',
    },
    {
      name: 'SenML record without value',
      payload: '[{"n":"pm25"}]',
      code: 'INGEST_SENML_INVALID',
      field: '[0].v',
    },
    { name: 'SenML record without name', payload: '[{"v":3}]', code: 'INGEST_SENML_INVALID', field: '[0].n' },
    {
      name: 'SenML name ending in a separator',
      payload: '[{"bn":"dev1/","n":"","v":3}]',
      code: 'INGEST_SENML_INVALID',
      field: '[0].n',
    },
    {
      name: 'SenML with only base fields',
      payload: '[{"bn":"dev1/","bt":1}]',
      code: 'INGEST_SENML_INVALID',
      field: '[0]',
    },
    {
      name: 'SenML with too many timestamps',
      payload:
        '[{"n":"pm25","v":1,"t":-1},{"n":"pm25","v":1,"t":-2},{"n":"pm25","v":1,"t":-3},{"n":"pm25","v":1,"t":-4}]',
      code: 'INGEST_TOO_MANY_READINGS',
    },
  ];
  it.each(cases)('$name → $code', ({ payload, code, field }) => {
    const result = decode(payload);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    if (field !== undefined) expect(result.error.field ?? '').toBe(field);
  });
});

describe('decodeReadings accepted shapes', () => {
  it('one reading object, with bare and unit values', () => {
    const r = decode(
      '{"ts":"2026-03-15T12:00:00Z","seq":4,"values":{"pm25":12.1,"no2":{"value":21,"unit":"ppb"}}}',
    );
    expect(r).toMatchObject({
      ok: true,
      value: {
        format: 'object',
        readings: [{ ts: '2026-03-15T12:00:00Z', values: { pm25: 12.1, no2: { value: 21, unit: 'ppb' } } }],
      },
    });
  });

  it('a back-fill batch keeps order', () => {
    const r = decode('[{"ts":1,"values":{"pm25":1}},{"ts":2,"values":{"pm25":2}}]');
    expect(r.ok && r.value.format).toBe('batch');
    expect(r.ok && r.value.readings.map((x) => x.ts)).toEqual([1, 2]);
  });

  it('brackets inside strings do not count as nesting', () => {
    expect(nestingDepth(Buffer.from('{"a":"[[[[[[[[[[[[[[[[[[[[\\"[[[[["}'))).toBe(1);
    expect(decode(`{"ts":"${'['.repeat(20)}","values":{"pm25":1}}`).ok).toBe(true);
  });

  it('SenML: base name, time, unit and value resolve per RFC 8428', () => {
    const t = 1_773_576_000; // seconds, absolute (>= 2^28)
    const r = decode(
      JSON.stringify([
        { bn: 'urn:dev:ow:10e2073a01080063:', bt: t, bu: 'ppb', n: 'no2', v: 20 },
        { n: 'o3', v: 30, t: 60 },
        { n: 'pm25', u: 'µg/m³', v: 7 },
        { bv: 100, n: 'pm10', v: 1 },
      ]),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.format).toBe('senml');
    expect(r.value.readings).toEqual([
      {
        ts: t * 1000,
        values: {
          no2: { value: 20, unit: 'ppb' },
          pm25: { value: 7, unit: 'µg/m³' },
          pm10: { value: 101, unit: 'ppb' },
        },
      },
      { ts: (t + 60) * 1000, values: { o3: { value: 30, unit: 'ppb' } } },
    ]);
  });

  it('SenML: relative times count from now, names split on "/" too', () => {
    const r = decode('[{"bn":"station-7/","n":"pm25","v":3,"t":-60}]');
    expect(r.ok && r.value.readings).toEqual([{ ts: NOW - 60_000, values: { pm25: 3 } }]);
  });
});

describe('decodeEvent', () => {
  const ev = (text: string) => decodeEvent(Buffer.from(text));
  it('accepts an event with data', () => {
    expect(ev('{"ts":1,"type":"outage_start","data":{"phase":"L1"}}')).toEqual({
      ok: true,
      value: { ts: 1, type: 'outage_start', data: { phase: 'L1' } },
    });
  });
  it.each([
    { payload: '', code: 'INGEST_EMPTY_PAYLOAD' },
    { payload: '{"ts":1}', code: 'INGEST_SCHEMA', field: 'type' },
    { payload: '{"ts":1,"type":"x","data":{"a":{"b":1}}}', code: 'INGEST_SCHEMA', field: 'data.a' },
    { payload: deep(9), code: 'INGEST_TOO_DEEP' },
  ])('$payload → $code', ({ payload, code, field }) => {
    const r = ev(payload);
    expect(!r.ok && r.error.code).toBe(code);
    if (field !== undefined) expect(!r.ok && r.error.field).toBe(field);
  });
});

it('formatPath joins keys with dots and indexes with brackets', () => {
  expect(formatPath(['values', 'pm25'])).toBe('values.pm25');
  expect(formatPath([2, 'ts'])).toBe('[2].ts');
  expect(formatPath([])).toBe('');
});

describe('decodeReadings refuses what JSON.parse would silently resolve', () => {
  const T = 1_773_576_000_000;
  const cases: Array<{ name: string; payload: string; code: string; field?: string; message?: string }> = [
    {
      name: 'a repeated metric, out of range first',
      payload: `{"ts":${T},"values":{"pm25":99999,"pm25":3}}`,
      code: 'INGEST_DUPLICATE_KEY',
    },
    {
      name: 'a repeated top-level key',
      payload: `{"ts":${T},"ts":${T},"values":{"pm25":3}}`,
      code: 'INGEST_DUPLICATE_KEY',
    },
    {
      name: 'a repeated key inside {value, unit}',
      payload: `{"ts":${T},"values":{"no2":{"value":1,"unit":"ppb","value":2}}}`,
      code: 'INGEST_DUPLICATE_KEY',
    },
    {
      name: 'a repeated key in a batch reading',
      payload: `[{"ts":${T},"values":{"pm25":1}},{"ts":${T},"values":{"pm10":1,"pm10":2}}]`,
      code: 'INGEST_DUPLICATE_KEY',
    },
    {
      name: 'a repeated key spelled with an escape',
      payload: `{"ts":${T},"values":{"pm25":1,"\\u0070m25":2}}`,
      code: 'INGEST_DUPLICATE_KEY',
    },
    {
      name: 'a repeated SenML record',
      payload: `[{"bn":"urn:dev:x:","n":"pm25","v":99999,"t":0},{"n":"pm25","v":3,"t":0}]`,
      code: 'INGEST_SENML_DUPLICATE_RECORD',
      field: '[1].n',
    },
    {
      name: '1e309 inside {value, unit}',
      payload: `{"ts":${T},"values":{"pm25":{"value":1e309,"unit":"ug/m3"}}}`,
      code: 'INGEST_NOT_FINITE',
      field: 'values.pm25.value',
    },
    {
      name: 'a value that is a string',
      payload: `{"ts":${T},"values":{"pm25":"12"}}`,
      code: 'INGEST_SCHEMA',
      field: 'values.pm25',
      message: 'values.pm25: expected a number or {value, unit}',
    },
    {
      name: 'a batch value that is an array',
      payload: `[{"ts":${T},"values":{"pm25":[1]}}]`,
      code: 'INGEST_SCHEMA',
      field: '[0].values.pm25',
      message: '[0].values.pm25: expected a number or {value, unit}',
    },
  ];
  it.each(cases)('$name → $code', ({ payload, code, field, message }) => {
    const out = decode(payload);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe(code);
    if (field !== undefined) expect(out.error.field).toBe(field);
    if (message !== undefined) expect(out.error.message).toBe(message);
  });

  const accepted: Array<{ name: string; payload: string }> = [
    {
      name: 'same key in sibling objects',
      payload: `{"ts":${T},"values":{"no2":{"value":1,"unit":"ppb"},"o3":{"value":1,"unit":"ppb"}}}`,
    },
    {
      name: 'a key-like string as a value',
      payload: `{"ts":${T},"values":{"pm25":{"value":1,"unit":"value"}}}`,
    },
    {
      name: 'same key in two batch readings',
      payload: `[{"ts":${T},"values":{"pm25":1}},{"ts":${T + 1},"values":{"pm25":2}}]`,
    },
    { name: 'same SenML name at two times', payload: `[{"n":"pm25","v":1,"t":0},{"n":"pm25","v":2,"t":1}]` },
  ];
  it.each(accepted)('accepts $name', ({ payload }) => {
    expect(decode(payload).ok).toBe(true);
  });
});
