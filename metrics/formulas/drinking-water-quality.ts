import type { Bucket } from '../../core/ports/series-store.ts';
import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EN: EN: WS: 1C Drinking Water Quality. U4SSC defines it as households covered by an audited Water Safety
 * Plan / all households × 100 (%): a plan-coverage figure an analyst enters. citymetrics computes the sensor
 * proxy the issue asks for, the share of compliant samples, and the catalogue says so; an assessment should
 * use the WSP coverage as a manual override.
 *
 * A sample is one sonde-hour (hour buckets keep min and max, and outlive minute data): compliant when free
 * chlorine stays in [chlorineMin, chlorineMax] mg/L, turbidity at most turbidityMax NTU and pH in
 * [phMin, phMax] for the whole hour (settings.water; defaults 0.2–5 mg/L, 4 NTU, 6.5–9.5, WHO GDWQ).
 * An hour without all three parameters cannot be judged and is left out (counted in the lineage).
 */
export const drinkingWaterQuality: KpiFormula = {
  code: 'EN: EN: WS: 1C',
  version: '1',
  description: 'sonde-hours with chlorine, turbidity and pH all within limits ÷ sonde-hours judged × 100',
  inputKinds: ['water-quality-sonde'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, drinkingWaterQuality);
    const w = ctx.settings.water;
    const sondes = run.devices('water-quality-sonde');
    run.registry('sondes', sondes.length);
    let judged = 0;
    let compliant = 0;
    let partial = 0;
    for (const s of sondes) {
      const byHour = new Map<number, Partial<Record<'chlorine' | 'turbidity' | 'ph', Bucket>>>();
      for (const metric of ['chlorine', 'turbidity', 'ph'] as const) {
        await run.deviceAggregate(s, metric);
        for (const b of await run.hourBuckets(s, metric)) {
          const entry = byHour.get(b.t) ?? {};
          entry[metric] = b;
          byHour.set(b.t, entry);
        }
      }
      for (const h of byHour.values()) {
        if (h.chlorine === undefined || h.turbidity === undefined || h.ph === undefined) {
          partial++;
          continue;
        }
        judged++;
        const ok =
          h.chlorine.min >= w.chlorineMin &&
          h.chlorine.max <= w.chlorineMax &&
          h.turbidity.max <= w.turbidityMax &&
          h.ph.min >= w.phMin &&
          h.ph.max <= w.phMax;
        if (ok) compliant++;
      }
    }
    run.registry('samplesJudged', judged);
    run.registry('samplesCompliant', compliant);
    if (partial > 0) run.registry('samplesIncomplete', partial);
    run.note('sensor proxy: U4SSC asks for Water Safety Plan coverage (enter it as a manual override)');
    return run.finish(judged === 0 ? null : (compliant / judged) * 100);
  },
};
