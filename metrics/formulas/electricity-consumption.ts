import type { KpiFormula } from '../kpi-types.ts';
import { electricityConsumed } from './electricity-total.ts';
import { annualFactor, FormulaRun } from './formula-run.ts';

/**
 * EN: E: E: 2C Electricity Consumption (U4SSC: total electricity consumption (kWh/yr) / population;
 * kWh per capita per year).
 *
 * Inputs: `energy` (kWh per interval) of electricity-feeder-meter devices, or of electricity-smart-meter
 * devices when no feeder is registered (see electricity-total.ts); population from the city profile.
 * Periods shorter than a year are annualised (annualFactor), from the first installation when every meter
 * was installed after the period began (FormulaRun.measuredFrom).
 */
export const electricityConsumption: KpiFormula = {
  code: 'EN: E: E: 2C',
  version: '2',
  description: 'Σ feeder (else customer smart meter) kWh ÷ population, annualised',
  inputKinds: ['electricity-feeder-meter', 'electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, electricityConsumption);
    const kwh = await electricityConsumed(run);
    const population = run.population();
    const feeders = run.devices('electricity-feeder-meter');
    const meters = feeders.length > 0 ? feeders : run.devices('electricity-smart-meter');
    const factor = annualFactor(run, run.measuredFrom(meters));
    const value = kwh === null || population === null ? null : (kwh * factor) / population;
    return run.finish(value);
  },
};
