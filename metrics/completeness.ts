import type { Period } from './kpi-types.ts';

/**
 * Completeness: readings received against readings expected from each device's reporting interval.
 * A KPI value whose completeness is below the capture threshold (EU air-quality
 * practice, Directive 2008/50/EC Annex I: 90 % data capture; configurable) is provisional.
 */

export interface SeriesCount {
  readings: number;
  expected: number;
}

/**
 * Readings a device should have sent in a period: the overlap of [period.start, period.end) with
 * [createdAt, ∞), clipped to `now` for a running period, divided by the kind's interval (whole readings).
 */
export function expectedReadings(
  device: { createdAt: number },
  intervalSec: number,
  period: Pick<Period, 'start' | 'end'>,
  now?: number,
): number {
  const from = Math.max(period.start, device.createdAt);
  const to = now === undefined ? period.end : Math.min(period.end, now);
  if (to <= from || intervalSec <= 0) return 0;
  return Math.floor((to - from) / (intervalSec * 1000));
}

/** One series: received ÷ expected, capped at 1. Nothing expected counts as complete. */
export function seriesCompleteness(s: SeriesCount): number {
  if (s.expected <= 0) return 1;
  return Math.min(1, s.readings / s.expected);
}

/**
 * A KPI over several series: Σ received ÷ Σ expected, each series' received capped at its own expected
 * first, so that a device sending twice as often cannot hide another that is silent. No series, or nothing
 * expected, counts as complete (registry- and manual-only values).
 */
export function kpiCompleteness(series: readonly SeriesCount[]): number {
  let received = 0;
  let expected = 0;
  for (const s of series) {
    received += Math.min(s.readings, Math.max(0, s.expected));
    expected += Math.max(0, s.expected);
  }
  return expected <= 0 ? 1 : Math.min(1, received / expected);
}

/** Below the capture threshold: the value is provisional. */
export const isBelowCapture = (completeness: number, captureThreshold: number): boolean =>
  completeness < captureThreshold;
