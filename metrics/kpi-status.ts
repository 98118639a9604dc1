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

/**
 * Why a value has its status, one reason per branch of the rule, in the rule's order:
 * `nothing-expected`, `unowed-readings`, `not-reported`, `running-period` (month or year to date, rolling
 * 12 months), `grace-period` (a calendar period not closed yet), `input-provisional`, `below-capture`,
 * `complete` (the one reason that is final).
 */
export const STATUS_REASONS = [
  'nothing-expected',
  'unowed-readings',
  'not-reported',
  'running-period',
  'grace-period',
  'input-provisional',
  'below-capture',
  'complete',
] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export interface StatusVerdict {
  status: KpiStatus;
  reason: StatusReason;
}

export interface StatusInput {
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
}

/** The rule with its reason: kpiStatus is this verdict's status, so the two cannot disagree. */
export function kpiVerdict(value: StatusInput, rule: StatusRule, now: number, frozen = false): StatusVerdict {
  if (value.completeness === null)
    return value.hasValue === true
      ? { status: 'provisional', reason: 'unowed-readings' }
      : { status: 'no-data-expected', reason: 'nothing-expected' };
  // No value ("NR") is never final: readings or an input (the population, say) are still missing.
  if (value.hasValue === false) return { status: 'provisional', reason: 'not-reported' };
  if (!isClosed(rule, value.period, now, frozen))
    return {
      status: 'provisional',
      reason: isCalendar(value.period) ? 'grace-period' : 'running-period',
    };
  if (value.inputsProvisional === true) return { status: 'provisional', reason: 'input-provisional' };
  return value.completeness >= rule.captureThreshold
    ? { status: 'final', reason: 'complete' }
    : { status: 'provisional', reason: 'below-capture' };
}

export function kpiStatus(value: StatusInput, rule: StatusRule, now: number, frozen = false): KpiStatus {
  return kpiVerdict(value, rule, now, frozen).status;
}

const isCalendar = (period: Pick<Period, 'kind'>): boolean =>
  period.kind === 'month' || period.kind === 'quarter' || period.kind === 'year';

/** A share (0..1) as the status texts write it: `87.5 %`. */
export const percentText = (x: number): string => `${Math.round(x * 1000) / 10} %`;

/** The reason in words, with the figures that decide it (for the KPI page and the lineage). */
export function describeVerdict(
  verdict: StatusVerdict,
  value: { completeness: number | null; period: Pick<Period, 'kind' | 'end'> },
  rule: StatusRule,
): string {
  const threshold = percentText(rule.captureThreshold);
  const got = value.completeness === null ? null : percentText(value.completeness);
  switch (verdict.reason) {
    case 'nothing-expected':
      return 'no reading was owed for this period: no device was installed for it, or none that measures what the value rests on';
    case 'unowed-readings':
      return 'readings came from a device installed for less than one reporting interval: nothing was owed, so the value cannot be final';
    case 'not-reported':
      return 'no value (NR): readings or an input (a city-profile figure, a manual input) are missing';
    case 'running-period':
      return `a running period (to date) is never final: readings still arrive; completeness so far ${got}`;
    case 'grace-period':
      return `the period closes on ${rule.calendar.local(closesAt(rule.calendar, value.period, rule.graceDays)).toISODate()} (its end plus ${rule.graceDays} days for late data); completeness ${got}, threshold ${threshold}`;
    case 'input-provisional':
      return 'an input is itself provisional: a manual figure carried forward from an earlier period';
    case 'below-capture':
      return `completeness ${got} is below the capture threshold ${threshold}`;
    case 'complete':
      return `closed, completeness ${got} meets the capture threshold ${threshold}`;
  }
}

/** How the exports and the live page write a status. */
export const STATUS_LABELS: Readonly<Record<KpiStatus, string>> = Object.freeze({
  final: 'final',
  provisional: 'provisional',
  'no-data-expected': 'no data expected',
});
