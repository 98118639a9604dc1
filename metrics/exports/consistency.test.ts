import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { consistencyReport, isPercentEntry, ORDER_RULES, SUM_RULES } from './consistency.ts';
import type { RollupEntry } from './rollup-entry.ts';
import { entry, fullRollup, lineageFixture, withValue } from './rollup-fixture.ts';

const MODE = 'EC: I: T: 4A';
const WASTE = 'EN: EN: WA: 1C';
const WASTEWATER = 'EN: EN: WS: 4C';
const BASIC = 'EC: I: WS: 1C';
const POTABLE = 'EC: I: WS: 2C';
const INTERNET = 'EC: ICT: ICT: 1C';
const WATER_USE = 'EN: EN: WS: 2C'; // litres per capita per day

const base = fullRollup();
type Profile = Parameters<typeof consistencyReport>[1];

/** n KPIs not reported (all their entries NR). */
function withNotReported(n: number): RollupEntry[] {
  const codes = new Set(
    loadCatalogue()
      .kpis.slice(0, n)
      .map((k) => k.code),
  );
  return base.map((e) => (codes.has(e.code) ? { ...e, value: null } : e));
}

/** Adds a population figure to an entry's lineage. */
function withFigure(entries: RollupEntry[], code: string, name: string, value: number): RollupEntry[] {
  return entries.map((e) =>
    e.code === code
      ? {
          ...e,
          lineage: lineageFixture({
            manualInputs: [{ name, value, unit: 'inhabitants', source: 'profile' }],
          }),
        }
      : e,
  );
}

interface Case {
  rule: string;
  pass: { entries: RollupEntry[]; profile?: Profile };
  fail: { entries: RollupEntry[]; profile?: Profile };
  failCodes: string[];
  severity: 'error' | 'warning';
}

const CASES: Case[] = [
  {
    rule: 'transport-mode-share-sum',
    pass: { entries: withValue(base, MODE, 'Walking', 21.5) }, // 101.5: within ± 2
    fail: { entries: withValue(base, MODE, 'Walking', 23) }, // 103
    failCodes: [MODE],
    severity: 'error',
  },
  {
    rule: 'transport-mode-share-sum',
    pass: { entries: withValue(withValue(base, MODE, 'Walking', null), MODE, 'Cycling', 40) }, // NR part, still 100
    fail: { entries: withValue(base, MODE, 'Para transport', null) }, // 80: a part not reported
    failCodes: [MODE],
    severity: 'error',
  },
  {
    rule: 'solid-waste-treatment-sum',
    pass: { entries: withValue(base, WASTE, 'Landfill', 100 / 6 - 1.9) },
    fail: { entries: withValue(base, WASTE, 'Landfill', 100 / 6 - 2.1) },
    failCodes: [WASTE],
    severity: 'error',
  },
  {
    rule: 'wastewater-secondary-le-primary',
    pass: { entries: withValue(base, WASTEWATER, 'Secondary', 90) }, // equal to primary
    fail: { entries: withValue(base, WASTEWATER, 'Secondary', 90.5) },
    failCodes: [WASTEWATER],
    severity: 'error',
  },
  {
    rule: 'wastewater-tertiary-le-secondary',
    pass: { entries: withValue(base, WASTEWATER, 'Tertiary', 80) },
    fail: { entries: withValue(base, WASTEWATER, 'Tertiary', 85) },
    failCodes: [WASTEWATER],
    severity: 'error',
  },
  {
    rule: 'potable-le-basic-water-supply',
    pass: { entries: withValue(base, POTABLE, null, 49) },
    fail: { entries: withValue(base, POTABLE, null, 60) },
    failCodes: [POTABLE, BASIC],
    severity: 'error',
  },
  {
    rule: 'percent-out-of-bounds',
    pass: { entries: withValue(withValue(base, INTERNET, null, 100), POTABLE, null, 0) },
    fail: { entries: withValue(base, INTERNET, null, 100.1) },
    failCodes: [INTERNET],
    severity: 'error',
  },
  {
    rule: 'percent-out-of-bounds',
    pass: { entries: withValue(base, WATER_USE, null, 150) }, // litres, not a share
    fail: { entries: withValue(base, INTERNET, null, -0.5) },
    failCodes: [INTERNET],
    severity: 'error',
  },
  {
    rule: 'value-not-finite',
    pass: { entries: base },
    fail: { entries: withValue(base, WATER_USE, null, Number.NaN) },
    failCodes: [WATER_USE],
    severity: 'error',
  },
  {
    rule: 'not-reported-share',
    pass: { entries: withNotReported(18) }, // 18 / 91 = 19.8 %
    fail: { entries: withNotReported(19) }, // 20.9 %
    failCodes: loadCatalogue()
      .kpis.slice(0, 19)
      .map((k) => k.code),
    severity: 'warning',
  },
  {
    rule: 'profile-population-mismatch',
    pass: { entries: withFigure(base, WATER_USE, 'population', 250_000), profile: { population: 250_000 } },
    fail: { entries: withFigure(base, WATER_USE, 'population', 250_000), profile: { population: 260_000 } },
    failCodes: [WATER_USE],
    severity: 'error',
  },
  {
    rule: 'profile-population-inconsistent',
    pass: {
      entries: withFigure(
        withFigure(base, WATER_USE, 'population', 250_000),
        INTERNET,
        'population',
        250_000,
      ),
    },
    fail: {
      entries: withFigure(
        withFigure(base, WATER_USE, 'population', 250_000),
        INTERNET,
        'population',
        251_000,
      ),
    },
    failCodes: [WATER_USE, INTERNET],
    severity: 'error',
  },
  {
    rule: 'profile-households-mismatch',
    pass: {
      entries: withFigure(base, INTERNET, 'total households', 100_000),
      profile: { households: 100_000 },
    },
    fail: { entries: withFigure(base, INTERNET, 'Households', 100_000), profile: { households: 99_000 } },
    failCodes: [INTERNET],
    severity: 'error',
  },
  {
    rule: 'profile-areaKm2-mismatch',
    pass: { entries: withFigure(base, INTERNET, 'areaKm2', 120.5), profile: { areaKm2: 120.5 } },
    fail: { entries: withFigure(base, INTERNET, 'areaKm2', 120.5), profile: { areaKm2: 125 } },
    failCodes: [INTERNET],
    severity: 'error',
  },
  {
    rule: 'profile-population-missing',
    pass: { entries: withValue(base, WATER_USE, null, 120), profile: { population: 250_000 } },
    fail: { entries: withValue(base, WATER_USE, null, 120), profile: { households: 100_000 } },
    // every per-capita KPI of the full roll-up (per inhabitant, per 100 000 inhabitants)
    failCodes: loadCatalogue()
      .kpis.filter((k) => /per capita|inhabitants/.test(k.unit))
      .map((k) => k.code),
    severity: 'warning',
  },
];

describe('consistencyReport', () => {
  it('finds nothing in a complete, consistent roll-up', () => {
    expect(consistencyReport(base, { population: 250_000 })).toEqual([]);
  });

  describe.each(CASES.map((c, i) => [`${c.rule} #${i}`, c] as const))('%s', (_, c) => {
    it('passes', () => {
      const findings = consistencyReport(c.pass.entries, c.pass.profile);
      expect(findings.filter((f) => f.rule === c.rule)).toEqual([]);
    });
    it('fails', () => {
      const findings = consistencyReport(c.fail.entries, c.fail.profile).filter((f) => f.rule === c.rule);
      expect(findings).toHaveLength(1);
      expect(findings[0]!.severity).toBe(c.severity);
      expect([...findings[0]!.codes].sort()).toEqual([...c.failCodes].sort());
      expect(findings[0]!.message.length).toBeGreaterThan(10);
    });
  });

  it('says which parts of a split were not reported', () => {
    const [f] = consistencyReport(withValue(base, MODE, 'Para transport', null)).filter(
      (x) => x.rule === 'transport-mode-share-sum',
    );
    expect(f!.message).toContain('80 %');
    expect(f!.message).toContain('Para transport');
  });

  it('skips a split with no part reported (the NR rule covers it)', () => {
    const entries = base.map((e) => (e.code === MODE ? { ...e, value: null } : e));
    expect(consistencyReport(entries).filter((f) => f.rule === 'transport-mode-share-sum')).toEqual([]);
  });

  it('counts KPIs missing from the roll-up as not reported', () => {
    const onlyTwo = [entry(INTERNET, null, 50), entry(BASIC, null, 90)];
    const [f] = consistencyReport(onlyTwo).filter((x) => x.rule === 'not-reported-share');
    expect(f!.codes).toHaveLength(loadCatalogue().kpis.length - 2);
  });

  it('names only codes and data points the catalogue has', () => {
    const cat = loadCatalogue();
    for (const r of SUM_RULES) expect(r.parts).toEqual(cat.get(r.code)?.dataPoints);
    for (const r of ORDER_RULES)
      for (const ref of [r.lesser, r.greater]) {
        const kpi = cat.get(ref.code);
        expect(kpi, ref.code).toBeDefined();
        if (ref.dataPoint !== undefined) expect(kpi!.dataPoints).toContain(ref.dataPoint);
        else expect(kpi!.dataPoints).toHaveLength(1);
        expect(kpi!.unit).toBe('%');
      }
  });

  it('treats %-units as shares, and only the percent data point of Open Data', () => {
    expect(isPercentEntry({ unit: '%', dataPoint: null })).toBe(true);
    expect(isPercentEntry({ unit: '% of city GDP', dataPoint: null })).toBe(true);
    expect(isPercentEntry({ unit: '% and number', dataPoint: 'Open Data: percent' })).toBe(true);
    expect(isPercentEntry({ unit: '% and number', dataPoint: 'Open Data: number' })).toBe(false);
    expect(isPercentEntry({ unit: 'litres per capita per day', dataPoint: null })).toBe(false);
  });
});
