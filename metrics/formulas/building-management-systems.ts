import type { KpiFormula } from '../kpi-types.ts';
import { boolAttr, FormulaRun, numAttr, percentOf } from './formula-run.ts';

/**
 * EC: I: B: 2A Integrated Building Management Systems in Public Buildings (U4SSC: floor area of public
 * buildings using integrated ICT building management systems / total public-building floor area × 100; %).
 *
 * Inputs: registry building-energy-meter devices with publicBuilding = true and bms = true (Σ floorAreaM2);
 * manual input `publicBuildingFloorAreaM2` (m², all public buildings, metered or not). Without it the
 * registered public buildings stand in for the total (lineage note; data quality of an estimation).
 */
export const buildingManagementSystems: KpiFormula = {
  code: 'EC: I: B: 2A',
  version: '1',
  description: 'Σ floor area of public buildings with BMS ÷ public-building floor area × 100',
  inputKinds: ['building-energy-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, buildingManagementSystems);
    const publicBuildings = run.devices('building-energy-meter', (d) => boolAttr(d, 'publicBuilding'));
    const area = (ds: typeof publicBuildings) => ds.reduce((a, d) => a + (numAttr(d, 'floorAreaM2') ?? 0), 0);
    const bmsArea = run.registry('bmsFloorAreaM2', area(publicBuildings.filter((d) => boolAttr(d, 'bms'))));
    let total = run.manual('publicBuildingFloorAreaM2', 'm²');
    if (total === null && publicBuildings.length > 0) {
      total = run.registry('registeredPublicFloorAreaM2', area(publicBuildings));
      run.assume('total public floor area taken from the registered buildings only');
    }
    return run.finish(percentOf(bmsArea, total), []);
  },
};
