import type { KpiFormula } from '../kpi-types.ts';
import { annualFactor, FormulaRun } from './formula-run.ts';
import { markShorterThanTwelveMonths, outageInputs } from './outage-intervals.ts';

/**
 * EC: I: ES: 1C Electricity System Outage Frequency (U4SSC: SAIFI, Σ customers interrupted / total
 * customers served, over 12 months; interruptions per customer per year).
 *
 * Inputs: outage_start / restore events of feeder meters (else customer smart meters) paired into
 * interruptions, each counted once, in the period it began (outage-intervals.ts); customers from the
 * registry (customersServed / customers).
 *
 * The rolling 12 months and the calendar year are the U4SSC figure, taken as they are. A shorter period
 * (a month, year to date) is annualised, × 365.2425 ÷ its local days (from the first installation when
 * every meter was installed inside the period, annualFactor), and marked an estimate in the lineage
 * and the data-quality class: one month's interruptions × 12 says little about a year, as outages cluster
 * in storm seasons.
 */
export const outageFrequency: KpiFormula = {
  code: 'EC: I: ES: 1C',
  version: '2',
  description:
    'SAIFI: Σ customers interrupted (each interruption in the period it began) ÷ customers served; below 12 months annualised, an estimate',
  inputKinds: ['electricity-feeder-meter', 'electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, outageFrequency);
    const { interruptions, customersServed, devices } = await outageInputs(run);
    const interrupted = run.registry(
      'customerInterruptions',
      interruptions.reduce((n, i) => n + i.customers, 0),
    );
    if (customersServed === 0) return run.finish(null);
    // Feeders all installed inside the period could not report an interruption before the first of
    // them: the rate is over the stretch they were there, as for the energy per capita.
    const from = run.measuredFrom(devices);
    markShorterThanTwelveMonths(run, 'SAIFI annualised', from);
    const value = (interrupted / customersServed) * annualFactor(run, from);
    return run.finish(value);
  },
};
