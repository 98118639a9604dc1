import { describe, expect, it } from 'vitest';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { decodeEvent, decodeReadings } from './decode.ts';
import { parseTimestamp, validateEvent, validateReadings } from './validate.ts';

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const ISO_NOW = '2026-03-15T12:00:00Z';
const limits = { futureSkewMs: 5 * 60_000, lateWindowMs: 7 * 86_400_000 };
const catalogue = new KindCatalogue();
const directory = { metric: catalogue.metric.bind(catalogue), kind: catalogue.get.bind(catalogue) };

function run(kind: string, payload: unknown) {
  const decoded = decodeReadings(Buffer.from(JSON.stringify(payload)), { maxReadings: 10, now: NOW });
  if (!decoded.ok) throw new Error(`decode failed: ${decoded.error.code}`);
  return validateReadings(decoded.value, kind, directory, limits, NOW);
}

const AIR = 'air-quality-station';

describe('validateReadings refusals', () => {
  const cases: Array<{ name: string; kind?: string; payload: unknown; code: string; field: string }> = [
    {
      name: 'unknown metric',
      payload: { ts: ISO_NOW, values: { pm1: 3 } },
      code: 'INGEST_UNKNOWN_METRIC',
      field: 'values.pm1',
    },
    {
      name: 'metric of another kind',
      payload: { ts: ISO_NOW, values: { laeq: 50 } },
      code: 'INGEST_UNKNOWN_METRIC',
      field: 'values.laeq',
    },
    {
      name: 'unknown unit',
      payload: { ts: ISO_NOW, values: { no2: { value: 3, unit: 'mol' } } },
      code: 'INGEST_UNKNOWN_UNIT',
      field: 'values.no2.unit',
    },
    {
      name: 'unit of another metric (ppb for PM2.5)',
      payload: { ts: ISO_NOW, values: { pm25: { value: 3, unit: 'ppb' } } },
      code: 'INGEST_UNKNOWN_UNIT',
      field: 'values.pm25.unit',
    },
    {
      name: 'inherited key is not a unit',
      payload: { ts: ISO_NOW, values: { pm25: { value: 3, unit: 'toString' } } },
      code: 'INGEST_UNKNOWN_UNIT',
      field: 'values.pm25.unit',
    },
    {
      name: 'below min',
      payload: { ts: ISO_NOW, values: { pm25: -1 } },
      code: 'INGEST_OUT_OF_RANGE',
      field: 'values.pm25',
    },
    {
      name: 'above max',
      payload: { ts: ISO_NOW, values: { pm25: 1000.5 } },
      code: 'INGEST_OUT_OF_RANGE',
      field: 'values.pm25',
    },
    {
      name: 'above max only after conversion',
      payload: { ts: ISO_NOW, values: { no2: { value: 1100, unit: 'ppb' } } },
      code: 'INGEST_OUT_OF_RANGE',
      field: 'values.no2',
    },
    {
      name: 'conversion overflows to Infinity',
      payload: { ts: ISO_NOW, values: { no2: { value: 1e308, unit: 'ppm' } } },
      code: 'INGEST_NOT_FINITE',
      field: 'values.no2',
    },
    {
      name: 'ts without zone',
      payload: { ts: '2026-03-15T12:00:00', values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts date only',
      payload: { ts: '2026-03-15', values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts 30 February',
      payload: { ts: '2026-02-30T10:00:00Z', values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts hour 24',
      payload: { ts: '2026-03-15T24:00:00Z', values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts in epoch seconds',
      payload: { ts: NOW / 1000, values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts fractional ms',
      payload: { ts: NOW + 0.5, values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts free text',
      payload: { ts: 'yesterday', values: { pm25: 1 } },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
    {
      name: 'ts too far ahead',
      payload: { ts: NOW + limits.futureSkewMs + 1, values: { pm25: 1 } },
      code: 'INGEST_TS_FUTURE',
      field: 'ts',
    },
    {
      name: 'ts past the late window',
      payload: { ts: NOW - limits.lateWindowMs - 1, values: { pm25: 1 } },
      code: 'INGEST_TS_TOO_OLD',
      field: 'ts',
    },
    {
      name: 'batch: the first offending reading is named',
      payload: [
        { ts: NOW, values: { pm25: 1 } },
        { ts: NOW, values: { pm25: 1, pm10: 5000 } },
        { ts: NOW, values: { nope: 1 } },
      ],
      code: 'INGEST_OUT_OF_RANGE',
      field: '[1].values.pm10',
    },
    {
      name: 'batch: bad ts in the third reading',
      payload: [
        { ts: NOW, values: { pm25: 1 } },
        { ts: NOW, values: { pm25: 1 } },
        { ts: 'x', values: { pm25: 1 } },
      ],
      code: 'INGEST_TS_INVALID',
      field: '[2].ts',
    },
    {
      name: 'SenML metric unknown',
      payload: [{ bn: 'urn:dev:x:', n: 'humidity', v: 40 }],
      code: 'INGEST_UNKNOWN_METRIC',
      field: 'values.humidity',
    },
    {
      name: 'supply outside 0..1 on a smart meter',
      kind: 'electricity-smart-meter',
      payload: { ts: ISO_NOW, values: { supply: 2 } },
      code: 'INGEST_OUT_OF_RANGE',
      field: 'values.supply',
    },
  ];
  it.each(cases)('$name → $code at $field', ({ kind, payload, code, field }) => {
    const r = run(kind ?? AIR, payload);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.field).toBe(field);
  });

  it('out of range names the range and unit', () => {
    const r = run(AIR, { ts: ISO_NOW, values: { no2: { value: 1100, unit: 'ppb' } } });
    expect(!r.ok && r.error.message).toContain('[0, 2000] µg/m³');
  });
});

describe('validateReadings conversions', () => {
  const cases: Array<{
    name: string;
    kind: string;
    metric: string;
    raw: unknown;
    value: number;
    fromUnit?: string;
  }> = [
    {
      // M / Vm at 20 °C and 101.325 kPa: Vm = R·T/P = 8.314462618 × 293.15 / 101.325 L/mol.
      name: 'NO2 ppb → µg/m³ (× 46.0055 / 24.055 = 1.9125)',
      kind: AIR,
      metric: 'no2',
      raw: { value: 21, unit: 'ppb' },
      value: (21 * 46.0055 * 101.325) / (8.314462618 * 293.15),
      fromUnit: 'ppb',
    },
    {
      name: 'SO2 ppb → µg/m³ (× 64.066 / 24.055 = 2.6633)',
      kind: AIR,
      metric: 'so2',
      raw: { value: 10, unit: 'ppb' },
      value: (10 * 64.066 * 101.325) / (8.314462618 * 293.15),
      fromUnit: 'ppb',
    },
    {
      name: 'PM2.5 mg/m³ → µg/m³',
      kind: AIR,
      metric: 'pm25',
      raw: { value: 0.012, unit: 'mg/m³' },
      value: 12,
      fromUnit: 'mg/m³',
    },
    { name: 'canonical unit kept', kind: AIR, metric: 'pm25', raw: { value: 12, unit: 'µg/m³' }, value: 12 },
    { name: 'bare number is canonical', kind: AIR, metric: 'pm25', raw: 12.5, value: 12.5 },
    {
      name: 'Wh → kWh',
      kind: 'electricity-smart-meter',
      metric: 'energy',
      raw: { value: 1500, unit: 'Wh' },
      value: 1.5,
      fromUnit: 'Wh',
    },
    {
      name: 'L → m³',
      kind: 'water-smart-meter',
      metric: 'volume',
      raw: { value: 250, unit: 'L' },
      value: 0.25,
      fromUnit: 'L',
    },
    {
      name: 'kPa → bar',
      kind: 'water-inflow-meter',
      metric: 'pressure',
      raw: { value: 350, unit: 'kPa' },
      value: 3.5,
      fromUnit: 'kPa',
    },
    {
      name: 'mph → km/h',
      kind: 'traffic-counter',
      metric: 'speed',
      raw: { value: 50, unit: 'mph' },
      value: 80.4672,
      fromUnit: 'mph',
    },
  ];
  it('states the factors at 20 °C and 101.325 kPa: NO2 1.9125, SO2 2.6633, O3 1.9954 µg/m³ per ppb', () => {
    for (const [metric, factor] of [
      ['no2', 46.0055 / 24.055],
      ['so2', 64.066 / 24.055],
      ['o3', 47.9982 / 24.055],
    ] as const) {
      const r = run(AIR, { ts: ISO_NOW, values: { [metric]: { value: 100, unit: 'ppb' } } });
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.value.values[0]!.value / 100).toBeCloseTo(factor, 4);
    }
  });

  it.each(cases)('$name', ({ kind, metric, raw, value, fromUnit }) => {
    const r = run(kind, { ts: ISO_NOW, values: { [metric]: raw } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value.values[0]!;
    expect(v.metric).toBe(metric);
    expect(v.ts).toBe(NOW);
    expect(v.value).toBeCloseTo(value, 9);
    expect(v.fromUnit).toBe(fromUnit);
  });

  it('counts readings and values of a batch; timestamps in every accepted form', () => {
    const r = run(AIR, [
      { ts: '2026-03-15T13:00:00+01:00', values: { pm25: 1, pm10: 2 } },
      { ts: '2026-03-15T11:59:00.250Z', values: { pm25: 3 } },
      { ts: NOW - 120_000, values: { o3: { value: 10, unit: 'ppb' } } },
    ]);
    expect(r.ok && r.value.readings).toBe(3);
    expect(r.ok && r.value.values.map((v) => [v.metric, v.ts, v.value])).toEqual([
      ['pm25', NOW, 1],
      ['pm10', NOW, 2],
      ['pm25', NOW - 59_750, 3],
      ['o3', NOW - 120_000, expect.closeTo((10 * 47.9982 * 101.325) / (8.314462618 * 293.15), 9)],
    ]);
  });

  it('the late window and future skew edges are inclusive', () => {
    expect(run(AIR, { ts: NOW + limits.futureSkewMs, values: { pm25: 1 } }).ok).toBe(true);
    expect(run(AIR, { ts: NOW - limits.lateWindowMs, values: { pm25: 1 } }).ok).toBe(true);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2026-03-15T12:00:00Z', NOW],
    ['2026-03-15T12:00Z', NOW],
    ['2026-03-15T13:00:00+0100', NOW],
    ['2026-03-15T07:00:00.000-05:00', NOW],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('%s', (ts, ms) => expect(parseTimestamp(ts)).toBe(ms));
  it.each(['2025-02-29T00:00:00Z', '1999-12-31T23:59:59Z', '2026-13-01T00:00:00Z', '2026-03-15T12:60:00Z'])(
    '%s is invalid',
    (ts) => expect(parseTimestamp(ts)).toBeNaN(),
  );
});

describe('validateEvent', () => {
  const event = (kind: string, payload: unknown) => {
    const d = decodeEvent(Buffer.from(JSON.stringify(payload)));
    if (!d.ok) throw new Error(d.error.code);
    return validateEvent(d.value, kind, directory, limits, NOW);
  };
  it('accepts a declared type and converts ts', () => {
    expect(event('electricity-smart-meter', { ts: ISO_NOW, type: 'outage_start' })).toEqual({
      ok: true,
      value: { type: 'outage_start', ts: NOW, data: null },
    });
  });
  it.each([
    {
      kind: 'electricity-smart-meter',
      payload: { ts: ISO_NOW, type: 'calibration' },
      code: 'INGEST_UNKNOWN_EVENT',
      field: 'type',
    },
    {
      kind: 'no-such-kind',
      payload: { ts: ISO_NOW, type: 'restore' },
      code: 'INGEST_UNKNOWN_EVENT',
      field: 'type',
    },
    {
      kind: 'electricity-smart-meter',
      payload: { ts: NOW + 3_600_000, type: 'restore' },
      code: 'INGEST_TS_FUTURE',
      field: 'ts',
    },
    {
      kind: 'electricity-smart-meter',
      payload: { ts: NOW - 30 * 86_400_000, type: 'restore' },
      code: 'INGEST_TS_TOO_OLD',
      field: 'ts',
    },
    {
      kind: 'electricity-smart-meter',
      payload: { ts: 'now', type: 'restore' },
      code: 'INGEST_TS_INVALID',
      field: 'ts',
    },
  ])('$payload.type on $kind → $code', ({ kind, payload, code, field }) => {
    const r = event(kind, payload);
    expect(!r.ok && r.error.code).toBe(code);
    expect(!r.ok && r.error.field).toBe(field);
  });
});
