import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EC: ICT: ICT: 5C Availability of WIFI in Public Areas (U4SSC: count of public Wi-Fi hotspots in the city;
 * unit "number of public Wi-Fi hotspots"). This follows the catalogue's unit, a plain count, not hotspots
 * per km² or per inhabitant: that is how verified cities report it (a count, with no benchmark), and
 * dividing by area or population would make a figure no other city reports.
 *
 * Counted: the active wifi-hotspot devices of the period's device set (registry) that sent at least one
 * `clients` reading in the period, i.e. that were up and reachable from the controller at some time in it;
 * a hotspot registered but silent all period is not available to anyone and is not counted (the registry
 * count is in the lineage beside it). A reading of 0 clients counts: the hotspot was up, nobody used it.
 * Completeness is received ÷ owed readings over the registered hotspots, so a month in which hotspots were
 * down for days stays provisional even though each one that reported once is counted.
 */
export const publicWifi: KpiFormula = {
  code: 'EC: ICT: ICT: 5C',
  version: '1',
  description: 'registered public Wi-Fi hotspots with at least one reading in the period',
  inputKinds: ['wifi-hotspot'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, publicWifi);
    const hotspots = run.devices('wifi-hotspot');
    run.registry('registeredHotspots', hotspots.length);
    let reporting = 0;
    for (const h of hotspots) {
      const b = await run.deviceAggregate(h, 'clients');
      if (b !== null && b.count > 0) reporting++;
    }
    run.registry('reportingHotspots', reporting);
    if (hotspots.length > reporting)
      run.note(
        `${hotspots.length - reporting} registered hotspot(s) sent no reading in the period: not counted`,
      );
    return run.finish(hotspots.length === 0 ? null : reporting);
  },
};
