import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { valueCompleteness } from '../completeness.ts';
import { kpiStatus } from '../kpi-status.ts';
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
  /** one local day: 1440 readings owed per station and pollutant (one a minute) */
  const oneDay = () => monthToDate(fx.calendar, fx.march.start + DAY);

  it('gives per pollutant the mean of station means (each station once), value = PM2.5', async () => {
    const period = oneDay();
    fx.addDevice('aq-1', 'air-quality-station');
    fx.addDevice('aq-2', 'air-quality-station');
    for (const [metric, [a, b]] of Object.entries(values)) {
      await fx.writeSeries('aq-1', metric, period.start, 1440, 60, () => a); // full day
      await fx.writeSeries('aq-2', metric, period.start, 720, 60, () => b); // half a day
    }
    const v = await airPollution.compute(fx.ctx, period);
    expect(v.unit).toBe('µg/m³');
    expect(v.dataPoints.map((d) => d.name)).toEqual(['PM2.5', 'PM10', 'NO2', 'SO2', 'O3']);
    // Station means 10 and 20: the city 15, not the reading-weighted (1440·10 + 720·20) / 2160 = 13.33.
    expect(v.dataPoints.map((d) => d.value)).toEqual([15, 25, 22.5, 6, 75]);
    expect(v.value).toBe(15);
    // Each pollutant: (1440 + 720) of 2 × 1440 owed.
    for (const d of v.dataPoints) expect(d.completeness).toBeCloseTo(0.75, 12);
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
    expect(v.lineage.notes).toContain('PM2.5: capture 75.0 % below 90 %');
    expect(v.lineage.timeRange?.from).toBe(new Date(period.start).toISOString());
    expect(v.lineage.formulaVersion).toBe('2');
  });

  it('weighs a station that reports more often no more than one that reports less', async () => {
    const period = oneDay();
    fx.addDevice('aq-1', 'air-quality-station', { pollutants: 'pm25' });
    fx.addDevice('aq-2', 'air-quality-station', { pollutants: 'pm25' });
    await fx.writeSeries('aq-1', 'pm25', period.start, 1440, 60, () => 10); // once a minute
    await fx.writeSeries('aq-2', 'pm25', period.start, 2880, 30, () => 40); // twice a minute
    const v = await airPollution.compute(fx.ctx, period);
    // (10 + 40) / 2, not (1440·10 + 2880·40) / 4320 = 30
    expect(v.value).toBe(25);
    // aq-2's extra readings do not hide anything: each station full, so 1
    expect(v.completeness).toBe(1);
    expect(v.dataPoints.slice(1).map((d) => [d.value, d.completeness])).toEqual([
      [null, null],
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('with no station measuring PM2.5, a closed month is "no data expected" for the value, never final', async () => {
    const period = fx.march;
    fx.addDevice('aq-1', 'air-quality-station', { pollutants: 'pm10' });
    // every PM10 reading of March owed and received: PM10 complete, PM2.5 owed by nobody
    const owed = Math.round((period.end - period.start) / 60_000);
    await fx.writeSeries('aq-1', 'pm10', period.start, owed, 60, () => 20);
    const v = await airPollution.compute(fx.ctx, period);
    expect(v.dataPoints.map((d) => [d.name, d.value, d.completeness])).toEqual([
      ['PM2.5', null, null],
      ['PM10', 20, 1],
      ['NO2', null, null],
      ['SO2', null, null],
      ['O3', null, null],
    ]);
    expect(v.value).toBeNull();
    expect(v.completeness).toBeNull();
    // The engine's path: the value's completeness, then the one status rule, long after the month closed.
    const completeness = valueCompleteness(v.lineage.series, v.completeness, 'sensor');
    expect(completeness).toBeNull();
    const rule = { calendar: fx.calendar, graceDays: 5, captureThreshold: 0.9 };
    const status = kpiStatus(
      { period, completeness, hasValue: v.value !== null },
      rule,
      period.end + 60 * DAY,
    );
    expect(status).toBe('no-data-expected');
  });

  it('counts completeness per pollutant: a station without an SO2 sensor leaves PM2.5 final', async () => {
    const period = oneDay();
    fx.addDevice('aq-1', 'air-quality-station');
    fx.addDevice('aq-2', 'air-quality-station', { pollutants: 'pm25, PM10,no2,o3' });
    for (const [metric, [a, b]] of Object.entries(values)) {
      await fx.writeSeries('aq-1', metric, period.start, 1440, 60, () => a);
      // aq-2 declares no SO2: its so2 readings (a stray channel) are not used
      await fx.writeSeries('aq-2', metric, period.start, 1440, 60, () => b);
    }
    const v = await airPollution.compute(fx.ctx, period);
    expect(v.dataPoints.map((d) => d.value)).toEqual([15, 25, 22.5, 4, 75]);
    expect(v.dataPoints.map((d) => d.completeness)).toEqual([1, 1, 1, 1, 1]);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.lineage.registryCounts).toMatchObject({ stations: 2, 'stations measuring so2': 1 });
    expect(v.lineage.series.filter((s) => s.scope === 'device' && s.metric === 'so2')).toHaveLength(1);
  });

  it('a gap in one pollutant marks that data point only; the value follows PM2.5', async () => {
    const period = oneDay();
    fx.addDevice('aq-1', 'air-quality-station', { pollutants: 'pm25,no2,ozone' });
    await fx.writeSeries('aq-1', 'pm25', period.start, 1440, 60, () => 9);
    await fx.writeSeries('aq-1', 'no2', period.start, 360, 60, () => 30); // a quarter of the day
    const v = await airPollution.compute(fx.ctx, period);
    expect(v.value).toBe(9);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.dataPoints.find((d) => d.name === 'NO2')).toMatchObject({ value: 30, completeness: 0.25 });
    expect(v.lineage.notes).toEqual(
      expect.arrayContaining([
        'NO2: capture 25.0 % below 90 %',
        'station aq-1: pollutants ozone unknown (one of pm25, pm10, no2, so2, o3), ignored',
      ]),
    );
  });

  it('is accurate and final at full capture; "NR" without stations', async () => {
    const period = oneDay();
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
