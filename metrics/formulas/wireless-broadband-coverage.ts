import type { DataPointValue, KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EC: ICT: ICT: 4C Wireless Broadband Coverage. U4SSC: the share of the city served by each wireless
 * broadband technology (area or population covered ÷ total × 100), reported per technology: data points
 * 3G and 4G, %. The catalogue leaves open whether the share is of area or of population; this formula
 * measures area, the one a probe can sample, and says so: the city is sampled at its probe locations, and
 * the share of probe locations where a layer's signal is usable stands for the share of the city's area
 * it serves. That holds as far as the probes are spread over the city the way its area is (a city with all
 * its probes downtown reads high); a population share would need the residents each probe represents,
 * which the registry does not hold. Hence the value is an estimation with assumptions, noted.
 *
 * Inputs: broadband-probe devices. A probe location counts when it sent a `samples` reading in the period
 * (it was live); a layer covers it when the period mean of the layer's signal (4G: `rsrp`, LTE reference
 * signal received power; 3G: `rscp`, UMTS received signal code power; dBm, averaged in dB as drive tests
 * average) is at least settings.broadband.rsrpMinDbm / rscpMinDbm (KPI_BROADBAND_LTE_MIN_DBM, default
 * −110 dBm; KPI_BROADBAND_UMTS_MIN_DBM, default −100 dBm: the usual outdoor service edges). A live probe
 * with no reading of a layer found no signal of it: not covered. Throughput is not judged: U4SSC asks for
 * coverage, not speed.
 *
 * `value` carries the 4G data point (the layer that carries mobile broadband now); completeness is that of
 * the `samples` series, since a probe owes measurements whether or not a layer is on air.
 */
const LAYERS = [
  { name: 'Wireless Broadband Coverage: 3G', metric: 'rscp', threshold: 'rscpMinDbm' },
  { name: 'Wireless Broadband Coverage: 4G', metric: 'rsrp', threshold: 'rsrpMinDbm' },
] as const;
const HEADLINE = 'Wireless Broadband Coverage: 4G';

export const wirelessBroadbandCoverage: KpiFormula = {
  code: 'EC: ICT: ICT: 4C',
  version: '1',
  description:
    'per layer (3G RSCP, 4G RSRP), live probe locations whose period-mean signal reaches the threshold ÷ live probe locations × 100; value = 4G',
  inputKinds: ['broadband-probe'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, wirelessBroadbandCoverage);
    const probes = run.devices('broadband-probe');
    run.registry('probes', probes.length);
    const live = [];
    for (const p of probes) {
      const b = await run.deviceAggregate(p, 'samples');
      if (b !== null && b.count > 0) live.push(p);
    }
    run.registry('liveProbes', live.length);
    const dataPoints: DataPointValue[] = [];
    for (const layer of LAYERS) {
      const min = ctx.settings.broadband[layer.threshold];
      let covered = 0;
      for (const p of live) {
        const b = await run.deviceAggregate(p, layer.metric);
        if (b !== null && b.count > 0 && b.sum / b.count >= min) covered++;
      }
      run.registry(`probes covered by ${layer.metric}`, covered);
      run.note(`${layer.name}: a location is covered at a period-mean ${layer.metric} ≥ ${min} dBm`);
      dataPoints.push({
        name: layer.name,
        value: live.length === 0 ? null : (covered / live.length) * 100,
        unit: run.unit,
      });
    }
    if (live.length > 0)
      run.assume(
        `area coverage estimated from ${live.length} probe location(s): as representative as their spread over the city`,
      );
    return run.finish(dataPoints.find((d) => d.name === HEADLINE)!.value, dataPoints, {
      completenessOf: 'samples',
    });
  },
};
