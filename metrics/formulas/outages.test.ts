import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthPeriod, monthToDate, rolling12Months, yearPeriod } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture, HOUR, MIN } from './formula-fixture.ts';
import { outageFrequency } from './outage-frequency.ts';
import { outageTime } from './outage-time.ts';

describe('EC: I: ES: 1C SAIFI and EC: I: ES: 2C CAIDI from outage and restore events', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('rolling 12 months: pairs events, counts each interruption in the period it began, not scaled', async () => {
    const now = fx.march.start + 20 * DAY;
    const period = rolling12Months(fx.calendar, now);
    fx.ctx.now = now;
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 100 });
    fx.addDevice('f-2', 'electricity-feeder-meter', { customersServed: 300 });
    fx.addDevice('m-1', 'electricity-smart-meter'); // ignored: feeders are registered
    // f-1: 30 min outage inside; a repeat start is ignored; a restore with nothing open is ignored
    fx.addEvent('f-1', 'outage_start', period.start + 10 * DAY);
    fx.addEvent('f-1', 'outage_start', period.start + 10 * DAY + 5 * MIN);
    fx.addEvent('f-1', 'restore', period.start + 10 * DAY + 30 * MIN);
    fx.addEvent('f-1', 'restore', period.start + 11 * DAY);
    // f-2: began 1 h before the period, restored 1 h into it: the earlier period's, not this one's
    fx.addEvent('f-2', 'outage_start', period.start - HOUR);
    fx.addEvent('f-2', 'restore', period.start + HOUR);
    // f-2: 45 min, spanning a month boundary inside the period: counted once, whole
    const monthEdge = fx.calendar.monthRange(2025, 12).end;
    fx.addEvent('f-2', 'outage_start', monthEdge - 15 * MIN);
    fx.addEvent('f-2', 'restore', monthEdge + 30 * MIN);
    // f-1: open since 2 h before now (the period end) → 120 min so far
    fx.addEvent('f-1', 'outage_start', now - 2 * HOUR);
    fx.addEvent('m-1', 'outage_start', period.start + DAY);

    const saifi = await outageFrequency.compute(fx.ctx, period);
    expect(saifi.unit).toBe('interruptions per customer per year');
    // f-1 twice, f-2 once (100 + 100 + 300 customers), ÷ 400 served, not scaled
    expect(saifi.value).toBeCloseTo((100 + 100 + 300) / 400, 12);
    expect(saifi.lineage.registryCounts).toMatchObject({
      feederMeters: 2,
      customersServed: 400,
      interruptions: 3,
      customerInterruptions: 500,
    });
    expect(saifi.lineage.notes).toEqual(
      expect.arrayContaining([
        '1 interruption(s) begun before the period and lasting into it: counted in the period they began',
        `1 interruption(s) not restored by ${new Date(now).toISOString()}: counted until then, the value changes once restored`,
      ]),
    );
    expect(saifi.lineage.notes?.some((n) => n.includes('annualised'))).toBe(false);
    expect(saifi.lineage.notes?.some((n) => n.includes('estimate'))).toBe(false);

    const caidi = await outageTime.compute(fx.ctx, period);
    expect(caidi.unit).toBe('minutes');
    expect(caidi.value).toBeCloseTo((100 * 30 + 300 * 45 + 100 * 120) / 500, 9);
    expect(caidi.lineage.devices).toEqual(['f-1', 'f-2']);
  });

  it('an outage across a month end counts once, in the month it began, until its restore', async () => {
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 200 });
    const feb = monthPeriod(fx.calendar, '2026-02');
    // 23:00 on 28 February to 02:00 on 1 March: 180 minutes, all February's
    fx.addEvent('f-1', 'outage_start', fx.march.start - HOUR);
    fx.addEvent('f-1', 'restore', fx.march.start + 2 * HOUR);
    fx.ctx.now = fx.march.start + 10 * DAY;

    const febCaidi = await outageTime.compute(fx.ctx, feb);
    expect(febCaidi.value).toBe(180);
    expect(febCaidi.lineage.notes).toContain(
      `interruption of f-1 begun ${new Date(fx.march.start - HOUR).toISOString()} restored after the period end, at ${new Date(fx.march.start + 2 * HOUR).toISOString()}: its whole duration counted`,
    );
    expect(febCaidi.lineage.notes?.some((n) => n.includes('not restored'))).toBe(false);
    const febSaifi = await outageFrequency.compute(fx.ctx, feb);
    // one interruption of 200 customers ÷ 200, × 365.2425 ÷ 28 days: an annualised estimate
    expect(febSaifi.value).toBeCloseTo(365.2425 / 28, 9);

    const marSaifi = await outageFrequency.compute(fx.ctx, fx.march);
    expect(marSaifi.value).toBe(0);
    expect(marSaifi.lineage.notes).toContain(
      '1 interruption(s) begun before the period and lasting into it: counted in the period they began',
    );
    const marCaidi = await outageTime.compute(fx.ctx, fx.march);
    expect(marCaidi.value).toBe(0);

    // The year holds it once.
    const year = await outageFrequency.compute(fx.ctx, yearPeriod(fx.calendar, '2026'));
    expect(year.value).toBe(1);
    expect(year.lineage.registryCounts).toMatchObject({ interruptions: 1, customerInterruptions: 200 });
  });

  it('a month is an annualised estimate: lineage and data-quality class say so; a year is not', async () => {
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 50 });
    await fx.writeSeries('f-1', 'energy', fx.march.start, 31 * 288, 300, () => 1); // every 5 min
    fx.addEvent('f-1', 'outage_start', fx.march.start + DAY);
    fx.addEvent('f-1', 'restore', fx.march.start + DAY + 20 * MIN);
    const month = await outageFrequency.compute(fx.ctx, fx.march);
    expect(month.value).toBeCloseTo((50 / 50) * (365.2425 / 31), 9);
    expect(month.completeness).toBe(1);
    expect(month.dataQuality).toBe('estimation-with-assumptions');
    expect(month.lineage.notes).toContain(
      'SAIFI annualised over 2026-03, not 12 months: an estimate; the rolling 12 months and the calendar year are the U4SSC figure',
    );
    const caidi = await outageTime.compute(fx.ctx, fx.march);
    expect(caidi.value).toBe(20);
    expect(caidi.dataQuality).toBe('estimation-with-assumptions');

    fx.ctx.now = fx.march.start + 31 * DAY;
    const r12 = await outageFrequency.compute(fx.ctx, rolling12Months(fx.calendar, fx.ctx.now));
    expect(r12.value).toBe(1);
    expect((r12.lineage.notes ?? []).some((n) => n.includes('estimate'))).toBe(false);
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

  it('feeders all installed inside the period: SAIFI annualised from the first installation, said in the lineage', async () => {
    // Europe/Paris, March 2026: 31 local days, one of them (29 March) 23 hours long.
    await fx.close();
    fx = formulaFixture('Europe/Paris');
    const march = fx.march;
    const installed = march.start + 11 * DAY; // 12 March 00:00 local, before the DST change
    fx.addDevice('f-1', 'electricity-feeder-meter', { customersServed: 40 }, { installedAt: installed });
    fx.addDevice(
      'f-2',
      'electricity-feeder-meter',
      { customersServed: 60 },
      { installedAt: installed + 5 * DAY },
    );
    fx.addEvent('f-1', 'outage_start', installed + 2 * DAY);
    fx.addEvent('f-1', 'restore', installed + 2 * DAY + 30 * MIN);
    fx.addEvent('f-2', 'outage_start', installed + 6 * DAY);
    fx.addEvent('f-2', 'restore', installed + 6 * DAY + 90 * MIN);

    const saifi = await outageFrequency.compute(fx.ctx, march);
    // 12 March to 1 April: 20 local days (the 23-hour day counts as one), from the first installation
    const days = 31 - 11;
    expect(saifi.value).toBeCloseTo(((40 + 60) / 100) * (365.2425 / days), 9);
    expect(saifi.lineage.notes).toEqual(
      expect.arrayContaining([
        `rate over the stretch measured, since ${new Date(installed).toISOString()}: no meter was installed earlier in the period`,
        `annualised over ${new Date(installed).toISOString()} to ${new Date(march.end).toISOString()}, from the first installation: × ${(365.2425 / days).toFixed(4)} (365.2425 days ÷ 20.000 local days)`,
      ]),
    );
    // a calendar year whose feeders were all installed in March is 295 local days of it, an estimate
    const year = await outageFrequency.compute(fx.ctx, yearPeriod(fx.calendar, '2026'));
    const yearDays = 365 - (31 + 28 + 11); // 12 March to 1 January 2027
    expect(year.value).toBeCloseTo(1 * (365.2425 / yearDays), 9);
    expect(year.lineage.notes).toContain(
      `SAIFI annualised over 2026 since ${new Date(installed).toISOString()}, not 12 months: an estimate; the rolling 12 months and the calendar year are the U4SSC figure`,
    );

    // CAIDI is a mean duration: not scaled by the span
    const caidi = await outageTime.compute(fx.ctx, march);
    expect(caidi.value).toBeCloseTo((40 * 30 + 60 * 90) / 100, 9);

    // one feeder installed before the period: the whole month's 31 local days
    fx.addDevice(
      'f-0',
      'electricity-feeder-meter',
      { customersServed: 100 },
      { installedAt: march.start - DAY },
    );
    const whole = await outageFrequency.compute(fx.ctx, march);
    expect(whole.value).toBeCloseTo((100 / 200) * (365.2425 / 31), 9);
    expect(whole.lineage.notes).toContain(
      `annualised over the period 2026-03: × ${(365.2425 / 31).toFixed(4)} (365.2425 days ÷ 31.000 local days)`,
    );
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
