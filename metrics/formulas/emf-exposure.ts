import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EN: EN: EQ: 1C EMF Exposure (U4SSC: mobile antenna sites complying with WHO/ICNIRP-based EMF guidelines /
 * all sites × 100; %, higher is better).
 *
 * A monitored location complies when the highest interval mean of its emf-probe `efield` (V/m) in the period
 * stays at or below settings.emfLimitVm (default 28 V/m, ICNIRP 1998 general-public reference level at
 * 10–400 MHz; cities with stricter national limits set theirs). Value = compliant probes ÷ probes with
 * readings × 100. Probes stand for the sites they watch: sites without a probe are not in this figure.
 */
export const emfExposure: KpiFormula = {
  code: 'EN: EN: EQ: 1C',
  version: '1',
  description: 'probes whose maximum interval E-field ≤ the limit ÷ probes with readings × 100',
  inputKinds: ['emf-probe'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, emfExposure);
    const limit = ctx.settings.emfLimitVm;
    let measured = 0;
    let compliant = 0;
    for (const p of run.devices('emf-probe')) {
      const b = await run.deviceAggregate(p, 'efield');
      if (b === null) continue;
      measured++;
      if (b.max <= limit) compliant++;
    }
    run.registry('probes', measured);
    run.registry('compliantProbes', compliant);
    run.note(`limit ${limit} V/m on the maximum interval mean`);
    return run.finish(measured > 0 ? (compliant / measured) * 100 : null);
  },
};
