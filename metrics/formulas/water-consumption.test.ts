import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { waterConsumption } from './water-consumption.ts';

describe('EN: EN: WS: 2C Water Consumption', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture('Europe/Paris');
  });
  afterEach(() => fx.close());

  it('smart-meter litres per capita per local day', async () => {
    const twoDays = monthToDate(fx.calendar, fx.march.start + 2 * DAY);
    fx.addDevice('wm-1', 'water-smart-meter');
    fx.addDevice('wm-2', 'water-smart-meter');
    await fx.writeSeries('wm-1', 'volume', twoDays.start, 192, 900, () => 0.01); // 1.92 m³
    await fx.writeSeries('wm-2', 'volume', twoDays.start, 96, 900, () => 0.02); // 1.92 m³, one day only
    fx.setPopulation(4);
    fx.setManual('waterMetersTotal', 10, 'meters');
    const v = await waterConsumption.compute(fx.ctx, twoDays);
    expect(v.unit).toBe('litres per capita per day');
    // 2 of 10 customers metered: their 3840 L stand for 5 × as much.
    expect(v.value).toBeCloseTo((3840 * 5) / 4 / 2, 9);
    expect(v.completeness).toBeCloseTo(288 / 384, 12);
    expect(v.provisional).toBe(true);
    expect(v.lineage.estimates).toEqual([
      { quantity: 'consumption', sampled: 2, total: 10, factor: 5, totalFrom: 'waterMetersTotal' },
    ]);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.manualInputs.map((m) => m.name)).toContain('waterMetersTotal');
  });

  it('every customer metered: the sum as it is, not an estimate', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('wm-1', 'water-smart-meter');
    await fx.writeSeries('wm-1', 'volume', day.start, 96, 900, () => 0.01);
    fx.setPopulation(2);
    fx.setManual('waterMetersTotal', 1, 'meters');
    const v = await waterConsumption.compute(fx.ctx, day);
    expect(v.value).toBeCloseTo(960 / 2, 9);
    expect(v.lineage.estimates).toBeUndefined();
  });

  it('meters all installed after the period began: litres per day over the days since', async () => {
    // The tenth of March, ten days into the month: a city (or a demo) whose meters came today.
    const now = fx.march.start + 10 * DAY;
    const mtd = monthToDate(fx.calendar, now);
    const installedAt = now - DAY;
    fx.addDevice('wm-1', 'water-smart-meter', {}, { installedAt });
    await fx.writeSeries('wm-1', 'volume', installedAt, 96, 900, () => 0.01); // 960 L in one day
    fx.setPopulation(2);
    fx.ctx.now = now;
    const v = await waterConsumption.compute(fx.ctx, mtd);
    expect(v.value).toBeCloseTo(960 / 2, 6);
    expect(v.lineage.notes?.some((n) => n.startsWith('rate over the stretch measured'))).toBe(true);
  });

  it('a Paris March has 31 local days despite the DST hour', async () => {
    fx.addDevice('wm-1', 'water-smart-meter');
    await fx.writeSeries('wm-1', 'volume', fx.march.start, 31, 86_400 - 120, () => 0.31);
    fx.setPopulation(1);
    const v = await waterConsumption.compute(fx.ctx, fx.march);
    expect(v.value).toBeCloseTo((31 * 310) / 31, 9);
  });
});
