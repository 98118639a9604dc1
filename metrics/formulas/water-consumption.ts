import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, periodLocalDays } from './formula-run.ts';

/**
 * EN: EN: WS: 2C Water Consumption (U4SSC: total water consumption / population; litres per capita per day,
 * a unit the source marks as assumed).
 *
 * Inputs: `volume` (m³ per interval) of water-smart-meter devices, × 1000 L/m³; population from the city
 * profile; ÷ local calendar days in the period. Only customers with a smart meter are measured: when the
 * analyst entered `waterMetersTotal` and smart meters are fewer, the lineage says how many are missing
 * (the value is not scaled up: an unmeasured customer's use is not guessed).
 */
export const waterConsumption: KpiFormula = {
  code: 'EN: EN: WS: 2C',
  version: '1',
  description: 'Σ customer smart-meter m³ × 1000 ÷ population ÷ days in the period',
  inputKinds: ['water-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, waterConsumption);
    const meters = run.devices('water-smart-meter');
    run.registry('smartWaterMeters', meters.length);
    const total = ctx.manualInput('waterMetersTotal', period);
    if (total !== null && total.value > meters.length)
      run.note(
        `smart meters cover ${meters.length} of ${total.value} water meters: the others are not measured`,
      );
    const m3 = (await run.sumOf(meters, 'volume')).total;
    const population = run.population();
    const days = periodLocalDays(run);
    const value = m3 === null || population === null || !(days > 0) ? null : (m3 * 1000) / population / days;
    return run.finish(value);
  },
};
