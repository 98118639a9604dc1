import type { Bucket } from '../../core/ports/series-store.ts';
import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, numAttr } from './formula-run.ts';

/**
 * EN: EN: EQ: 2A Noise Exposure (U4SSC: inhabitants exposed to excessive noise / all inhabitants × 100;
 * %; the threshold is not confirmed by the source, EU practice is Lden > 55 dB).
 *
 * A monitor's area is exposed when its period level exceeds settings.noiseThresholdDb (default 55 dB(A)).
 * Value = residents of exposed areas ÷ residents of all monitored areas × 100, with residentsExposed
 * (registry attribute) as the weight of each monitor, or equal weights when any monitor lacks it.
 *
 * Decibels do not average arithmetically: the period level is the energetic mean 10·log10(mean(10^(L/10))).
 * The store keeps arithmetic sums, so it is computed over hour buckets, weighting each hour's arithmetic
 * mean by its reading count: exact for one reading per hour, and within an hour LAeq varies far less than
 * across a day (lineage note). Where hour buckets are gone (retention), the arithmetic period mean is used,
 * which underestimates the level. LAeq over the whole period stands in for Lden (no evening/night penalty).
 */
export function energeticMean(buckets: readonly Bucket[]): number | null {
  let n = 0;
  let energy = 0;
  for (const b of buckets) {
    if (b.count <= 0) continue;
    n += b.count;
    energy += b.count * 10 ** (b.mean / 10);
  }
  return n === 0 ? null : 10 * Math.log10(energy / n);
}

export const noiseExposure: KpiFormula = {
  code: 'EN: EN: EQ: 2A',
  version: '1',
  description:
    'residents at monitors whose energetic-mean LAeq exceeds the threshold ÷ residents monitored × 100',
  inputKinds: ['noise-monitor'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, noiseExposure);
    const threshold = ctx.settings.noiseThresholdDb;
    const monitors = run.devices('noise-monitor');
    const levels: Array<{ level: number; residents: number | undefined }> = [];
    for (const m of monitors) {
      const total = await run.deviceAggregate(m, 'laeq');
      if (total === null) continue;
      let level = energeticMean(await run.hourBuckets(m, 'laeq'));
      if (level === null) {
        level = total.mean;
        run.note('hour buckets missing for some monitors: arithmetic mean used (underestimates the level)');
      }
      levels.push({ level, residents: numAttr(m, 'residentsExposed') });
    }
    const weighted = levels.length > 0 && levels.every((l) => l.residents !== undefined);
    if (!weighted && levels.length > 0)
      run.note('residentsExposed missing on some monitors: monitors weigh equally');
    const weight = (l: (typeof levels)[number]) => (weighted ? l.residents! : 1);
    const all = levels.reduce((n, l) => n + weight(l), 0);
    const exposed = levels.filter((l) => l.level > threshold).reduce((n, l) => n + weight(l), 0);
    run.registry('monitors', levels.length);
    run.registry('monitorsAboveThreshold', levels.filter((l) => l.level > threshold).length);
    run.note(`threshold ${threshold} dB(A), energetic mean over hour buckets`);
    return run.finish(all > 0 ? (exposed / all) * 100 : null);
  },
};
