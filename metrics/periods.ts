import type { DateTime } from 'luxon';
import type { CityCalendar } from '../core/city-calendar.ts';
import { CityError } from '../core/errors.ts';
import type { Period, PeriodKind } from './kpi-types.ts';

/**
 * KPI reporting periods: calendar periods in the city's IANA zone, [start, end) in
 * epoch ms. Local midnights make a month 31 days minus one hour long in a spring-forward month, so every
 * boundary is computed by luxon in the zone, never by adding fixed milliseconds.
 *
 * Labels (stable: the KPI store keys values by them):
 * - `2026-03` month, `2026-Q1` quarter, `2026` year (closed periods)
 * - `2026-03-mtd` month to date, `2026-ytd` year to date: start of the month/year until `now`
 * - `2026-03-r12` rolling 12 months: the 12 months (local calendar) ending at `now`, `now` in 2026-03
 */

export type PeriodLabel =
  | { kind: 'month'; year: number; month: number }
  | { kind: 'quarter'; year: number; quarter: number }
  | { kind: 'year'; year: number }
  | { kind: 'month-to-date'; year: number; month: number }
  | { kind: 'year-to-date'; year: number }
  | { kind: 'rolling-12-months'; year: number; month: number };

const pad2 = (n: number): string => String(n).padStart(2, '0');
const YEAR_RE = '(\\d{4})';
const MONTH_RE = '(0[1-9]|1[0-2])';
const LABEL_PATTERNS: Array<[RegExp, (m: RegExpMatchArray) => PeriodLabel]> = [
  [new RegExp(`^${YEAR_RE}$`), (m) => ({ kind: 'year', year: Number(m[1]) })],
  [
    new RegExp(`^${YEAR_RE}-${MONTH_RE}$`),
    (m) => ({ kind: 'month', year: Number(m[1]), month: Number(m[2]) }),
  ],
  [
    new RegExp(`^${YEAR_RE}-Q([1-4])$`),
    (m) => ({ kind: 'quarter', year: Number(m[1]), quarter: Number(m[2]) }),
  ],
  [
    new RegExp(`^${YEAR_RE}-${MONTH_RE}-mtd$`),
    (m) => ({ kind: 'month-to-date', year: Number(m[1]), month: Number(m[2]) }),
  ],
  [new RegExp(`^${YEAR_RE}-ytd$`), (m) => ({ kind: 'year-to-date', year: Number(m[1]) })],
  [
    new RegExp(`^${YEAR_RE}-${MONTH_RE}-r12$`),
    (m) => ({ kind: 'rolling-12-months', year: Number(m[1]), month: Number(m[2]) }),
  ],
];

/** Parses a period label (case-insensitive); null when it is none of the forms above. */
export function parsePeriodLabel(label: string): PeriodLabel | null {
  const text = label.trim();
  for (const [re, build] of LABEL_PATTERNS) {
    const m = text.match(re) ?? text.toUpperCase().match(re) ?? text.toLowerCase().match(re);
    if (m !== null) return build(m);
  }
  return null;
}

function invalid(label: string): CityError {
  return new CityError('METRICS_PERIOD_INVALID', `not a period label: ${label}`, { field: 'period' });
}

function expect<K extends PeriodKind>(label: string, kind: K): Extract<PeriodLabel, { kind: K }> {
  const parsed = parsePeriodLabel(label);
  if (parsed === null || parsed.kind !== kind) throw invalid(label);
  return parsed as Extract<PeriodLabel, { kind: K }>;
}

const make = (kind: PeriodKind, label: string, start: DateTime, end: DateTime): Period => ({
  kind,
  label,
  start: start.toMillis(),
  end: end.toMillis(),
});

const monthStart = (calendar: CityCalendar, year: number, month: number): DateTime =>
  calendar.local(calendar.monthRange(year, month).start);

/** The local calendar month `YYYY-MM`. Throws METRICS_PERIOD_INVALID for another form. */
export function monthPeriod(calendar: CityCalendar, label: string): Period {
  const { year, month } = expect(label, 'month');
  const start = monthStart(calendar, year, month);
  return make('month', `${year}-${pad2(month)}`, start, start.plus({ months: 1 }));
}

/** The local calendar quarter `YYYY-Qn`. */
export function quarterPeriod(calendar: CityCalendar, label: string): Period {
  const { year, quarter } = expect(label, 'quarter');
  const start = monthStart(calendar, year, (quarter - 1) * 3 + 1);
  return make('quarter', `${year}-Q${quarter}`, start, start.plus({ months: 3 }));
}

/** The local calendar year `YYYY` (a number is accepted too). */
export function yearPeriod(calendar: CityCalendar, label: string | number): Period {
  const { year } = expect(String(label), 'year');
  const start = monthStart(calendar, year, 1);
  return make('year', String(year), start, start.plus({ years: 1 }));
}

/** From the start of the local month holding `now` until `now`. */
export function monthToDate(calendar: CityCalendar, now: number): Period {
  const at = calendar.local(now);
  const start = at.startOf('month');
  return make('month-to-date', `${at.year}-${pad2(at.month)}-mtd`, start, at);
}

/** From the start of the local year holding `now` until `now`. */
export function yearToDate(calendar: CityCalendar, now: number): Period {
  const at = calendar.local(now);
  return make('year-to-date', `${at.year}-ytd`, at.startOf('year'), at);
}

/** The 12 local calendar months ending at `now` (same local wall time a year earlier). */
export function rolling12Months(calendar: CityCalendar, now: number): Period {
  const at = calendar.local(now);
  return make('rolling-12-months', `${at.year}-${pad2(at.month)}-r12`, at.minus({ months: 12 }), at);
}

/** The local month holding `ts`, as a closed month period. */
export function monthOf(calendar: CityCalendar, ts: number): Period {
  const at = calendar.local(ts);
  return monthPeriod(calendar, `${at.year}-${pad2(at.month)}`);
}

/**
 * A period from its label. To-date labels need `now`: their end is `now`, clipped to the end of the month
 * or year the label names (a past `2026-02-mtd` is the whole of February). Null when the label is invalid
 * or names a to-date period that has not started at `now`.
 */
export function periodFromLabel(calendar: CityCalendar, label: string, now?: number): Period | null {
  const p = parsePeriodLabel(label);
  if (p === null) return null;
  switch (p.kind) {
    case 'month':
      return monthPeriod(calendar, `${p.year}-${pad2(p.month)}`);
    case 'quarter':
      return quarterPeriod(calendar, `${p.year}-Q${p.quarter}`);
    case 'year':
      return yearPeriod(calendar, p.year);
    case 'month-to-date': {
      if (now === undefined) return null;
      const full = monthPeriod(calendar, `${p.year}-${pad2(p.month)}`);
      if (now <= full.start) return null;
      return {
        kind: p.kind,
        label: `${p.year}-${pad2(p.month)}-mtd`,
        start: full.start,
        end: Math.min(now, full.end),
      };
    }
    case 'year-to-date': {
      if (now === undefined) return null;
      const full = yearPeriod(calendar, p.year);
      if (now <= full.start) return null;
      return { kind: p.kind, label: `${p.year}-ytd`, start: full.start, end: Math.min(now, full.end) };
    }
    case 'rolling-12-months': {
      if (now === undefined) return null;
      const full = monthPeriod(calendar, `${p.year}-${pad2(p.month)}`);
      if (now <= full.start) return null;
      return rolling12Months(calendar, Math.min(now, full.end - 1));
    }
  }
}

/**
 * The period before: the previous month, quarter or year; for to-date periods the same span one month
 * (or year) earlier, for comparisons ("March 1–15" → "February 1–15", clipped to the end of February);
 * for a rolling 12 months the 12 months before it.
 */
export function previousPeriod(calendar: CityCalendar, period: Period): Period {
  const start = calendar.local(period.start);
  const shiftBy = (d: DateTime, back: { months?: number; years?: number }) => d.minus(back);
  switch (period.kind) {
    case 'month':
      return monthOf(calendar, shiftBy(start, { months: 1 }).toMillis());
    case 'quarter': {
      const q = shiftBy(start, { months: 3 });
      return quarterPeriod(calendar, `${q.year}-Q${Math.ceil(q.month / 3)}`);
    }
    case 'year':
      return yearPeriod(calendar, start.year - 1);
    case 'month-to-date': {
      const prevStart = shiftBy(start, { months: 1 });
      const endAt = calendar.local(period.end);
      const shifted = endAt.minus({ months: 1 });
      // luxon clamps 31 March to 28 February: a span past the previous month's last day covers all of it
      const end = shifted.day !== endAt.day ? period.start : Math.min(shifted.toMillis(), period.start);
      return {
        kind: period.kind,
        label: `${prevStart.year}-${pad2(prevStart.month)}-mtd`,
        start: prevStart.toMillis(),
        end,
      };
    }
    case 'year-to-date': {
      const prevStart = shiftBy(start, { years: 1 });
      const end = Math.min(calendar.local(period.end).minus({ years: 1 }).toMillis(), period.start);
      return { kind: period.kind, label: `${prevStart.year}-ytd`, start: prevStart.toMillis(), end };
    }
    case 'rolling-12-months':
      return rolling12Months(calendar, period.start);
  }
}

/** Length of a period in local calendar days (fractional for to-date periods; 31 for March despite DST). */
export function periodDays(calendar: CityCalendar, period: Period): number {
  return calendar.local(period.end).diff(calendar.local(period.start), 'days').days;
}

/** Whether a period is a closed calendar period (month, quarter, year) rather than a running one. */
export const isCalendarPeriod = (period: Period): boolean =>
  period.kind === 'month' || period.kind === 'quarter' || period.kind === 'year';
