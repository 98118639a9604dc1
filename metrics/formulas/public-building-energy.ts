import type { KpiFormula } from '../kpi-types.ts';
import { annualFactor, boolAttr, FormulaRun, numAttr } from './formula-run.ts';

/**
 * EN: E: E: 4A Public Building Energy Consumption (U4SSC: annual energy use of public buildings / public
 * building floor area; e-kWh per m² per year).
 *
 * Inputs: `energy` (kWh, all carriers as equivalent kWh) of building-energy-meter devices with
 * publicBuilding = true, over the sum of their floorAreaM2 attributes; annualised below a year. A public
 * building without a floor area cannot be normalised and is left out (lineage note).
 */
export const publicBuildingEnergy: KpiFormula = {
  code: 'EN: E: E: 4A',
  version: '2',
  description: 'Σ public-building meter kWh ÷ Σ their floor area m², annualised',
  inputKinds: ['building-energy-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, publicBuildingEnergy);
    const publicMeters = run.devices('building-energy-meter', (d) => boolAttr(d, 'publicBuilding'));
    const withArea = publicMeters.filter((d) => (numAttr(d, 'floorAreaM2') ?? 0) > 0);
    if (withArea.length < publicMeters.length)
      run.note(`${publicMeters.length - withArea.length} public building(s) without floorAreaM2 left out`);
    run.registry('publicBuildings', withArea.length);
    const area = run.registry(
      'floorAreaM2',
      withArea.reduce((a, d) => a + (numAttr(d, 'floorAreaM2') ?? 0), 0),
    );
    const kwh = (await run.sumOf(withArea, 'energy')).total;
    const value =
      kwh === null || !(area > 0) ? null : (kwh * annualFactor(run, run.measuredFrom(withArea))) / area;
    return run.finish(value);
  },
};
