import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { dynamicTransportInformation } from './dynamic-transport-information.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';

describe('EC: ICT: T: 1C Dynamic Public Transport Information', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('stops whose display showed live updates ÷ transitStopsTotal; two displays at one stop count once', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('d-1', 'transit-stop-display', { stopId: 'S1' });
    fx.addDevice('d-2', 'transit-stop-display', { stopId: 'S1' });
    fx.addDevice('d-3', 'transit-stop-display', { stopId: 'S2' });
    fx.addDevice('d-4', 'transit-stop-display', { stopId: 'S3' }); // dark all day: heartbeats of 0
    await fx.writeSeries('d-1', 'heartbeat', day.start, 1440, 60, () => 2);
    await fx.writeSeries('d-2', 'heartbeat', day.start, 1440, 60, () => 2);
    await fx.writeSeries('d-3', 'heartbeat', day.start, 1440, 60, () => 1);
    await fx.writeSeries('d-4', 'heartbeat', day.start, 1440, 60, () => 0);
    fx.setManual('transitStopsTotal', 8, 'stops', 'accurate-measurement');
    const v = await dynamicTransportInformation.compute(fx.ctx, day);
    expect(v).toMatchObject({ value: 25, unit: '%', completeness: 1, dataQuality: 'accurate-measurement' });
    expect(v.lineage.registryCounts).toEqual({ displays: 4, stopsWithLiveInformation: 2 });
    expect(v.lineage.readings).toBe(4 * 1440);
  });
});
