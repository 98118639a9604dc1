import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { KpiFormula } from '../kpi-types.ts';
import { electricityConsumed } from './electricity-total.ts';
import { annualFactor, FormulaRun } from './formula-run.ts';

/**
 * EN: EN: AQ: 2C GHG Emissions. U4SSC: the city's greenhouse-gas inventory (GPC, PAS 2070 or IPCC methods)
 * ÷ population; t CO2e per capita per year. No sensor measures an inventory, so this formula does not
 * claim to follow that definition in full: it computes the part of it that the city meters, in the
 * catalogue's unit, and marks the value partial (a lineage note and, at best, an estimation with
 * assumptions). The scope is the energy the city meters, each carrier × its emission factor:
 *
 * - electricity: the kWh of Electricity Consumption (feeder meters, else customer smart meters:
 *   electricity-total.ts) × manual input `emissionFactorElectricity` (kg CO2e/kWh, location-based grid
 *   factor: GPC scope 2);
 * - heat: the kWh of every heat-meter (district heating delivered, residential or not) × manual input
 *   `emissionFactorHeat` (kg CO2e/kWh of the heat network).
 *
 * Left out, as no metered kind measures them: fuels burnt in buildings and vehicles (scope 1), transport,
 * waste, industrial processes and land use. Building energy meters are not added: they sit behind the
 * feeders and would count the same kWh twice.
 *
 * Factors are manual inputs, entered per period with their source (the national grid factor of the year,
 * the heat supplier's disclosure), and so recorded in the lineage with value, unit and source like any
 * manual input; a changed factor restates the periods it covers. A carrier with metered energy and no
 * factor makes the value "NR" (noted): leaving it out would lower the figure silently. A carrier with no
 * meter in the registry is not in the scope, and the lineage says so.
 *
 * t CO2e = Σ kWh × kg CO2e/kWh ÷ 1000, ÷ population (city profile), annualised below a year.
 */
export const ghgEmissions: KpiFormula = {
  code: 'EN: EN: AQ: 2C',
  version: '2',
  description:
    'partial (metered energy only, not a GPC inventory): (electricity kWh × emissionFactorElectricity + heat kWh × emissionFactorHeat) ÷ 1000 ÷ population, annualised',
  inputKinds: ['electricity-feeder-meter', 'electricity-smart-meter', 'heat-meter'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, ghgEmissions);
    const carriers: Array<{ name: string; factor: string; kwh: number | null; meters: number }> = [];
    const electricity = await electricityConsumed(run);
    const electricityMeters =
      run.devices('electricity-feeder-meter').length || run.devices('electricity-smart-meter').length;
    carriers.push({
      name: 'electricity',
      factor: 'emissionFactorElectricity',
      kwh: electricity,
      meters: electricityMeters,
    });
    const heatMeters: DeviceRecord[] = run.devices('heat-meter');
    run.registry('heatMeters', heatMeters.length);
    const heat = (await run.sumOf(heatMeters, 'energy')).total;
    carriers.push({ name: 'heat', factor: 'emissionFactorHeat', kwh: heat, meters: heatMeters.length });

    let kgCo2e: number | null = null;
    let missingFactor = false;
    for (const c of carriers) {
      if (c.meters === 0) {
        run.note(`${c.name}: no meter registered, not in the scope`);
        continue;
      }
      const factor = run.manual(c.factor, 'kg CO2e/kWh');
      if (c.kwh === null) continue;
      run.registry(`${c.name}Kwh`, c.kwh);
      if (factor === null) {
        missingFactor = true;
        run.note(`${c.name}: ${c.kwh} kWh metered and no ${c.factor}: the value is not reported`);
        continue;
      }
      kgCo2e = (kgCo2e ?? 0) + c.kwh * factor;
    }
    const population = run.population();
    if (kgCo2e === null || missingFactor || population === null) return run.finish(null);
    run.registry('tCo2e', kgCo2e / 1000);
    run.assume(
      'partial: scope 2 emissions of the metered electricity and heat only, not a GPC inventory (no fuel combustion, transport, waste, industry or land use): below the city total',
    );
    const metered = [
      ...(run.devices('electricity-feeder-meter').length > 0
        ? run.devices('electricity-feeder-meter')
        : run.devices('electricity-smart-meter')),
      ...heatMeters,
    ];
    return run.finish(((kgCo2e / 1000) * annualFactor(run, run.measuredFrom(metered))) / population);
  },
};
