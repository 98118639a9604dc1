import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { electricitySupplyIctMonitoring } from './electricity-supply-ict-monitoring.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { smartElectricityMeters } from './smart-electricity-meters.ts';

describe('electricity coverage KPIs (registry + manual)', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('EC: ICT: ES: 1C Smart Electricity Meters', async () => {
    for (let i = 0; i < 3; i++) fx.addDevice(`m-${i}`, 'electricity-smart-meter');
    fx.addDevice('m-off', 'electricity-smart-meter', {}, { status: 'disabled' });
    fx.setManual('electricityMetersTotal', 4, 'meters', 'accurate-measurement');
    const v = await smartElectricityMeters.compute(fx.ctx, fx.march);
    expect(v).toMatchObject({
      value: 75,
      unit: '%',
      completeness: 1,
      dataQuality: 'accurate-measurement',
      source: 'mixed',
    });
    expect(v.lineage.registryCounts).toEqual({ smartElectricityMeters: 3 });
  });

  it('EC: ICT: ES: 2A Electricity Supply ICT Monitoring, capped at 100 %', async () => {
    for (let i = 0; i < 6; i++) fx.addDevice(`f-${i}`, 'electricity-feeder-meter', { customersServed: 1 });
    fx.setManual('electricityFeedersTotal', 5, 'feeders');
    const v = await electricitySupplyIctMonitoring.compute(fx.ctx, fx.march);
    expect(v.value).toBe(100);
    fx.setManual('electricityFeedersTotal', 12, 'feeders', 'extrapolated-survey');
    const w = await electricitySupplyIctMonitoring.compute(fx.ctx, fx.march);
    expect(w.value).toBe(50);
    expect(w.dataQuality).toBe('extrapolated-survey');
  });
});
