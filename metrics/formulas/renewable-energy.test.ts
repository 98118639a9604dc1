import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { renewableEnergy } from './renewable-energy.ts';

describe('EN: E: E: 1C Renewable Energy Consumption', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it.each([
    ['a quarter renewable', 250, 25],
    ['net export capped at 100 %', 2000, 100],
  ])('%s', async (_name, generatedPerInterval, expected) => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('feeder-1', 'electricity-feeder-meter', { customersServed: 10 });
    fx.addDevice('pv-1', 'renewable-generation-meter', { source: 'solar' });
    await fx.writeSeries('feeder-1', 'energy', day.start, 288, 300, () => 1000 / 3); // 96 000 kWh
    await fx.writeSeries('pv-1', 'energy', day.start, 96, 900, () => generatedPerInterval); // 96 intervals of 15 min
    const v = await renewableEnergy.compute(fx.ctx, day);
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo(expected, 9);
    expect(v.lineage.registryCounts).toEqual({ renewablePlants: 1, feederMeters: 1 });
    expect(v.completeness).toBe(1);
  });

  it('no renewable plant registered → NR', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('feeder-1', 'electricity-feeder-meter', { customersServed: 10 });
    await fx.writeSeries('feeder-1', 'energy', day.start, 288, 300, () => 1);
    const v = await renewableEnergy.compute(fx.ctx, day);
    expect(v.value).toBeNull();
    expect(v.dataQuality).toBe('unknown');
  });
});
