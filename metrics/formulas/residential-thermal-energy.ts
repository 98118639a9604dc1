import type { KpiFormula } from '../kpi-types.ts';
import { annualFactor, boolAttr, FormulaRun, numAttr } from './formula-run.ts';

/** 1 kWh = 3.6 MJ = 0.0036 GJ */
const GJ_PER_KWH = 0.0036;

/**
 * EN: E: E: 3C Residential Thermal Energy Consumption (U4SSC: residential thermal energy (heating/cooling
 * fuels, district heat) (GJ/yr) / population; GJ per capita per year).
 *
 * Inputs: `energy` (kWh) of heat-meter devices with attribute residential = true, converted to GJ; population
 * from the city profile; annualised below a year. Gas and other fuels burnt in homes are not metered here
 * (lineage note): the figure covers district heat delivered through heat meters. When
 * `districtHeatResidents` (residents of all homes on district heat) exceeds the residents of the metered
 * homes that reported (their `residents` attribute), their heat is scaled up by the ratio: an estimate, in
 * the lineage's `estimates`.
 */
export const residentialThermalEnergy: KpiFormula = {
  code: 'EN: E: E: 3C',
  version: '3',
  description:
    'Σ residential heat-meter kWh (× districtHeatResidents ÷ their residents) × 0.0036 GJ/kWh ÷ population, annualised',
  inputKinds: ['heat-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, residentialThermalEnergy);
    const meters = run.devices('heat-meter', (d) => boolAttr(d, 'residential'));
    run.registry('residentialHeatMeters', meters.length);
    run.note('district heat through heat meters only: fuels burnt in homes are not metered');
    const sum = await run.sumOf(meters, 'energy');
    // The metered homes as a sample of those on district heat, by their residents.
    const sampled = meters
      .filter((d) => sum.perDevice.get(d.id) != null)
      .reduce((n, d) => n + (numAttr(d, 'residents') ?? 0), 0);
    const scale =
      sampled > 0 ? run.sampleFactor('heat delivered', sampled, 'districtHeatResidents', 'residents') : 1;
    const kwh = sum.total === null || scale === null ? null : sum.total * scale;
    const population = run.population();
    const annual = annualFactor(run, run.measuredFrom(meters));
    const value = kwh === null || population === null ? null : (kwh * GJ_PER_KWH * annual) / population;
    return run.finish(value);
  },
};
