import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { airPollution } from './air-pollution.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';

describe('EN: EN: AQ: 1C Air Pollution', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture('Europe/Paris');
  });
  afterEach(() => fx.close());

  const values = { pm25: [10, 20], pm10: [20, 30], no2: [30, 15], so2: [4, 8], o3: [60, 90] } as const;

  it('gives the mean per pollutant over every station reading, value = PM2.5, completeness over all series', async () => {
    const period = monthToDate(fx.calendar, fx.march.start + DAY); // one local day
    fx.addDevice('aq-1', 'air-quality-station');
    fx.addDevice('aq-2', 'air-quality-station');
    for (const [metric, [a, b]] of Object.entries(values)) {
      await fx.writeSeries('aq-1', metric, period.start, 1440, 60, () => a); // full day
      await fx.writeSeries('aq-2', metric, period.start, 720, 60, () => b); // half a day
    }
    const v = await airPollution.compute(fx.ctx, period);
    const mean = (a: number, b: number) => (1440 * a + 720 * b) / 2160;
    expect(v.unit).toBe('µg/m³');
    expect(v.dataPoints.map((d) => d.name)).toEqual(['PM2.5', 'PM10', 'NO2', 'SO2', 'O3']);
    expect(v.dataPoints[0]!.value).toBeCloseTo(mean(10, 20), 9);
    expect(v.dataPoints[2]!.value).toBeCloseTo(mean(30, 15), 9);
    expect(v.dataPoints[4]!.value).toBeCloseTo(mean(60, 90), 9);
    expect(v.value).toBe(v.dataPoints[0]!.value);
    expect(v.completeness).toBeCloseTo(0.75, 12);
    expect(v.provisional).toBe(true);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.source).toBe('sensor');
    expect(v.lineage.readings).toBe(5 * 2160);
    expect(v.lineage.devices).toEqual(['aq-1', 'aq-2']);
    expect(v.lineage.series.filter((s) => s.scope === 'device')).toHaveLength(10);
    expect(v.lineage.series.find((s) => s.scope === 'city' && s.metric === 'pm25')).toMatchObject({
      readings: 2160,
      expected: 2880,
    });
    expect(v.lineage.timeRange?.from).toBe(new Date(period.start).toISOString());
    expect(v.lineage.formulaVersion).toBe('1');
  });

  it('is accurate and final at full capture; "NR" without stations', async () => {
    const period = monthToDate(fx.calendar, fx.march.start + DAY);
    expect((await airPollution.compute(fx.ctx, period)).value).toBeNull();
    fx.addDevice('aq-1', 'air-quality-station');
    for (const metric of Object.keys(values))
      await fx.writeSeries('aq-1', metric, period.start, 1440, 60, () => 7);
    const v = await airPollution.compute(fx.ctx, period);
    expect(v.value).toBe(7);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.dataQuality).toBe('accurate-measurement');
  });
});
