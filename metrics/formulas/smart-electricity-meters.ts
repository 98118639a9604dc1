import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: ES: 1C Smart Electricity Meters (U4SSC: smart electricity meters installed / all electricity
 * meters installed × 100; %).
 *
 * Inputs: registry count of active electricity-smart-meter devices installed before the period end;
 * manual input `electricityMetersTotal` (all meters in the distributor's register, smart or not).
 */
export const smartElectricityMeters: KpiFormula = {
  code: 'EC: ICT: ES: 1C',
  version: '1',
  description: 'registered smart electricity meters ÷ manual electricityMetersTotal × 100',
  inputKinds: ['electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, smartElectricityMeters);
    const smart = run.registry('smartElectricityMeters', run.devices('electricity-smart-meter').length);
    return run.finish(percentOf(smart, run.manual('electricityMetersTotal', 'meters')));
  },
};
