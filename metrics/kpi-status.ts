import type { CityCalendar } from '../core/city-calendar.ts';
import type { Period } from './kpi-types.ts';

/**
 * Whether a KPI value is final: the one rule every surface (API, live page, roll-ups, exports) reads, so
 * that a tile, a roll-up and a spreadsheet of the same month never disagree.
 *
 * - `no-data-expected`: no reading was owed for the period (no device's installed interval overlaps it)
 *   and none came. Nothing expected is not complete: never final. A value from readings nobody owed (a
 *   device installed for less than one reporting interval of the period) is provisional.
 * - `final`: the period has closed (its grace period for late data has passed, or its roll-up has been
 *   frozen on demand) and its completeness meets the capture threshold, with no input that is itself
 *   provisional (a manual figure carried forward from an earlier period).
 * - `provisional`: everything else. A running period (month to date, year to date, rolling 12 months) is
 *   always provisional: readings still arrive for it.
 */
export const KPI_STATUSES = ['final', 'provisional', 'no-data-expected'] as const;
export type KpiStatus = (typeof KPI_STATUSES)[number];

export interface StatusRule {
  calendar: CityCalendar;
  /** days after a month ends before it closes (KPI_CLOSE_GRACE_DAYS) */
  graceDays: number;
  /** completeness below this is provisional (KPI_CAPTURE_THRESHOLD) */
  captureThreshold: number;
}

/** When a calendar period closes by itself: its end plus the grace days, in local calendar days (DST-safe). */
export function closesAt(calendar: CityCalendar, period: Pick<Period, 'end'>, graceDays: number): number {
  return calendar.local(period.end).plus({ days: graceDays }).toMillis();
}

/** Closed: a calendar period whose roll-up is frozen, or whose grace period has passed at `now`. */
export function isClosed(
  rule: Pick<StatusRule, 'calendar' | 'graceDays'>,
  period: Pick<Period, 'kind' | 'end'>,
  now: number,
  frozen = false,
): boolean {
  if (period.kind !== 'month' && period.kind !== 'quarter' && period.kind !== 'year') return false;
  return frozen || now >= closesAt(rule.calendar, period, rule.graceDays);
}

export function kpiStatus(
  value: {
    period: Pick<Period, 'kind' | 'end'>;
    /** null: no reading was expected */
    completeness: number | null;
    /**
     * A value came out all the same: readings nobody was owed (inside an installed interval shorter than
     * one reporting interval; ingest refuses readings outside it). That is not "no data": it is
     * provisional, never final.
     */
    hasValue?: boolean;
    /** an input is itself provisional (a manual figure carried forward) */
    inputsProvisional?: boolean;
  },
  rule: StatusRule,
  now: number,
  frozen = false,
): KpiStatus {
  if (value.completeness === null) return value.hasValue === true ? 'provisional' : 'no-data-expected';
  // No value ("NR") is never final: readings or an input (the population, say) are still missing.
  if (value.hasValue === false) return 'provisional';
  if (!isClosed(rule, value.period, now, frozen)) return 'provisional';
  if (value.inputsProvisional === true) return 'provisional';
  return value.completeness >= rule.captureThreshold ? 'final' : 'provisional';
}

/** How the exports and the live page write a status. */
export const STATUS_LABELS: Readonly<Record<KpiStatus, string>> = Object.freeze({
  final: 'final',
  provisional: 'provisional',
  'no-data-expected': 'no data expected',
});
