import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate, rolling12Months } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture, HOUR, MIN } from './formula-fixture.ts';
import { outageFrequency } from './outage-frequency.ts';
import { outageTime } from './outage-time.ts';

describe('EC: I: ES: 1C SAIFI and EC: I: ES: 2C CAIDI from outage and restore events', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('feeders: pairs, clips an outage begun before the period, counts an unrestored one until the end', async () => {
    const now = fx.march.start + 20 * DAY;
    const period = rolling12Months(fx.calendar, now);
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 100 });
    fx.addDevice('f-2', 'electricity-feeder-meter', { customersServed: 300 });
    fx.addDevice('m-1', 'electricity-smart-meter'); // ignored: feeders are registered
    // f-1: 30 min outage inside; a repeat start is ignored; a restore with nothing open is ignored
    fx.addEvent('f-1', 'outage_start', period.start + 10 * DAY);
    fx.addEvent('f-1', 'outage_start', period.start + 10 * DAY + 5 * MIN);
    fx.addEvent('f-1', 'restore', period.start + 10 * DAY + 30 * MIN);
    fx.addEvent('f-1', 'restore', period.start + 11 * DAY);
    // f-2: began 1 h before the period, restored 1 h into it → 60 min counted
    fx.addEvent('f-2', 'outage_start', period.start - HOUR);
    fx.addEvent('f-2', 'restore', period.start + HOUR);
    // f-1: open 2 h before the period end → 120 min
    fx.addEvent('f-1', 'outage_start', period.end - 2 * HOUR);
    // an outage entirely before the period does not count
    fx.addEvent('f-2', 'outage_start', period.start - 2 * DAY);
    fx.addEvent('f-2', 'restore', period.start - DAY);
    fx.addEvent('m-1', 'outage_start', period.start + DAY);

    const saifi = await outageFrequency.compute(fx.ctx, period);
    expect(saifi.unit).toBe('interruptions per customer per year');
    expect(saifi.value).toBeCloseTo((100 + 300 + 100) / 400, 12); // 12 months: not scaled
    expect(saifi.lineage.registryCounts).toMatchObject({
      feederMeters: 2,
      customersServed: 400,
      interruptions: 3,
      customerInterruptions: 500,
    });
    expect(saifi.lineage.notes).toContain('1 interruption(s) not restored: counted until the period end');

    const caidi = await outageTime.compute(fx.ctx, period);
    expect(caidi.unit).toBe('minutes');
    expect(caidi.value).toBeCloseTo((100 * 30 + 300 * 60 + 100 * 120) / 500, 9);
    expect(caidi.lineage.devices).toEqual(['f-1', 'f-2']);
  });

  it('customer smart meters when no feeder is registered; SAIFI annualised for a shorter period', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('m-1', 'electricity-smart-meter', { customers: 1 });
    fx.addDevice('m-2', 'electricity-smart-meter');
    fx.addDevice('m-3', 'electricity-smart-meter', { customers: 2 });
    fx.addEvent('m-3', 'outage_start', day.start + HOUR);
    fx.addEvent('m-3', 'restore', day.start + HOUR + 90 * MIN);
    await fx.writeSeries('m-1', 'energy', day.start, 96, 900, () => 1);
    const saifi = await outageFrequency.compute(fx.ctx, day);
    expect(saifi.value).toBeCloseTo((2 / 4) * 365.2425, 9);
    expect(saifi.completeness).toBeCloseTo(1 / 3, 12);
    expect(saifi.provisional).toBe(true);
    const caidi = await outageTime.compute(fx.ctx, day);
    expect(caidi.value).toBe(90);
  });

  it('no interruption: SAIFI 0 and CAIDI 0 minutes (noted); no customers: NR', async () => {
    expect((await outageFrequency.compute(fx.ctx, fx.march)).value).toBeNull();
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 10 });
    expect((await outageFrequency.compute(fx.ctx, fx.march)).value).toBe(0);
    const caidi = await outageTime.compute(fx.ctx, fx.march);
    expect(caidi.value).toBe(0);
    expect(caidi.lineage.notes).toContain('no interruption in the period');
  });
});
