import type { Period, SeriesUse } from './kpi-types.ts';

/**
 * Completeness: readings received against readings expected from each device's reporting interval.
 * A KPI value whose completeness is below the capture threshold (EU air-quality
 * practice, Directive 2008/50/EC Annex I: 90 % data capture; configurable) is provisional. When no reading
 * was expected at all, there is no completeness to speak of (null): see `valueCompleteness` and kpi-status.ts.
 */

export interface SeriesCount {
  readings: number;
  expected: number;
}

/**
 * Readings a device should have sent in a period: the overlap of [period.start, period.end) with its
 * installed interval [installedAt, removedAt), clipped to `now` for a running period, divided by the
 * kind's interval (whole readings). A device removed mid-period owes readings only until its removal.
 */
export function expectedReadings(
  device: { installedAt: number; removedAt: number | null },
  intervalSec: number,
  period: Pick<Period, 'start' | 'end'>,
  now?: number,
): number {
  const from = Math.max(period.start, device.installedAt);
  let to = now === undefined ? period.end : Math.min(period.end, now);
  if (device.removedAt !== null) to = Math.min(to, device.removedAt);
  if (to <= from || intervalSec <= 0) return 0;
  return Math.floor((to - from) / (intervalSec * 1000));
}

/** One series: received ÷ expected, capped at 1; null when nothing was expected. */
export function seriesCompleteness(s: SeriesCount): number | null {
  if (s.expected <= 0) return null;
  return Math.min(1, s.readings / s.expected);
}

/**
 * A KPI over several series: Σ received ÷ Σ expected, each series' received capped at its own expected
 * first, so that a device sending twice as often cannot hide another that is silent. No series, or nothing
 * expected, gives 1 here (what the formulas record); the value the engine reports goes through
 * `valueCompleteness`, which tells a value resting on no readings from one whose readings were not owed.
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

/**
 * The completeness a KPI value reports, from the device series its formula counted (lineage series of
 * scope `device`):
 * - series counted but no reading owed by any (devices installed after the period or removed before
 *   it, a period before any device): null, nothing was expected;
 * - no series at all: null for a KPI obtained from sensors (no device to read) or with no value (nothing
 *   to count from), else the formula's figure (a value resting on registry counts and manual inputs only,
 *   where readings are not the measure);
 * - otherwise the formula's completeness.
 */
export function valueCompleteness(
  series: readonly Pick<SeriesUse, 'scope' | 'expected'>[],
  formulaCompleteness: number | null,
  obtained: 'sensor' | 'registry' | 'manual' | 'mixed',
  hasValue = true,
): number | null {
  if (formulaCompleteness === null) return null;
  const counted = series.filter((s) => s.scope === 'device');
  // No device series and no value: nothing to count from (a registry KPI of kinds no device has).
  if (counted.length === 0 && !hasValue) return null;
  if (counted.length === 0) return obtained === 'sensor' ? null : formulaCompleteness;
  const expected = counted.reduce((n, s) => n + Math.max(0, s.expected), 0);
  return expected <= 0 ? null : formulaCompleteness;
}

/** Below the capture threshold: the value is provisional. */
export const isBelowCapture = (completeness: number, captureThreshold: number): boolean =>
  completeness < captureThreshold;
