import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { residentialThermalEnergy } from './residential-thermal-energy.ts';

describe('EN: E: E: 3C Residential Thermal Energy Consumption', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('residential heat-meter kWh → GJ per capita per year; non-residential meters left out', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('heat-home', 'heat-meter', { residential: true });
    fx.addDevice('heat-office', 'heat-meter', { residential: false });
    await fx.writeSeries('heat-home', 'energy', day.start, 24, 3600, () => 50); // 1200 kWh = 4.32 GJ
    await fx.writeSeries('heat-office', 'energy', day.start, 24, 3600, () => 999);
    fx.setPopulation(100);
    const v = await residentialThermalEnergy.compute(fx.ctx, day);
    expect(v.unit).toBe('GJ per capita per year');
    expect(v.value).toBeCloseTo((4.32 / 100) * 365.2425, 9);
    expect(v.lineage.devices).toEqual(['heat-home']);
    expect(v.lineage.registryCounts).toEqual({ residentialHeatMeters: 1 });
    expect(v.completeness).toBe(1);
  });

  it('the metered homes scaled up to all residents on district heat, an estimate', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('heat-a', 'heat-meter', { residential: true, residents: 30 });
    fx.addDevice('heat-b', 'heat-meter', { residential: true, residents: 10 });
    await fx.writeSeries('heat-a', 'energy', day.start, 24, 3600, () => 50); // 1200 kWh
    await fx.writeSeries('heat-b', 'energy', day.start, 24, 3600, () => 25); // 600 kWh
    fx.setPopulation(100);
    fx.setManual('districtHeatResidents', 80, 'inhabitants');
    const v = await residentialThermalEnergy.compute(fx.ctx, day);
    // 1800 kWh for 40 residents, × 2 for the 80 on district heat: 12.96 GJ in a day
    expect(v.value).toBeCloseTo(((1800 * 2 * 0.0036) / 100) * 365.2425, 9);
    expect(v.lineage.estimates).toEqual([
      { quantity: 'heat delivered', sampled: 40, total: 80, factor: 2, totalFrom: 'districtHeatResidents' },
    ]);
  });
});
