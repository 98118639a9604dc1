import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, numAttr } from './formula-run.ts';

/**
 * EC: I: T: 5A Travel Time Index (U4SSC: peak-period travel time / free-flow travel time; ratio; ≤ 1.5
 * good, 1.5–2.5 potentially acceptable, > 2.5 less desirable).
 *
 * On a segment, travel time ratio = free-flow speed / observed speed. Value = the mean over segments of
 * freeFlowSpeedKmh (registry) ÷ the period mean of `speed` (km/h) of each traffic-counter, each ratio at
 * least 1 (faster than free flow is free flow). Segments weigh equally, and the mean speed is over all
 * hours, not the peak only: this underestimates the peak-period index U4SSC asks for (lineage note).
 * A counter without free-flow speed or without speed readings is left out.
 */
export const travelTimeIndex: KpiFormula = {
  code: 'EC: I: T: 5A',
  version: '1',
  description: 'mean over segments of max(1, free-flow speed ÷ mean observed speed)',
  inputKinds: ['traffic-counter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, travelTimeIndex);
    const counters = run.devices('traffic-counter', (d) => (numAttr(d, 'freeFlowSpeedKmh') ?? 0) > 0);
    const ratios: number[] = [];
    for (const d of counters) {
      const b = await run.deviceAggregate(d, 'speed');
      if (b !== null && b.mean > 0) ratios.push(Math.max(1, numAttr(d, 'freeFlowSpeedKmh')! / b.mean));
    }
    run.registry('segments', ratios.length);
    run.note('all-day mean speed, not peak hours only: underestimates the peak-period index');
    return run.finish(ratios.length === 0 ? null : ratios.reduce((a, r) => a + r, 0) / ratios.length);
  },
};
