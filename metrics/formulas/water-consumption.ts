import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, periodLocalDays } from './formula-run.ts';

/**
 * EN: EN: WS: 2C Water Consumption (U4SSC: total water consumption / population; litres per capita per day,
 * a unit the source marks as assumed).
 *
 * Inputs: `volume` (m³ per interval) of water-smart-meter devices, × 1000 L/m³; population from the city
 * profile; ÷ local calendar days in the period. The total is the city's, so when `waterMetersTotal` (all
 * customer meters) exceeds the smart meters that reported, their volume is scaled up by waterMetersTotal ÷
 * reporting meters, as a sample of the customers: the value is then an estimate (lineage `estimates`, class
 * at best estimation-with-assumptions). Dividing a sample's use by the whole population would report a
 * fraction of the real figure. Meters all installed after the period began: the days from the first
 * installation (FormulaRun.measuredFrom).
 */
export const waterConsumption: KpiFormula = {
  code: 'EN: EN: WS: 2C',
  version: '2',
  description:
    'Σ customer smart-meter m³ × waterMetersTotal ÷ reporting smart meters × 1000 ÷ population ÷ days in the period',
  inputKinds: ['water-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, waterConsumption);
    const meters = run.devices('water-smart-meter');
    run.registry('smartWaterMeters', meters.length);
    const metered = await run.sumOf(meters, 'volume');
    const factor = run.sampleFactor('consumption', metered.reporting, 'waterMetersTotal', 'customer meters');
    const m3 = metered.total === null || factor === null ? null : metered.total * factor;
    const population = run.population();
    const days = periodLocalDays(run, run.measuredFrom(meters));
    const value = m3 === null || population === null || !(days > 0) ? null : (m3 * 1000) / population / days;
    return run.finish(value);
  },
};
