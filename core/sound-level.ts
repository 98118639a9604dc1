/**
 * Sound levels are logarithmic: the level of a stretch of time is the energetic mean
 * L = 10·log10(mean(10^(L_i/10))) (ISO 1996-1, LAeq), never the arithmetic mean of the decibels, which is
 * biased low whenever the level varies (50 and 60 dB average to 57.4 dB, not 55).
 *
 * The series stores keep mergeable sums (count, sum, min, max) and know nothing of units. So next to every
 * sound-level series the platform keeps a companion series `<metric>.energy` holding 10^(L/10) with the same
 * identity (device, ts): its roll-up mean at any step, over any scope, is the mean energy, and the level is
 * exact: levelOfEnergy(mean). Metric names never contain a dot, so a companion cannot collide with one.
 */

/** Canonical units that are sound levels in decibels (dB, dB(A), dB(C), dB(Z)); dBm (radio power) is not. */
export function isSoundLevelUnit(unit: string): boolean {
  return /^dB(\([ACZ]\))?$/.test(unit);
}

const SUFFIX = '.energy';

/** The companion series of a sound-level metric. */
export const energyMetric = (metric: string): string => `${metric}${SUFFIX}`;

/** Whether a stored metric is a companion series (hidden from device views: it is derived). */
export const isEnergyMetric = (metric: string): boolean => metric.endsWith(SUFFIX);

/** Relative energy of a level in dB. */
export const toEnergy = (levelDb: number): number => 10 ** (levelDb / 10);

/** The level in dB of a mean relative energy. */
export const levelOfEnergy = (meanEnergy: number): number => 10 * Math.log10(meanEnergy);
