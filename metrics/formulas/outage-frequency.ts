import type { KpiFormula } from '../kpi-types.ts';
import { annualFactor, FormulaRun } from './formula-run.ts';
import { outageInputs } from './outage-intervals.ts';

/**
 * EC: I: ES: 1C Electricity System Outage Frequency (U4SSC: SAIFI, Σ customers interrupted / total
 * customers served, over 12 months; interruptions per customer per year).
 *
 * Inputs: outage_start / restore events of feeder meters (else customer smart meters) paired into
 * interruptions (outage-intervals.ts); customers from the registry (customersServed / customers).
 * Use a rolling 12 months or a year; shorter periods are annualised (note in the lineage).
 */
export const outageFrequency: KpiFormula = {
  code: 'EC: I: ES: 1C',
  version: '1',
  description: 'SAIFI: Σ customers interrupted ÷ customers served, annualised below 12 months',
  inputKinds: ['electricity-feeder-meter', 'electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, outageFrequency);
    const { interruptions, customersServed } = await outageInputs(run);
    const interrupted = run.registry(
      'customerInterruptions',
      interruptions.reduce((n, i) => n + i.customers, 0),
    );
    const value = customersServed > 0 ? (interrupted / customersServed) * annualFactor(run) : null;
    return run.finish(value);
  },
};
