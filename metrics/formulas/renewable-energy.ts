import type { KpiFormula } from '../kpi-types.ts';
import { electricityConsumed } from './electricity-total.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EN: E: E: 1C Renewable Energy Consumption (U4SSC: energy consumed from renewable sources / total energy
 * consumed × 100; %).
 *
 * Inputs: `energy` of renewable-generation-meter devices (generation in or for the city) over the
 * electricity consumed (electricity-total.ts). Only electricity is metered: heat and fuels are outside this
 * figure (lineage note). Generation above consumption (net export) is capped at 100 %.
 */
export const renewableEnergy: KpiFormula = {
  code: 'EN: E: E: 1C',
  version: '1',
  description:
    'Σ renewable generation kWh ÷ electricity consumed kWh × 100 (electricity only, capped at 100 %)',
  inputKinds: ['renewable-generation-meter', 'electricity-feeder-meter', 'electricity-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, renewableEnergy);
    const plants = run.devices('renewable-generation-meter');
    run.registry('renewablePlants', plants.length);
    // no plant registered says nothing about the renewable share of imported power: not reported
    if (plants.length === 0) run.note('no renewable generation meter registered');
    const generated = (await run.sumOf(plants, 'energy')).total;
    const consumed = await electricityConsumed(run);
    run.note('electricity only: renewable heat and fuels are not metered');
    const raw = percentOf(generated, consumed, false);
    if (raw !== null && raw > 100)
      run.note(`renewable generation exceeds consumption (${raw.toFixed(1)} %): capped at 100 %`);
    return run.finish(raw === null ? null : Math.min(100, raw));
  },
};
