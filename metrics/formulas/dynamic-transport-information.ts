import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: T: 1C Dynamic Public Transport Information (U4SSC: stops and stations with real-time traveller
 * information / all stops and stations × 100; %).
 *
 * A stop has live information in the period when one of its transit-stop-display devices showed updates
 * (Σ `heartbeat` > 0): a display that stayed dark does not count. Stops are distinct stopId attributes
 * (the device id when absent). Inputs: registry and heartbeat series; manual input `transitStopsTotal`.
 */
export const dynamicTransportInformation: KpiFormula = {
  code: 'EC: ICT: T: 1C',
  version: '1',
  description: 'stops whose display showed live updates ÷ manual transitStopsTotal × 100',
  inputKinds: ['transit-stop-display'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, dynamicTransportInformation);
    const displays = run.devices('transit-stop-display');
    run.registry('displays', displays.length);
    const live = new Set<string>();
    for (const d of displays) {
      const b = await run.deviceAggregate(d, 'heartbeat');
      if (b !== null && b.sum > 0)
        live.add(typeof d.attributes.stopId === 'string' ? d.attributes.stopId : d.id);
    }
    const stops = run.registry('stopsWithLiveInformation', live.size);
    return run.finish(percentOf(stops, run.manual('transitStopsTotal', 'stops')));
  },
};
