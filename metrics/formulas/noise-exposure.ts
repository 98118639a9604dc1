import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { Bucket } from '../../core/ports/series-store.ts';
import { energyMetric, levelOfEnergy, toEnergy } from '../../core/sound-level.ts';
import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, numAttr } from './formula-run.ts';

/**
 * EN: EN: EQ: 2A Noise Exposure. U4SSC: inhabitants exposed to excessive noise ÷ all inhabitants × 100 (%).
 * U4SSC gives no threshold; it is settings.noiseThresholdDb (default 55 dB(A)), the EU practice of
 * Lden > 55 dB, so the level compared is Lden as Directive 2002/49/EC Annex I defines it:
 *
 *   Lden = 10·log10((12·10^(Lday/10) + 4·10^((Levening+5)/10) + 8·10^((Lnight+10)/10)) / 24)
 *
 * with day 07–19, evening 19–23 and night 23–07 in the city's zone, each period level the energetic mean
 * (LAeq) of the readings in its hours over the whole period: decibels average by their energy, never
 * arithmetically. The store keeps the energy companion series of laeq (core/sound-level.ts), whose roll-up
 * mean is the mean energy, so each level is exact at any step. Hours of readings stored before the
 * companion was kept are bounded from their levels' roll-up instead (energyBounds), and decide a monitor
 * only where both bounds fall on one side of the threshold.
 *
 * "Enough" for Lden: in each of day, evening and night at least LDEN_MIN_HOUR_SHARE of the period's hours
 * (since the monitor's installation, up to now) are covered, an hour being covered when it holds at least
 * half the readings the monitor owes in it. Without the penalties night noise would not count for more, so
 * a monitor short of it is compared by its LAeq over the period, noted as an estimation (biased low).
 *
 * The value is, as U4SSC asks, a share of the whole population (city profile): residents of the areas of
 * exposed monitors (residentsExposed) ÷ population × 100; it needs residentsExposed on every exposed
 * monitor. The share of monitored residents (the monitoring network's own basis) is recorded in the lineage
 * (registryCounts.monitoredResidentsExposedPercent), not as a data point: U4SSC defines one.
 */

/** Share of the hours of each Lden period (day, evening, night) that must be covered. */
export const LDEN_MIN_HOUR_SHARE = 0.5;

export type LdenPart = 'day' | 'evening' | 'night';

/** The Lden period of a local hour of day (0–23): day 07–19, evening 19–23, night 23–07. */
export const ldenPartOf = (hour: number): LdenPart =>
  hour >= 7 && hour < 19 ? 'day' : hour >= 19 && hour < 23 ? 'evening' : 'night';

/** Lden from the three period levels (dB). */
export function lden(day: number, evening: number, night: number): number {
  return (
    10 *
    Math.log10((12 * 10 ** (day / 10) + 4 * 10 ** ((evening + 5) / 10) + 8 * 10 ** ((night + 10) / 10)) / 24)
  );
}

interface PartSums {
  energy: number;
  count: number;
  coveredHours: number;
  hours: number;
}

export interface MonitorLevel {
  /** Lden when the monitor reports enough, else its LAeq over the period */
  level: number;
  lden: boolean;
  laeq: number;
}

const HOUR_MS = 3_600_000;

/**
 * The level of one monitor from the hour buckets of its energy companion, or null without readings.
 * `hourParts` lists the local hour starts the monitor owes readings in, with their Lden period.
 */
export function monitorLevel(
  hours: readonly Bucket[],
  hourParts: ReadonlyMap<number, LdenPart>,
  readingsPerHour: number,
): MonitorLevel | null {
  const parts: Record<LdenPart, PartSums> = {
    day: { energy: 0, count: 0, coveredHours: 0, hours: 0 },
    evening: { energy: 0, count: 0, coveredHours: 0, hours: 0 },
    night: { energy: 0, count: 0, coveredHours: 0, hours: 0 },
  };
  for (const part of hourParts.values()) parts[part].hours++;
  let energy = 0;
  let count = 0;
  const covering = Math.max(1, Math.ceil(readingsPerHour / 2));
  for (const b of hours) {
    if (b.count <= 0) continue;
    energy += b.sum;
    count += b.count;
    const part = hourParts.get(b.t);
    if (part === undefined) continue;
    parts[part].energy += b.sum;
    parts[part].count += b.count;
    if (b.count >= covering) parts[part].coveredHours++;
  }
  if (count === 0) return null;
  const laeq = levelOfEnergy(energy / count);
  const enough = Object.values(parts).every(
    (p) => p.hours > 0 && p.count > 0 && p.coveredHours / p.hours >= LDEN_MIN_HOUR_SHARE,
  );
  if (!enough) return { level: laeq, lden: false, laeq };
  const l = (p: PartSums) => levelOfEnergy(p.energy / p.count);
  return { level: lden(l(parts.day), l(parts.evening), l(parts.night)), lden: true, laeq };
}

/**
 * The mean energy per reading of an hour known only from the roll-up of its levels (count, sum, min and
 * max in dB): readings stored before the energy companion series was kept have no energy of their own, and
 * the mean of levels is not the mean of energies, but it bounds it. 10^(L/10) is convex, so readings with
 * that mean level have at least the energy of the mean level (all equal: Jensen's inequality) and at most
 * that of readings all at the hour's min or max, in the proportion that keeps the mean.
 */
export function energyBounds(levels: Pick<Bucket, 'count' | 'sum' | 'min' | 'max'>): {
  low: number;
  high: number;
} {
  const mean = levels.sum / levels.count;
  const low = toEnergy(mean);
  if (levels.max <= levels.min) return { low, high: low };
  const atMax = (mean - levels.min) / (levels.max - levels.min);
  const high = atMax * toEnergy(levels.max) + (1 - atMax) * toEnergy(levels.min);
  return { low, high: Math.max(low, high) };
}

/**
 * A monitor's hours as energy buckets, twice: with each hour's lowest and highest possible energy. An hour
 * whose energy companion holds every one of its readings is exact (both the same); any other hour is
 * bounded from its levels (energyBounds). `bounded` counts the hours that were.
 */
export function hourEnergies(
  levelHours: readonly Bucket[],
  energyHours: readonly Bucket[],
): { low: Bucket[]; high: Bucket[]; bounded: number } {
  const exact = new Map(energyHours.map((b) => [b.t, b]));
  const low: Bucket[] = [];
  const high: Bucket[] = [];
  let bounded = 0;
  for (const b of levelHours) {
    if (b.count <= 0) continue;
    const e = exact.get(b.t);
    if (e !== undefined && e.count >= b.count) {
      low.push(e);
      high.push(e);
      continue;
    }
    bounded++;
    const bounds = energyBounds(b);
    low.push({ ...b, sum: bounds.low * b.count, mean: bounds.low });
    high.push({ ...b, sum: bounds.high * b.count, mean: bounds.high });
  }
  return { low, high, bounded };
}

/** Local hour starts in [from, to) with their Lden period, for the city's zone. */
function hourPartsOf(run: FormulaRun, from: number, to: number): Map<number, LdenPart> {
  const out = new Map<number, LdenPart>();
  for (let t = from; t < to; t += HOUR_MS) out.set(t, ldenPartOf(run.ctx.calendar.local(t).hour));
  return out;
}

export const noiseExposure: KpiFormula = {
  code: 'EN: EN: EQ: 2A',
  version: '3',
  description:
    'residents at monitors whose Lden (energetic means, evening +5 dB, night +10 dB) exceeds the threshold ÷ population × 100',
  inputKinds: ['noise-monitor'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, noiseExposure);
    const threshold = ctx.settings.noiseThresholdDb;
    const until = Math.min(period.end, ctx.now ?? period.end);
    // Hour starts of the period (periods start at local midnight, so these are local hour starts).
    const periodHours = hourPartsOf(run, period.start, until);
    const levels: Array<{ device: DeviceRecord; level: MonitorLevel; residents: number | undefined }> = [];
    let laeqOnly = 0;
    let boundedMonitors = 0;
    const undetermined: string[] = [];
    for (const m of run.devices('noise-monitor')) {
      const total = await run.deviceAggregate(m, 'laeq');
      if (total === null) continue;
      const energies = hourEnergies(
        await run.hourBuckets(m, 'laeq'),
        await run.hourBuckets(m, energyMetric('laeq')),
      );
      // hours the monitor was installed for, at least in part
      const owed = new Map(
        [...periodHours].filter(
          ([t]) => t + HOUR_MS > m.installedAt && (m.removedAt === null || t < m.removedAt),
        ),
      );
      const perHour = HOUR_MS / 1000 / run.intervalSec(m.kind);
      const low = monitorLevel(energies.low, owed, perHour);
      const high = monitorLevel(energies.high, owed, perHour);
      if (low === null || high === null) continue;
      if (energies.bounded > 0) {
        boundedMonitors++;
        // Exposed or not only where both bounds fall on one side of the threshold.
        if (low.level <= threshold && high.level > threshold) {
          undetermined.push(`${m.id} (${low.level.toFixed(1)}–${high.level.toFixed(1)} dB)`);
          continue;
        }
      }
      const level = low.level > threshold ? low : high;
      if (!level.lden) laeqOnly++;
      levels.push({ device: m, level, residents: numAttr(m, 'residentsExposed') });
    }
    if (boundedMonitors > 0)
      run.assume(
        `${boundedMonitors} monitor(s) with readings stored before their energy series was kept: those hours' levels bounded from the roll-up of their levels (the mean level at least, the hour's min and max at most), exposure decided where both bounds fall on one side of the threshold`,
      );
    if (undetermined.length > 0)
      run.note(
        `${undetermined.length} monitor(s) left out, their bounds straddling the threshold: ${undetermined.join(', ')}`,
      );
    if (laeqOnly > 0)
      run.assume(
        `${laeqOnly} monitor(s) compared by LAeq over the period, not Lden: fewer than ${LDEN_MIN_HOUR_SHARE * 100} % of the day, evening or night hours covered (underestimates)`,
      );
    const isExposed = (l: (typeof levels)[number]) => l.level.level > threshold;
    const exposedMonitors = levels.filter(isExposed);
    run.registry('monitors', levels.length);
    run.registry('monitorsAboveThreshold', exposedMonitors.length);
    run.note(`threshold ${threshold} dB(A) on Lden (day 07–19, evening 19–23 +5 dB, night 23–07 +10 dB)`);

    // Monitored basis: residents of exposed monitors ÷ residents monitored; equal weights without counts.
    const weighted = levels.length > 0 && levels.every((l) => l.residents !== undefined);
    if (!weighted && levels.length > 0)
      run.note('residentsExposed missing on some monitors: monitors weigh equally in the monitored share');
    const weight = (l: (typeof levels)[number]) => (weighted ? l.residents! : 1);
    const monitoredAll = levels.reduce((n, l) => n + weight(l), 0);
    const monitoredExposed = exposedMonitors.reduce((n, l) => n + weight(l), 0);
    const monitoredShare = monitoredAll > 0 ? (monitoredExposed / monitoredAll) * 100 : null;

    // Population basis (U4SSC): absolute residents of exposed areas ÷ inhabitants.
    let value: number | null = null;
    if (levels.length > 0) {
      const population = run.population();
      const counted = exposedMonitors.every((l) => l.residents !== undefined);
      if (!counted)
        run.note(
          'residentsExposed missing on an exposed monitor: the share of the population is not reported',
        );
      if (population !== null && counted) {
        const residentsExposed = exposedMonitors.reduce((n, l) => n + l.residents!, 0);
        run.registry('residentsExposed', residentsExposed);
        if (weighted) run.registry('residentsMonitored', monitoredAll);
        value = Math.min(100, (residentsExposed / population) * 100);
      }
    }
    if (monitoredShare !== null) {
      run.registry('monitoredResidentsExposedPercent', monitoredShare);
      run.note(`share of monitored residents exposed: ${monitoredShare.toFixed(2)} %`);
    }
    return run.finish(value);
  },
};
