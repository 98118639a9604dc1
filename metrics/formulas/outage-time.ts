import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';
import { markShorterThanTwelveMonths, outageInputs } from './outage-intervals.ts';

const MINUTE_MS = 60_000;

/**
 * EC: I: ES: 2C Electricity System Outage Time (U4SSC uses CAIDI, not SAIDI: Σ customer interruption
 * durations in minutes / Σ customer interruptions, over 12 months; minutes).
 *
 * Inputs: the interruptions of outage-intervals.ts, each weighted by its customers, each counted once in
 * the period it began with its whole duration (to its restore, even after the period end). No interruption
 * in the period gives 0 minutes (noted): there was no time without supply.
 *
 * The rolling 12 months and the calendar year are the U4SSC figure. CAIDI is a mean duration, so a shorter
 * period needs no scaling, but it rests on that period's few interruptions: it is marked an estimate in the
 * lineage and the data-quality class.
 */
export const outageTime: KpiFormula = {
  code: 'EC: I: ES: 2C',
  version: '2',
  description:
    'CAIDI: Σ customer-minutes of interruption ÷ Σ customers interrupted, each interruption whole in the period it began; below 12 months an estimate',
  inputKinds: ['electricity-feeder-meter', 'electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, outageTime);
    const { interruptions, customersServed } = await outageInputs(run);
    let customerMinutes = 0;
    let interrupted = 0;
    for (const i of interruptions) {
      customerMinutes += (i.customers * (i.end - i.start)) / MINUTE_MS;
      interrupted += i.customers;
    }
    run.registry('customerInterruptions', interrupted);
    run.registry('customerMinutes', customerMinutes);
    if (customersServed === 0) return run.finish(null);
    markShorterThanTwelveMonths(run, 'CAIDI');
    if (interrupted === 0) run.note('no interruption in the period');
    return run.finish(interrupted === 0 ? 0 : customerMinutes / interrupted);
  },
};
