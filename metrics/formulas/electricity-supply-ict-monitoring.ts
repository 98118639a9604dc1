import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: ES: 2A Electricity Supply ICT Monitoring (U4SSC: share of the electricity distribution system
 * covered by SCADA or similar ICT monitoring × 100; %; the exact numerator was not captured).
 *
 * The system is measured in feeders: a feeder is monitored when an active electricity-feeder-meter is
 * registered for it. Inputs: registry count; manual input `electricityFeedersTotal` (all distribution
 * feeders).
 */
export const electricitySupplyIctMonitoring: KpiFormula = {
  code: 'EC: ICT: ES: 2A',
  version: '1',
  description: 'registered feeder meters ÷ manual electricityFeedersTotal × 100',
  inputKinds: ['electricity-feeder-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, electricitySupplyIctMonitoring);
    const monitored = run.registry('monitoredFeeders', run.devices('electricity-feeder-meter').length);
    return run.finish(percentOf(monitored, run.manual('electricityFeedersTotal', 'feeders')));
  },
};
