import { loadCatalogue } from '../catalogue/catalogue.ts';
import { kpiIdentity } from '../kpi-identity.ts';
import type { Lineage } from '../kpi-types.ts';
import type { RollupEntry } from './rollup-entry.ts';

/** Roll-up entries for tests, made from the shipped catalogue. */

export function lineageFixture(over: Partial<Lineage> = {}): Lineage {
  return {
    formulaVersion: '1',
    formula: 'Σ exposure / population',
    devices: ['aq-1', 'aq-2'],
    series: [
      {
        scope: 'device',
        key: 'aq-1',
        metric: 'pm25',
        readings: 700,
        expected: 744,
        firstTs: 1_740_787_200_000,
        lastTs: 1_743_462_000_000,
      },
      {
        scope: 'device',
        key: 'aq-2',
        metric: 'pm25',
        readings: 744,
        expected: 744,
        firstTs: 1_740_787_200_000,
        lastTs: 1_743_465_600_000,
      },
    ],
    readings: 1444,
    timeRange: { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' },
    manualInputs: [
      {
        name: 'population',
        value: 250_000,
        unit: 'inhabitants',
        source: 'city profile',
        effectiveFrom: '2025-01-01',
      },
    ],
    notes: ['one device below the capture threshold'],
    ...over,
  };
}

/** One entry of a KPI (and data point), with plausible defaults. */
export function entry(
  code: string,
  dataPoint: string | null,
  value: number | null,
  over: Partial<RollupEntry> = {},
): RollupEntry {
  const kpi = loadCatalogue().get(code);
  if (kpi === undefined) throw new Error(`fixture: unknown KPI ${code}`);
  return {
    ...kpiIdentity(kpi),
    dataPoint,
    value,
    unit: kpi.unit,
    period: '2025',
    dataQuality: value === null ? null : 'accurate-measurement',
    completeness: value === null ? null : 1,
    provisional: false,
    source: value === null ? null : kpi.obtained,
    band: null,
    points: null,
    target: null,
    version: 1,
    lineage: null,
    ...over,
    status: over.status ?? (over.provisional === true ? 'provisional' : 'final'),
  };
}

/**
 * Every KPI of the catalogue reported, one entry per data point for multi-point KPIs, with values that pass
 * every consistency rule (shares of a split divide 100 evenly; order rules hold).
 */
export function fullRollup(): RollupEntry[] {
  const out: RollupEntry[] = [];
  for (const k of loadCatalogue().kpis) {
    if (k.dataPoints.length === 1) {
      out.push(entry(k.code, null, k.unit === '%' ? 50 : 10));
      continue;
    }
    k.dataPoints.forEach((dp, i) => {
      const value =
        k.betterWhen === 'composition' ? 100 / k.dataPoints.length : k.unit === '%' ? 90 - i * 10 : 10;
      out.push(entry(k.code, dp, value));
    });
  }
  return out;
}

/** Replaces the value of one entry of a roll-up (returns a new array). */
export function withValue(
  entries: readonly RollupEntry[],
  code: string,
  dataPoint: string | null,
  value: number | null,
): RollupEntry[] {
  let found = false;
  const out = entries.map((e) => {
    if (e.code !== code || e.dataPoint !== dataPoint) return e;
    found = true;
    return { ...e, value };
  });
  if (!found) throw new Error(`fixture: no entry ${code} ${dataPoint}`);
  return out;
}
