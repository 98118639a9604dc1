import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: WS: 1C Smart Water Meters (U4SSC, by analogy with electricity: smart water meters installed / all
 * water meters installed × 100; %).
 *
 * Inputs: registry count of active water-smart-meter devices installed before the period end; manual input
 * `waterMetersTotal` (all water meters in the utility's register, smart or not). Installed, as U4SSC counts
 * them: whether each one reported is the business of completeness, not of coverage.
 */
export const smartWaterMeters: KpiFormula = {
  code: 'EC: ICT: WS: 1C',
  version: '1',
  description: 'registered smart water meters ÷ manual waterMetersTotal × 100',
  inputKinds: ['water-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, smartWaterMeters);
    const meters = run.devices('water-smart-meter');
    const smart = run.registry('smartWaterMeters', meters.length);
    const total = run.manual('waterMetersTotal', 'meters');
    return run.finish(percentOf(smart, total));
  },
};
