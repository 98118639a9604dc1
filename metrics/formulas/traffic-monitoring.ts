import type { KpiFormula } from '../kpi-types.ts';
import { boolAttr, FormulaRun, numAttr, percentOf } from './formula-run.ts';

/**
 * EC: ICT: T: 2C Traffic Monitoring (U4SSC: km of major streets monitored by ICT / total km of major
 * streets × 100; %).
 *
 * Inputs: Σ segmentLengthKm of active traffic-counter devices with majorStreet = true (registry); manual
 * input `majorStreetKm` (length of the major street network). Above 100 % (overlapping segments) is capped
 * with a note.
 */
export const trafficMonitoring: KpiFormula = {
  code: 'EC: ICT: T: 2C',
  version: '1',
  description: 'Σ segment km of counters on major streets ÷ manual majorStreetKm × 100',
  inputKinds: ['traffic-counter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, trafficMonitoring);
    const counters = run.devices('traffic-counter', (d) => boolAttr(d, 'majorStreet'));
    run.registry('majorStreetCounters', counters.length);
    const km = run.registry(
      'monitoredKm',
      counters.reduce((n, d) => n + (numAttr(d, 'segmentLengthKm') ?? 0), 0),
    );
    const raw = percentOf(km, run.manual('majorStreetKm', 'km'), false);
    if (raw !== null && raw > 100)
      run.note(`monitored km exceed the major street network (${raw.toFixed(1)} %): capped`);
    return run.finish(raw === null ? null : Math.min(100, raw));
  },
};
