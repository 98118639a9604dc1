import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { airPollution } from './air-pollution.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { waterConsumption } from './water-consumption.ts';

/**
 * A period's device set: the devices whose installed interval overlaps it, each read and owing readings
 * for the overlap only. Readings outside an interval (kept after a forced change) do not count. Expected
 * values worked out by hand from the series written (UTC March 2026: 31 days).
 */
describe("a period's device set from the installed intervals", () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture('UTC');
  });
  afterEach(() => fx.close());

  it('water consumption: a meter removed on the 11th counts its first ten days; meters outside March none', async () => {
    const { start } = fx.march;
    const later = Date.parse('2026-12-01T00:00:00Z');
    fx.addDevice('wm-all', 'water-smart-meter', {}, { createdAt: later, installedAt: start });
    fx.addDevice('wm-removed', 'water-smart-meter', {}, { installedAt: start, removedAt: start + 10 * DAY });
    fx.addDevice('wm-april', 'water-smart-meter', {}, { installedAt: fx.march.end });
    fx.addDevice(
      'wm-gone',
      'water-smart-meter',
      {},
      { installedAt: start - 60 * DAY, removedAt: start - DAY },
    );
    // 0.01 m³ every 15 minutes over all of March for each: 31 × 96 = 2976 readings of each meter
    for (const id of ['wm-all', 'wm-removed', 'wm-april', 'wm-gone'])
      await fx.writeSeries(id, 'volume', start, 31 * 96, 900, () => 0.01);
    fx.setPopulation(1000);
    const v = await waterConsumption.compute(fx.ctx, fx.march);
    expect(v.lineage.registryCounts).toEqual({ smartWaterMeters: 2 });
    // wm-all 2976 × 0.01 = 29.76 m³, wm-removed 10 × 96 × 0.01 = 9.6 m³: 39.36 m³ × 1000 L ÷ 1000 ÷ 31 days
    expect(v.value).toBeCloseTo((39.36 * 1000) / 1000 / 31, 9);
    // owed 2976 + 960, received as many
    expect(v.completeness).toBe(1);
    const devices = v.lineage.series.filter((s) => s.scope === 'device');
    expect(devices.map((s) => [s.key, s.readings, s.expected])).toEqual([
      ['wm-all', 2976, 2976],
      ['wm-removed', 960, 960],
    ]);
  });

  it('PM2.5: the city series is the set it was read over, and a removed station owes nothing after removal', async () => {
    const { start } = fx.march;
    fx.addDevice('aq-1', 'air-quality-station', { pollutants: 'pm25' });
    fx.addDevice('aq-2', 'air-quality-station', { pollutants: 'pm25' }, { removedAt: start + DAY });
    fx.addDevice('aq-3', 'air-quality-station', { pollutants: 'pm25' }, { installedAt: fx.march.end });
    // aq-1: 720 minutes of 8 µg/m³ on 1 March (half the day); aq-2: all of 1 March at 20, and 2 March too
    await fx.writeSeries('aq-1', 'pm25', start, 720, 60, () => 8);
    await fx.writeSeries('aq-2', 'pm25', start, 2 * 1440, 60, () => 20);
    await fx.writeSeries('aq-3', 'pm25', start, 1440, 60, () => 50);
    const v = await airPollution.compute(fx.ctx, fx.march);
    // (8 + 20) / 2: aq-2's 2 March and all of aq-3 are outside their intervals
    expect(v.value).toBeCloseTo(14, 9);
    // owed: aq-1 31 × 1440 = 44 640, aq-2 1440; received 720 + 1440
    expect(v.completeness).toBeCloseTo((720 + 1440) / (44_640 + 1440), 12);
    const city = v.lineage.series.find((s) => s.scope === 'city' && s.metric === 'pm25');
    expect(city).toMatchObject({ readings: 720 + 1440, expected: 44_640 + 1440 });
  });
});
