import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate, yearPeriod } from '../periods.ts';
import { electricityConsumption } from './electricity-consumption.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';

describe('EN: E: E: 2C Electricity Consumption', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('feeder kWh ÷ population, annualised from one day; customer meters behind feeders are not added', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('feeder-1', 'electricity-feeder-meter', { customersServed: 100 });
    fx.addDevice('feeder-2', 'electricity-feeder-meter', { customersServed: 50 });
    fx.addDevice('meter-1', 'electricity-smart-meter');
    await fx.writeSeries('feeder-1', 'energy', day.start, 288, 300, () => 10); // 2880 kWh
    await fx.writeSeries('feeder-2', 'energy', day.start, 288, 300, () => 5); // 1440 kWh
    await fx.writeSeries('meter-1', 'energy', day.start, 96, 900, () => 1000);
    fx.setPopulation(1000);
    const v = await electricityConsumption.compute(fx.ctx, day);
    expect(v.unit).toBe('kWh per capita per year');
    expect(v.value).toBeCloseTo((4320 / 1000) * 365.2425, 9);
    expect(v.completeness).toBe(1);
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.lineage.devices).toEqual(['feeder-1', 'feeder-2']);
    expect(v.lineage.readings).toBe(576);
    expect(v.lineage.registryCounts).toEqual({ feederMeters: 2 });
    expect(v.lineage.manualInputs).toEqual([expect.objectContaining({ name: 'population', value: 1000 })]);
  });

  it('feeders of a part of the city: scaled up to all feeders, an estimate in the lineage', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('feeder-1', 'electricity-feeder-meter', { customersServed: 100 });
    await fx.writeSeries('feeder-1', 'energy', day.start, 288, 300, () => 10); // 2880 kWh
    fx.setPopulation(1000);
    fx.setManual('electricityFeedersTotal', 3, 'feeders', 'accurate-measurement');
    const v = await electricityConsumption.compute(fx.ctx, day);
    expect(v.value).toBeCloseTo(((2880 * 3) / 1000) * 365.2425, 9);
    expect(v.lineage.estimates).toEqual([
      { quantity: 'energy delivered', sampled: 1, total: 3, factor: 3, totalFrom: 'electricityFeedersTotal' },
    ]);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
  });

  it('falls back to customer smart meters; no population → NR with a note', async () => {
    const year = yearPeriod(fx.calendar, 2026);
    fx.addDevice('meter-1', 'electricity-smart-meter');
    await fx.writeSeries('meter-1', 'energy', year.start, 96, 900, () => 2);
    let v = await electricityConsumption.compute(fx.ctx, year);
    expect(v.value).toBeNull();
    expect(v.lineage.notes?.some((n) => n.includes('population'))).toBe(true);
    fx.setPopulation(4);
    v = await electricityConsumption.compute(fx.ctx, year);
    expect(v.value).toBe(48); // 192 kWh ÷ 4, a year is not scaled
    expect(v.completeness).toBeCloseTo(96 / 35040, 12);
    expect(v.provisional).toBe(true);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
  });

  it('a running month owes readings only until ctx.now', async () => {
    fx.addDevice('feeder-1', 'electricity-feeder-meter', { customersServed: 1 });
    await fx.writeSeries('feeder-1', 'energy', fx.march.start, 288, 300, () => 1);
    fx.setPopulation(10);
    let v = await electricityConsumption.compute(fx.ctx, fx.march);
    expect(v.completeness).toBeCloseTo(1 / 31, 12);
    fx.ctx.now = fx.march.start + DAY;
    v = await electricityConsumption.compute(fx.ctx, fx.march);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
  });
});
