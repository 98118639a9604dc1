import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { drinkingWaterQuality } from './drinking-water-quality.ts';
import { DAY, type FormulaFixture, formulaFixture, HOUR } from './formula-fixture.ts';

describe('EN: EN: WS: 1C Drinking Water Quality (sensor proxy: compliant sonde-hours)', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('an hour fails when any reading of any parameter leaves its range', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('sonde-1', 'water-quality-sonde');
    // 6 readings per hour, 24 hours; hour 3 has one low chlorine reading, hour 10 a turbid one, hour 20 a high pH
    const at = (i: number) => Math.floor(i / 6);
    await fx.writeSeries('sonde-1', 'chlorine', day.start, 144, 600, (i) =>
      at(i) === 3 && i % 6 === 2 ? 0.1 : 0.5,
    );
    await fx.writeSeries('sonde-1', 'turbidity', day.start, 144, 600, (i) =>
      at(i) === 10 && i % 6 === 0 ? 5 : 1,
    );
    await fx.writeSeries('sonde-1', 'ph', day.start, 144, 600, (i) => (at(i) === 20 ? 9.6 : 7.2));
    const v = await drinkingWaterQuality.compute(fx.ctx, day);
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo((21 / 24) * 100, 9);
    expect(v.completeness).toBe(1);
    expect(v.lineage.registryCounts).toEqual({ sondes: 1, samplesJudged: 24, samplesCompliant: 21 });
  });

  it('limits are settings; hours missing a parameter are not judged', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('sonde-1', 'water-quality-sonde');
    await fx.writeSeries('sonde-1', 'chlorine', day.start, 24, 3600, () => 0.3);
    await fx.writeSeries('sonde-1', 'turbidity', day.start, 24, 3600, () => 1);
    await fx.writeSeries('sonde-1', 'ph', day.start + 12 * HOUR, 12, 3600, () => 7);
    fx.settings.water.chlorineMin = 0.5;
    const v = await drinkingWaterQuality.compute(fx.ctx, day);
    expect(v.value).toBe(0);
    expect(v.lineage.registryCounts).toMatchObject({ samplesJudged: 12, samplesIncomplete: 12 });
    expect(v.completeness).toBeCloseTo(60 / 432, 12); // 60 readings of 3 × 144 expected at 10 min
  });
});
