import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EC: I: WS: 3C Water Supply Loss (U4SSC, non-revenue-water style: (water put into distribution − water
 * delivered) / water put into distribution × 100; %).
 *
 * Inputs: `volume` (m³) of water-inflow-meter devices (system input) and of water-smart-meter devices
 * (delivered). Customers without a smart meter make delivered volume too low and the loss too high
 * (lineage note when `waterMetersTotal` says so). Delivered above input (meter error, timing) is clamped to
 * 0 % with a note.
 */
export const waterSupplyLoss: KpiFormula = {
  code: 'EC: I: WS: 3C',
  version: '1',
  description: '(Σ inflow m³ − Σ customer smart-meter m³) ÷ Σ inflow m³ × 100',
  inputKinds: ['water-inflow-meter', 'water-smart-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, waterSupplyLoss);
    const inflowMeters = run.devices('water-inflow-meter');
    const customerMeters = run.devices('water-smart-meter');
    run.registry('inflowMeters', inflowMeters.length);
    run.registry('customerSmartMeters', customerMeters.length);
    const total = ctx.manualInput('waterMetersTotal', period);
    if (total !== null && total.value > customerMeters.length)
      run.note(`only ${customerMeters.length} of ${total.value} customers metered: the loss is overstated`);
    const input = (await run.sumOf(inflowMeters, 'volume')).total;
    const delivered = (await run.sumOf(customerMeters, 'volume')).total ?? 0;
    if (input === null || !(input > 0)) return run.finish(null);
    const loss = ((input - delivered) / input) * 100;
    if (loss < 0) run.note(`delivered exceeds system input by ${(-loss).toFixed(1)} %: clamped to 0 %`);
    return run.finish(Math.max(0, loss));
  },
};
