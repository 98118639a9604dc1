import { type ClockWindow, windowInstants } from '../../core/peak-windows.ts';
import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, numAttr } from './formula-run.ts';

/**
 * EC: I: T: 5A Travel Time Index. U4SSC: peak-period travel time ÷ free-flow travel time (ratio; ≤ 1.5 good,
 * 1.5–2.5 potentially acceptable, > 2.5 less desirable). It is the peak that U4SSC asks for: an all-day mean
 * speed mixes in the free-flowing night and understates congestion.
 *
 * Peak periods: the local clock windows of TTI_PEAK_WINDOWS (default 07:00–09:00 and 16:30–18:30) on
 * weekdays, Monday to Friday, in the city's zone; each bound is a clock time of its own day, so the windows
 * hold their hours on DST days (core/peak-windows.ts).
 *
 * On a segment of length L, travel time is L ÷ speed, so its ratio to the free-flow travel time is
 * free-flow speed ÷ speed. Value = the mean over segments of freeFlowSpeedKmh (registry) ÷ the mean `speed`
 * (km/h) of the segment's traffic-counter readings inside the peak windows, each ratio at least 1 (faster
 * than free flow is free flow). Segments weigh equally. The store keeps sums, so the speed is the mean of
 * the interval speeds, not their harmonic mean: when speed varies within the peak this gives a slightly
 * lower index. A counter without free-flow speed or without a speed reading in the peaks is left out.
 * Completeness counts the readings owed inside the peak windows only.
 */
export const travelTimeIndex: KpiFormula = {
  code: 'EC: I: T: 5A',
  version: '2',
  description:
    'mean over segments of max(1, free-flow speed ÷ mean observed speed in the weekday peak windows, city zone)',
  inputKinds: ['traffic-counter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, travelTimeIndex);
    const windows = ctx.settings.ttiPeakWindows;
    const peaks = windowInstants(ctx.calendar, period.start, period.end, windows);
    const counters = run.devices('traffic-counter', (d) => (numAttr(d, 'freeFlowSpeedKmh') ?? 0) > 0);
    const ratios: number[] = [];
    for (const d of counters) {
      const b = await run.deviceAggregateWithin(d, 'speed', peaks);
      if (b !== null && b.mean > 0) ratios.push(Math.max(1, numAttr(d, 'freeFlowSpeedKmh')! / b.mean));
    }
    run.registry('segments', ratios.length);
    run.note(`peak periods: ${windows.map(clock).join(', ')} on weekdays (Mon–Fri), ${ctx.calendar.zone}`);
    if (peaks.length === 0) run.note('no weekday peak window in the period');
    return run.finish(ratios.length === 0 ? null : ratios.reduce((a, r) => a + r, 0) / ratios.length);
  },
};

const hhmm = (min: number): string =>
  `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
const clock = (w: ClockWindow): string => `${hhmm(w.startMin)}–${hhmm(w.endMin)}`;
