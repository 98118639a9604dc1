import { describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { CityError } from '../core/errors.ts';
import {
  monthOf,
  monthPeriod,
  monthToDate,
  parsePeriodLabel,
  periodDays,
  periodFromLabel,
  previousPeriod,
  quarterPeriod,
  rolling12Months,
  yearPeriod,
  yearToDate,
} from './periods.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const paris = new CityCalendar('Europe/Paris');
const saoPaulo = new CityCalendar('America/Sao_Paulo');
const iso = (ms: number) => new Date(ms).toISOString();

describe('periods in the city zone', () => {
  it('a Paris March (spring forward) lasts 31 days minus one hour, starting at local midnight', () => {
    const p = monthPeriod(paris, '2026-03');
    expect(p).toMatchObject({ kind: 'month', label: '2026-03' });
    expect(iso(p.start)).toBe('2026-02-28T23:00:00.000Z');
    expect(iso(p.end)).toBe('2026-03-31T22:00:00.000Z');
    expect(p.end - p.start).toBe(31 * DAY - HOUR);
    expect(periodDays(paris, p)).toBe(31);
    expect(monthPeriod(paris, '2026-10').end - monthPeriod(paris, '2026-10').start).toBe(31 * DAY + HOUR);
  });

  it('São Paulo months begin at 03:00Z (UTC−3, no DST since 2019)', () => {
    for (const label of ['2026-01', '2026-06', '2026-11']) {
      const p = monthPeriod(saoPaulo, label);
      expect(iso(p.start)).toBe(`${label}-01T03:00:00.000Z`);
    }
    expect(iso(yearPeriod(saoPaulo, 2026).end)).toBe('2027-01-01T03:00:00.000Z');
  });

  it('quarters and years', () => {
    const q = quarterPeriod(paris, '2026-Q1');
    expect(q.start).toBe(monthPeriod(paris, '2026-01').start);
    expect(q.end).toBe(monthPeriod(paris, '2026-04').start);
    expect(yearPeriod(paris, '2026')).toMatchObject({ kind: 'year', label: '2026' });
    expect(periodDays(paris, yearPeriod(paris, 2028))).toBe(366);
  });

  it('to-date periods run from the local month/year start until now', () => {
    const now = Date.parse('2026-03-15T10:00:00Z');
    expect(monthToDate(paris, now)).toEqual({
      kind: 'month-to-date',
      label: '2026-03-mtd',
      start: monthPeriod(paris, '2026-03').start,
      end: now,
    });
    expect(yearToDate(paris, now)).toMatchObject({
      label: '2026-ytd',
      start: yearPeriod(paris, 2026).start,
      end: now,
    });
    const r = rolling12Months(paris, now);
    expect(r.label).toBe('2026-03-r12');
    expect(iso(r.start)).toBe('2025-03-15T10:00:00.000Z'); // same local wall time (11:00 CET) a year before
    // just after local midnight on 1 January, Paris is already in the new year while UTC is not
    expect(yearToDate(paris, Date.parse('2025-12-31T23:30:00Z')).label).toBe('2026-ytd');
    expect(monthOf(paris, Date.parse('2026-02-28T23:30:00Z')).label).toBe('2026-03');
  });

  it.each([
    ['2026', { kind: 'year', year: 2026 }],
    ['2026-03', { kind: 'month', year: 2026, month: 3 }],
    ['2026-q2', { kind: 'quarter', year: 2026, quarter: 2 }],
    ['2026-03-mtd', { kind: 'month-to-date', year: 2026, month: 3 }],
    ['2026-YTD', { kind: 'year-to-date', year: 2026 }],
    ['2026-12-r12', { kind: 'rolling-12-months', year: 2026, month: 12 }],
    ['2026-13', null],
    ['2026-Q5', null],
    ['26-03', null],
    ['2026-03-01', null],
  ])('parsePeriodLabel(%j)', (label, expected) => {
    expect(parsePeriodLabel(label)).toEqual(expected);
  });

  it('refuses a wrong label with METRICS_PERIOD_INVALID', () => {
    expect(() => monthPeriod(paris, '2026')).toThrow(CityError);
    try {
      monthPeriod(paris, '2026-13');
    } catch (err) {
      expect((err as CityError).code).toBe('METRICS_PERIOD_INVALID');
    }
    expect.assertions(2);
  });

  it('builds periods from labels; to-date labels need now and end at now or at the period end', () => {
    const now = Date.parse('2026-03-15T10:00:00Z');
    expect(periodFromLabel(paris, '2026-03')).toEqual(monthPeriod(paris, '2026-03'));
    expect(periodFromLabel(paris, '2026-03-mtd')).toBeNull();
    expect(periodFromLabel(paris, '2026-03-mtd', now)?.end).toBe(now);
    expect(periodFromLabel(paris, '2026-02-mtd', now)?.end).toBe(monthPeriod(paris, '2026-02').end);
    expect(periodFromLabel(paris, '2026-04-mtd', now)).toBeNull();
    expect(periodFromLabel(paris, '2026-ytd', now)?.start).toBe(yearPeriod(paris, 2026).start);
    expect(periodFromLabel(paris, '2026-03-r12', now)).toEqual(rolling12Months(paris, now));
    expect(periodFromLabel(paris, 'nope')).toBeNull();
  });

  it('previous periods', () => {
    expect(previousPeriod(paris, monthPeriod(paris, '2026-01')).label).toBe('2025-12');
    expect(previousPeriod(paris, quarterPeriod(paris, '2026-Q1')).label).toBe('2025-Q4');
    expect(previousPeriod(paris, yearPeriod(paris, 2026)).label).toBe('2025');
    const mtd = monthToDate(paris, Date.parse('2026-03-31T12:00:00Z'));
    const prev = previousPeriod(paris, mtd);
    expect(prev).toMatchObject({ label: '2026-02-mtd', start: monthPeriod(paris, '2026-02').start });
    expect(prev.end).toBe(monthPeriod(paris, '2026-02').end); // clipped: February has no 31st
    const r12 = rolling12Months(paris, Date.parse('2026-03-15T10:00:00Z'));
    expect(previousPeriod(paris, r12).end).toBe(r12.start);
  });
});
