import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, numAttr, percentOf } from './formula-run.ts';

/**
 * EC: ICT: D: 1A Drainage / Storm Water System ICT Monitoring (U4SSC: km of the drainage / storm-water
 * system monitored by ICT ÷ total km of the system × 100; %). This follows the catalogue's length-based
 * definition: the network is measured in km, as U4SSC asks, not in sensors or catchments.
 *
 * Monitored km: Σ segmentLengthKm of the active drainage-sensor devices (level or flow) in the registry,
 * each reach once: sensors with the same `reachId` (a level and a flow sensor on one reach) count its km
 * once, at the longest length registered for it (a disagreement is noted); a sensor without `reachId` is a
 * reach of its own. Total km: manual input `drainageNetworkKm` (the utility's asset register): no sensor
 * knows the length of the pipes it is not in. Installed, as U4SSC counts coverage: whether each sensor
 * reported is the business of completeness, not of coverage. Above 100 % (overlapping reaches) is capped
 * with a note.
 */
export const drainageIctMonitoring: KpiFormula = {
  code: 'EC: ICT: D: 1A',
  version: '1',
  description:
    'Σ km of drainage reaches with a registered level or flow sensor (each reach once) ÷ manual drainageNetworkKm × 100',
  inputKinds: ['drainage-sensor'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, drainageIctMonitoring);
    const sensors = run.devices('drainage-sensor');
    run.registry('drainageSensors', sensors.length);
    const reaches = new Map<string, number>();
    for (const d of sensors) {
      const km = numAttr(d, 'segmentLengthKm') ?? 0;
      const reach =
        typeof d.attributes.reachId === 'string' ? `reach ${d.attributes.reachId}` : `device ${d.id}`;
      const before = reaches.get(reach);
      if (before !== undefined && before !== km)
        run.note(`${reach}: sensors register ${before} km and ${km} km: the longer counted`);
      reaches.set(reach, Math.max(before ?? 0, km));
    }
    run.registry('monitoredReaches', reaches.size);
    const km = run.registry(
      'monitoredKm',
      [...reaches.values()].reduce((n, v) => n + v, 0),
    );
    const raw = percentOf(km, run.manual('drainageNetworkKm', 'km'), false);
    if (raw !== null && raw > 100)
      run.note(`monitored km exceed the drainage network (${raw.toFixed(1)} %): capped`);
    return run.finish(raw === null ? null : Math.min(100, raw));
  },
};
