import { describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { closesAt, describeVerdict, isClosed, kpiStatus, kpiVerdict } from './kpi-status.ts';
import { monthPeriod, monthToDate } from './periods.ts';

const calendar = new CityCalendar('Europe/Paris');
const rule = { calendar, graceDays: 5, captureThreshold: 0.9 };
const march = monthPeriod(calendar, '2026-03');
// 1 April 00:00 Paris (UTC+2 after the spring change) plus five calendar days
const APRIL_6 = Date.parse('2026-04-05T22:00:00Z');

describe('kpiStatus', () => {
  it('closes a month at its end plus the grace days, in local days', () => {
    expect(closesAt(calendar, march, 5)).toBe(APRIL_6);
    expect(isClosed(rule, march, APRIL_6 - 1)).toBe(false);
    expect(isClosed(rule, march, APRIL_6)).toBe(true);
    expect(isClosed(rule, march, APRIL_6 - 1, true)).toBe(true); // closed on demand
  });

  it.each([
    ['closed and complete', march, 0.95, APRIL_6, false, 'final'],
    ['closed, at the threshold', march, 0.9, APRIL_6, false, 'final'],
    ['closed but incomplete', march, 0.89, APRIL_6, false, 'provisional'],
    ['complete, within the grace period', march, 1, APRIL_6 - 1, false, 'provisional'],
    ['complete, closed on demand', march, 1, APRIL_6 - 1, true, 'final'],
    ['nothing expected, closed', march, null, APRIL_6, false, 'no-data-expected'],
    ['nothing expected, frozen', march, null, APRIL_6, true, 'no-data-expected'],
  ] as const)('%s → %s', (_name, period, completeness, now, frozen, want) => {
    expect(kpiStatus({ period, completeness }, rule, now, frozen)).toBe(want);
  });

  it('a value from readings nobody owed (before its device was provisioned) is provisional, not "no data"', () => {
    expect(kpiStatus({ period: march, completeness: null, hasValue: true }, rule, APRIL_6, true)).toBe(
      'provisional',
    );
    expect(kpiStatus({ period: march, completeness: null, hasValue: false }, rule, APRIL_6)).toBe(
      'no-data-expected',
    );
  });

  it('no value ("NR") is never final, however complete and closed', () => {
    // every reading in, but an input missing (the population of a per-capita KPI)
    expect(kpiStatus({ period: march, completeness: 1, hasValue: false }, rule, APRIL_6, true)).toBe(
      'provisional',
    );
    expect(kpiStatus({ period: march, completeness: 0.5, hasValue: false }, rule, APRIL_6)).toBe(
      'provisional',
    );
    expect(kpiStatus({ period: march, completeness: 0.95, hasValue: true }, rule, APRIL_6)).toBe('final');
  });

  it('a running period is provisional however complete; a carried-forward input too', () => {
    const mtd = monthToDate(calendar, Date.parse('2026-03-15T12:00:00Z'));
    expect(kpiStatus({ period: mtd, completeness: 1 }, rule, APRIL_6 * 2, true)).toBe('provisional');
    expect(kpiStatus({ period: march, completeness: 1, inputsProvisional: true }, rule, APRIL_6)).toBe(
      'provisional',
    );
  });
});

describe('kpiVerdict: the status with its reason', () => {
  const mtd = monthToDate(calendar, Date.parse('2026-03-15T12:00:00Z'));
  it.each([
    ['closed and complete', { period: march, completeness: 0.95 }, APRIL_6, 'final', 'complete'],
    ['closed but incomplete', { period: march, completeness: 0.5 }, APRIL_6, 'provisional', 'below-capture'],
    [
      'within the grace period',
      { period: march, completeness: 1 },
      APRIL_6 - 1,
      'provisional',
      'grace-period',
    ],
    ['month to date', { period: mtd, completeness: 1 }, APRIL_6, 'provisional', 'running-period'],
    [
      'not reported',
      { period: march, completeness: 1, hasValue: false },
      APRIL_6,
      'provisional',
      'not-reported',
    ],
    [
      'carried-forward input',
      { period: march, completeness: 1, inputsProvisional: true },
      APRIL_6,
      'provisional',
      'input-provisional',
    ],
    [
      'nothing owed, a value',
      { period: march, completeness: null, hasValue: true },
      APRIL_6,
      'provisional',
      'unowed-readings',
    ],
    ['nothing owed', { period: march, completeness: null }, APRIL_6, 'no-data-expected', 'nothing-expected'],
  ] as const)('%s → %s (%s)', (_name, input, now, status, reason) => {
    expect(kpiVerdict(input, rule, now)).toEqual({ status, reason });
    expect(kpiStatus(input, rule, now)).toBe(status);
  });

  it('says why in words, with the figures that decide it', () => {
    const low = { period: march, completeness: 0.84 };
    expect(describeVerdict(kpiVerdict(low, rule, APRIL_6), low, rule)).toBe(
      'completeness 84 % is below the capture threshold 90 %',
    );
    const early = { period: march, completeness: 1 };
    expect(describeVerdict(kpiVerdict(early, rule, APRIL_6 - 1), early, rule)).toContain(
      'closes on 2026-04-06',
    );
  });
});
