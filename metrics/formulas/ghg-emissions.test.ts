import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { yearPeriod } from '../periods.ts';
import { type FormulaFixture, formulaFixture, readingsIn } from './formula-fixture.ts';
import { ghgEmissions } from './ghg-emissions.ts';

describe('EN: EN: AQ: 2C GHG Emissions (partial: metered energy)', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('metered kWh × recorded emission factors ÷ population, annualised, marked partial', async () => {
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 500 });
    fx.addDevice('sm-1', 'electricity-smart-meter', { customers: 1 }); // behind the feeder: not added
    fx.addDevice('h-1', 'heat-meter', { residential: true, residents: 40 });
    fx.addDevice('h-2', 'heat-meter', { residential: false });
    await fx.writeSeries('f-1', 'energy', fx.march.start, readingsIn(fx.march, 300), 300, () => 10); // 8928 × 10 = 89 280 kWh
    await fx.writeSeries('sm-1', 'energy', fx.march.start, readingsIn(fx.march, 900), 900, () => 1);
    await fx.writeSeries('h-1', 'energy', fx.march.start, 744, 3600, () => 30); // 22 320 kWh
    await fx.writeSeries('h-2', 'energy', fx.march.start, 744, 3600, () => 20); // 14 880 kWh
    fx.setManual('emissionFactorElectricity', 0.4, 'kg CO2e/kWh', 'accurate-measurement');
    fx.setManual('emissionFactorHeat', 0.25, 'kg CO2e/kWh', 'accurate-measurement');
    fx.setPopulation(1000);
    const v = await ghgEmissions.compute(fx.ctx, fx.march);
    // (89 280 × 0.4 + 37 200 × 0.25) kg = 35 712 + 9 300 = 45 012 kg = 45.012 t in 31 days
    const tonnes = (89_280 * 0.4 + 37_200 * 0.25) / 1000;
    expect(v.unit).toBe('t CO2e per capita per year');
    expect(v.value).toBeCloseTo((tonnes / 1000) * (365.2425 / 31), 12);
    expect(v.source).toBe('mixed');
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.notes?.some((n) => n.startsWith('partial: scope 2 emissions of the metered'))).toBe(
      true,
    );
    expect(v.lineage.registryCounts).toMatchObject({
      feederMeters: 1,
      heatMeters: 2,
      electricityKwh: 89_280,
      heatKwh: 37_200,
      tCo2e: tonnes,
    });
    expect(v.lineage.manualInputs.map((m) => [m.name, m.value, m.unit, m.source])).toEqual([
      ['emissionFactorElectricity', 0.4, 'kg CO2e/kWh', 'test analyst'],
      ['emissionFactorHeat', 0.25, 'kg CO2e/kWh', 'test analyst'],
      ['population', 1000, 'inhabitants', 'city profile'],
    ]);
    expect(v.lineage.devices.sort()).toEqual(['f-1', 'h-1', 'h-2']);
  });

  it('a year is not scaled; no heat meter leaves heat out of the scope, said so', async () => {
    const year = yearPeriod(fx.calendar, '2025');
    fx.addDevice('sm-1', 'electricity-smart-meter', { customers: 1 });
    fx.addDevice('sm-2', 'electricity-smart-meter', { customers: 1 });
    await fx.writeSeries('sm-1', 'energy', year.start, 365, 86_400, () => 12); // 4380 kWh
    await fx.writeSeries('sm-2', 'energy', year.start, 365, 86_400, () => 8); // 2920 kWh
    fx.setManual('emissionFactorElectricity', 0.5, 'kg CO2e/kWh');
    fx.setPopulation(2);
    const v = await ghgEmissions.compute(fx.ctx, year);
    expect(v.value).toBeCloseTo(((4380 + 2920) * 0.5) / 1000 / 2, 12); // 1.825 t per capita
    expect(v.lineage.notes).toContain('heat: no meter registered, not in the scope');
  });

  it('metered heat without its factor: not reported rather than silently lower', async () => {
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 500 });
    fx.addDevice('h-1', 'heat-meter');
    await fx.writeSeries('f-1', 'energy', fx.march.start, 10, 300, () => 10);
    await fx.writeSeries('h-1', 'energy', fx.march.start, 10, 3600, () => 5);
    fx.setManual('emissionFactorElectricity', 0.4, 'kg CO2e/kWh');
    fx.setPopulation(1000);
    const v = await ghgEmissions.compute(fx.ctx, fx.march);
    expect(v.value).toBeNull();
    expect(v.lineage.notes).toContain(
      'heat: 50 kWh metered and no emissionFactorHeat: the value is not reported',
    );
  });
});
