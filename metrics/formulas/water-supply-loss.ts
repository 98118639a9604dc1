import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EC: I: WS: 3C Water Supply Loss (U4SSC, non-revenue-water style: (water put into distribution − water
 * delivered) / water put into distribution × 100; %).
 *
 * Inputs: `volume` (m³) of water-inflow-meter devices (system input: the bulk meters of the supply zones)
 * and of water-smart-meter devices (delivered). Customers without a smart meter would make the delivered
 * volume too low and the loss too high, so when `waterMetersTotal` (all customer meters) exceeds the smart
 * meters that reported, the delivered volume is theirs scaled up by waterMetersTotal ÷ reporting meters:
 * the value is then an estimate (lineage `estimates`, class at best estimation-with-assumptions). Delivered
 * above input (meter error, timing, an unrepresentative sample) is clamped to 0 % with a note.
 */
export const waterSupplyLoss: KpiFormula = {
  code: 'EC: I: WS: 3C',
  version: '2',
  description:
    '(Σ inflow m³ − Σ customer smart-meter m³ × waterMetersTotal ÷ reporting smart meters) ÷ Σ inflow m³ × 100',
  inputKinds: ['water-inflow-meter', 'water-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, waterSupplyLoss);
    const inflowMeters = run.devices('water-inflow-meter');
    const customerMeters = run.devices('water-smart-meter');
    run.registry('inflowMeters', inflowMeters.length);
    run.registry('customerSmartMeters', customerMeters.length);
    const input = (await run.sumOf(inflowMeters, 'volume')).total;
    const metered = await run.sumOf(customerMeters, 'volume');
    const factor = run.sampleFactor(
      'delivered volume',
      metered.reporting,
      'waterMetersTotal',
      'customer meters',
    );
    if (input === null || !(input > 0)) return run.finish(null);
    const delivered = (metered.total ?? 0) * (factor ?? 1);
    const loss = ((input - delivered) / input) * 100;
    if (loss < 0) run.note(`delivered exceeds system input by ${(-loss).toFixed(1)} %: clamped to 0 %`);
    return run.finish(Math.max(0, loss));
  },
};
