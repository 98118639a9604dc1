import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: WS: 2A Water Supply ICT Monitoring (U4SSC: share of the water distribution system monitored by
 * ICT × 100; %).
 *
 * The system is measured in supply zones (district metered areas): a zone is monitored when an active
 * water-inflow-meter (live flow and pressure) is registered in it; the zone of a device is its district.
 * Inputs: registry (distinct districts of inflow meters); manual input `waterSupplyZonesTotal` (all supply
 * zones / DMAs of the network).
 */
export const waterSupplyIctMonitoring: KpiFormula = {
  code: 'EC: ICT: WS: 2A',
  version: '1',
  description: 'supply zones with a registered inflow meter ÷ manual waterSupplyZonesTotal × 100',
  inputKinds: ['water-inflow-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, waterSupplyIctMonitoring);
    const meters = run.devices('water-inflow-meter');
    run.registry('inflowMeters', meters.length);
    const zones = run.registry('monitoredZones', new Set(meters.map((d) => d.district)).size);
    const total = run.manual('waterSupplyZonesTotal', 'zones');
    return run.finish(percentOf(zones, total));
  },
};
