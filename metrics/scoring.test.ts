import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue/catalogue.ts';
import { aggregateScores, bandOf, defaultTargets, scoreKpi, scoreKpiValue } from './scoring.ts';

const catalogue = loadCatalogue();

describe('U4SSC benchmark scoring', () => {
  it('reproduces the worked example: 1 + 3 + 4 + 1 = 9 of 16 = 56.25 %, band "33–66 %"', () => {
    const codes = ['EC: ICT: ICT: 1C', 'EC: ICT: ICT: 2C', 'EC: ICT: ICT: 3C', 'EC: ICT: ICT: 4C'];
    const scores = aggregateScores(
      codes.map((code, i) => ({ code, points: [1, 3, 4, 1][i]! })),
      catalogue,
    );
    expect(scores.categories).toEqual([
      {
        level: 'category',
        dimension: 'Economy',
        subDimension: 'ICT',
        category: 'ICT Infrastructure',
        items: 4,
        points: 9,
        maxPoints: 16,
        percent: 56.25,
        band: '33–66 %',
      },
    ]);
    expect(scores.subDimensions[0]).toMatchObject({ subDimension: 'ICT', percent: 56.25, band: '33–66 %' });
    expect(scores.dimensions[0]).toMatchObject({ dimension: 'Economy', points: 9, maxPoints: 16 });
  });

  it.each([
    ['higher: half the target', 50, 100, 'higher', 50, 2, '33–66 %'],
    ['higher: above target capped', 130, 100, 'higher', 100, 4, '95–100 %'],
    ['lower: twice the target', 10, 5, 'lower', 50, 2, '33–66 %'],
    ['lower: under target capped', 3, 5, 'lower', 100, 4, '95–100 %'],
    ['lower: zero meets any target', 0, 5, 'lower', 100, 4, '95–100 %'],
    ['lower: 5 × target', 25, 5, 'lower', 20, 1, '0–33 %'],
    ['edge 33 %', 33, 100, 'higher', 33, 2, '33–66 %'],
    ['edge 66 %', 66, 100, 'higher', 66, 3, '66–95 %'],
    ['just under 95 %', 94.99, 100, 'higher', 94.99, 3, '66–95 %'],
    ['edge 95 %', 95, 100, 'higher', 95, 4, '95–100 %'],
    ['closer to target', 0.8, 1, 'target', 80, 3, '66–95 %'],
    ['closer to target from above', 1.25, 1, 'target', 80, 3, '66–95 %'],
  ] as const)('%s', (_name, value, target, betterWhen, percent, points, band) => {
    const s = scoreKpi(value, target, betterWhen);
    expect(s?.percentOfTarget).toBeCloseTo(percent, 9);
    expect(s?.points).toBe(points);
    expect(s?.band).toBe(band);
  });

  it('not reported, no target or a composition is not scored', () => {
    expect(scoreKpi(null, 5, 'lower')).toBeNull();
    expect(scoreKpi(3, undefined, 'lower')).toBeNull();
    expect(scoreKpi(3, 0, 'higher')).toBeNull();
    expect(scoreKpi(3, 5, 'composition')).toBeNull();
    expect(bandOf(0)).toEqual({ points: 1, band: '0–33 %' });
  });

  it('Air Pollution scores each data point against the WHO 2021 guidelines', () => {
    const target = defaultTargets['EN: EN: AQ: 1C'];
    expect(target?.dataPoints).toMatchObject({ 'PM2.5': 5, PM10: 15, NO2: 10 });
    const dp = (name: string, value: number | null) => ({ name, value, unit: 'µg/m³' });
    const items = scoreKpiValue(
      {
        code: 'EN: EN: AQ: 1C',
        value: 10,
        dataPoints: [dp('PM2.5', 10), dp('PM10', 15), dp('NO2', 40), dp('SO2', null), dp('O3', 80)],
      },
      target,
      'lower',
    );
    expect(items.map((i) => [i.dataPoint, i.score.points])).toEqual([
      ['PM2.5', 2],
      ['PM10', 4],
      ['NO2', 1],
      ['O3', 3],
    ]);
    const agg = aggregateScores(items, catalogue);
    expect(agg.categories[0]).toMatchObject({
      category: 'Air Quality',
      items: 4,
      points: 10,
      maxPoints: 16,
      percent: 62.5,
    });
  });

  it('every default target names a catalogue KPI and scores in its direction', () => {
    for (const [code, t] of Object.entries(defaultTargets)) {
      const kpi = catalogue.get(code);
      expect(kpi, code).toBeDefined();
      expect(t.value !== undefined || t.dataPoints !== undefined).toBe(true);
      expect(['higher', 'lower']).toContain(kpi!.betterWhen);
    }
    expect(defaultTargets['EN: EN: EQ: 2A']).toBeUndefined();
  });

  it('ignores unknown codes and impossible points', () => {
    const agg = aggregateScores(
      [
        { code: 'XX: YY: ZZ: 1C', points: 4 },
        { code: 'EN: EN: AQ: 1C', points: 0 },
      ],
      catalogue,
    );
    expect(agg).toEqual({ categories: [], subDimensions: [], dimensions: [] });
  });
});
