import type { FormulaRun } from './formula-run.ts';

/**
 * Electricity consumed in the city over the period (kWh), shared by Electricity Consumption, Renewable
 * Energy Consumption and GHG Emissions. Feeder/substation meters measure all the energy distributed, so
 * they are used when the registry holds any; otherwise the sum of customer smart meters. The two are never
 * added: customer meters sit behind the feeders. Either set may be a sample of the city's: when the manual
 * input of all of them (`electricityFeedersTotal`, `electricityMetersTotal`) exceeds the meters that
 * reported, their sum is scaled up by total ÷ reporting (an estimate, in the lineage).
 */
export async function electricityConsumed(run: FormulaRun): Promise<number | null> {
  const feeders = run.devices('electricity-feeder-meter');
  if (feeders.length > 0) {
    run.registry('feederMeters', feeders.length);
    const sum = await run.sumOf(feeders, 'energy');
    const factor = run.sampleFactor('energy delivered', sum.reporting, 'electricityFeedersTotal', 'feeders');
    return sum.total === null || factor === null ? null : sum.total * factor;
  }
  const meters = run.devices('electricity-smart-meter');
  run.registry('customerSmartMeters', meters.length);
  if (meters.length > 0)
    run.note('no feeder meter registered: consumption is the sum of customer smart meters only');
  const sum = await run.sumOf(meters, 'energy');
  const factor = run.sampleFactor('energy consumed', sum.reporting, 'electricityMetersTotal', 'smart meters');
  return sum.total === null || factor === null ? null : sum.total * factor;
}
