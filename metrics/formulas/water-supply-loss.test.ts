import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { waterSupplyLoss } from './water-supply-loss.ts';

describe('EC: I: WS: 3C Water Supply Loss', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it.each([
    ['a fifth lost', 0.8, 20],
    ['delivered above input clamps to 0 %', 1.5, 0],
  ])('%s', async (_name, deliveredShare, expected) => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('in-1', 'water-inflow-meter');
    fx.addDevice('wm-1', 'water-smart-meter');
    await fx.writeSeries('in-1', 'volume', day.start, 288, 300, () => 1); // 288 m³
    await fx.writeSeries('wm-1', 'volume', day.start, 96, 900, () => (288 * deliveredShare) / 96);
    const v = await waterSupplyLoss.compute(fx.ctx, day);
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo(expected, 9);
    expect(v.completeness).toBe(1);
    expect(v.lineage.readings).toBe(384);
    expect(v.lineage.registryCounts).toEqual({ inflowMeters: 1, customerSmartMeters: 1 });
  });

  it('a sample of customers metered: their delivered volume scaled up to all customers, an estimate', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('in-1', 'water-inflow-meter');
    fx.addDevice('wm-1', 'water-smart-meter');
    fx.addDevice('wm-2', 'water-smart-meter');
    fx.addDevice('wm-3', 'water-smart-meter'); // registered, silent: not part of the sample
    await fx.writeSeries('in-1', 'volume', day.start, 288, 300, () => 1); // 288 m³
    await fx.writeSeries('wm-1', 'volume', day.start, 96, 900, () => 0.3); // 28.8 m³
    await fx.writeSeries('wm-2', 'volume', day.start, 96, 900, () => 0.3);
    fx.setManual('waterMetersTotal', 8, 'meters', 'accurate-measurement');
    const v = await waterSupplyLoss.compute(fx.ctx, day);
    // 57.6 m³ × 8 ÷ 2 = 230.4 m³ delivered of 288: 20 % lost.
    expect(v.value).toBeCloseTo(20, 9);
    expect(v.lineage.estimates).toEqual([
      { quantity: 'delivered volume', sampled: 2, total: 8, factor: 4, totalFrom: 'waterMetersTotal' },
    ]);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.notes?.some((n) => n.startsWith('estimate: delivered volume of the 2'))).toBe(true);
  });

  it('no inflow reading → NR', async () => {
    fx.addDevice('in-1', 'water-inflow-meter');
    const v = await waterSupplyLoss.compute(fx.ctx, fx.march);
    expect(v.value).toBeNull();
    expect(v.completeness).toBe(0);
    expect(v.provisional).toBe(true);
  });
});
