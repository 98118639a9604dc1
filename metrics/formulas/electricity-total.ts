import type { FormulaRun } from './formula-run.ts';

/**
 * Electricity consumed in the city over the period (kWh), shared by Electricity Consumption and Renewable
 * Energy Consumption. Feeder/substation meters measure all the energy distributed, so they are used when
 * the registry holds any; otherwise the sum of customer smart meters (which misses customers without one:
 * noted in the lineage). The two are never added: customer meters sit behind the feeders.
 */
export async function electricityConsumed(run: FormulaRun): Promise<number | null> {
  const feeders = run.devices('electricity-feeder-meter');
  if (feeders.length > 0) {
    run.registry('feederMeters', feeders.length);
    return (await run.sumOf(feeders, 'energy')).total;
  }
  const meters = run.devices('electricity-smart-meter');
  run.registry('customerSmartMeters', meters.length);
  if (meters.length > 0)
    run.note('no feeder meter registered: consumption is the sum of customer smart meters only');
  return (await run.sumOf(meters, 'energy')).total;
}
