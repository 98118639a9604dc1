import { uniformAt } from '../prng.ts';
import { battery, rssi } from './device-health.ts';
import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, numberAttr, round, siteValue } from './model-context.ts';

/**
 * Water demand relative to the daily mean (mean ≈ 1): lowest at 03:00–04:00 (the minimum night flow,
 * which water-loss analysis reads as leakage plus legitimate night use), peaks at breakfast and dinner;
 * weekends peak later and flatter.
 */
export function waterDemandShape(hour: number, weekend: boolean): number {
  const morning = weekend ? bell(hour, 9.5, 2) : bell(hour, 7.5, 1.3);
  const evening = bell(hour, 19.5, 2);
  const night = bell(hour, 3.5, 2);
  return 0.95 + 0.9 * morning + 0.6 * evening + 0.15 * bell(hour, 13, 2) - 0.6 * night;
}

/** A household's use relative to waterDemandShape: nearly nothing at night (the network's night flow is leakage). */
const householdNightQuiet = (hour: number): number => 1 - 0.9 * bell(hour, 3, 2.2);

/** Mean over a day's hours of a shape (for weekdays and weekends). */
const dailyMean = (shape: (hour: number, weekend: boolean) => number, weekend: boolean): number => {
  let sum = 0;
  for (let m = 0; m < 24 * 60; m += 5) sum += shape(m / 60, weekend);
  return sum / (24 * 12);
};

/** Mean litres per person per day of the household meter model (its siteValue range 100–160). */
const HOUSEHOLD_LITRES_PER_PERSON_DAY = 130;
const DEMAND_MEAN = [false, true].map((w) => dailyMean(waterDemandShape, w));
const HOUSEHOLD_MEAN = [false, true].map((w) =>
  dailyMean((h, we) => waterDemandShape(h, we) * householdNightQuiet(h), w),
);

/**
 * District inflow: m³ per interval. The minimum night flow includes a constant leakage share. With
 * `residentsServed` the zone's flow is what its households use on average (as the household meter model
 * draws it) plus the leakage share, so that the inflow and the customer meters of one simulated city agree;
 * without it a site size is drawn.
 */
export function waterInflowMeter(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const leakage = siteValue(ctx.seed, 2, 0.08, 0.25);
  const served = numberAttr(ctx.attributes, 'residentsServed', 0);
  const w = weekend ? 1 : 0;
  const meanFlowM3h =
    served > 0
      ? (served * HOUSEHOLD_LITRES_PER_PERSON_DAY * (HOUSEHOLD_MEAN[w]! / DEMAND_MEAN[w]!)) /
        1000 /
        24 /
        (1 - leakage)
      : siteValue(ctx.seed, 1, 80, 600);
  const demand = waterDemandShape(hour, weekend);
  const flowM3h = meanFlowM3h * (leakage + (1 - leakage) * demand) * jitter(ctx, 31, 0.04);
  const volume = (flowM3h * ctx.intervalSec) / 3600;
  // Pressure falls as demand rises (head losses), highest at night.
  const pressure = siteValue(ctx.seed, 3, 3.2, 5.5) - 0.6 * (demand - 1) + 0.05 * (jitter(ctx, 32, 1) - 1);
  return { volume: round(clamp(volume, 0, 1_000_000), 3), pressure: round(clamp(pressure, 0.5, 40), 2) };
}

/** Household meter: m³ per interval; near zero at night unless the premises has a small leak. */
export function waterSmartMeter(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const residents = numberAttr(ctx.attributes, 'residents', 1 + Math.floor(siteValue(ctx.seed, 1, 0, 4)));
  const litresPerPersonDay = siteValue(ctx.seed, 2, 100, 160);
  // One household in ten has a dripping tap or running toilet: a few litres an hour, day and night.
  const leakLh = uniformAt(ctx.seed, 33) < 0.1 ? siteValue(ctx.seed, 3, 1, 8) : 0;
  const shape = waterDemandShape(hour, weekend);
  const nightQuiet = householdNightQuiet(hour);
  const litresPerHour = ((residents * litresPerPersonDay) / 24) * shape * nightQuiet * jitter(ctx, 34, 0.35);
  const volume = ((litresPerHour + leakLh) * ctx.intervalSec) / 3600 / 1000;
  // To the millilitre: a sped-up fleet's readings cover seconds, a fraction of a litre.
  return { volume: round(clamp(volume, 0, 1000), 6), battery: battery(ctx), rssi: rssi(ctx) };
}

/** Drinking-water quality: steady values with small sensor noise (chlorine mg/L, turbidity NTU, pH). */
export function waterQualitySonde(ctx: ModelContext): Record<string, number> {
  const chlorine = siteValue(ctx.seed, 1, 0.2, 0.7) * jitter(ctx, 35, 0.05);
  const turbidity = siteValue(ctx.seed, 2, 0.1, 0.6) * jitter(ctx, 36, 0.15);
  const ph = siteValue(ctx.seed, 3, 7.1, 7.9) + 0.04 * (jitter(ctx, 37, 1) - 1);
  return {
    chlorine: round(clamp(chlorine, 0, 20), 3),
    turbidity: round(clamp(turbidity, 0, 4000), 3),
    ph: round(clamp(ph, 0, 14), 2),
  };
}

/**
 * Drainage reach: level (m above the invert) and flow (L/s). Dry weather carries the wastewater day curve;
 * on about one day in five a storm passes over the whole city (the same days for every sensor, as rain
 * falls on all of it) and the reach fills for a few hours around the storm's hour.
 */
export function drainageSensor(ctx: ModelContext): Record<string, number> {
  const { hour, weekend, dayNumber } = ctx.local;
  const dryFlowLs = siteValue(ctx.seed, 1, 5, 400);
  const dry = dryFlowLs * (0.3 + 0.7 * waterDemandShape(hour, weekend));
  const stormDay = uniformAt(1, 41, dayNumber) < 0.2;
  const stormHour = 24 * uniformAt(1, 42, dayNumber);
  const storm = stormDay ? siteValue(ctx.seed, 2, 3, 12) * dryFlowLs * bell(hour, stormHour, 1.2) : 0;
  const flow = (dry + storm) * jitter(ctx, 43, 0.06);
  // Level grows with flow to the power 0.4 (a part-full pipe); a reach is 0.3–3 m deep.
  const depth = siteValue(ctx.seed, 3, 0.3, 3);
  const level = depth * Math.min(1, 0.08 * (flow / dryFlowLs) ** 0.4);
  return {
    level: round(clamp(level, 0, 20), 3),
    flow: round(clamp(flow, 0, 100_000), 2),
    battery: battery(ctx),
  };
}
