import { gaussianAt, uniformAt } from '../prng.ts';
import type { ModelContext } from './model-context.ts';
import { bell, clamp, daylight, jitter, numberAttr, round, siteValue, winterness } from './model-context.ts';

/**
 * Residential load relative to its mean: low at night (fridge, standby), a morning bump and the evening
 * peak around 19:00; winter evenings higher (lighting).
 */
export function residentialLoadShape(hour: number, weekend: boolean, dayOfYear: number): number {
  const morning = weekend ? bell(hour, 9.5, 2) : bell(hour, 7.5, 1.2);
  const evening = bell(hour, 19, 2);
  const night = bell(hour, 3.5, 2.5);
  return (0.85 + 0.6 * morning + 1.3 * evening - 0.45 * night) * (0.9 + 0.25 * winterness(dayOfYear));
}

/** Household smart meter: kWh per interval, supply flag and voltage; all zero during an outage. */
export function electricitySmartMeter(ctx: ModelContext): Record<string, number> {
  if (ctx.outage) return { energy: 0, supply: 0, voltage: 0 };
  const { hour, weekend, dayOfYear } = ctx.local;
  const customers = numberAttr(ctx.attributes, 'customers', 1);
  const meanKw = siteValue(ctx.seed, 1, 0.25, 0.6) * customers;
  const kw = meanKw * residentialLoadShape(hour, weekend, dayOfYear) * jitter(ctx, 41, 0.3);
  const voltage = 230 * (1 + 0.012 * gaussianAt(ctx.seed, 42, Math.floor(ctx.ts / 1000)));
  return {
    // To the watt-hour's tenth: a sped-up fleet's readings cover seconds.
    energy: round(clamp((kw * ctx.intervalSec) / 3600, 0, 10_000), 5),
    supply: 1,
    voltage: round(clamp(voltage, 0, 500), 1),
  };
}

/** Feeder / substation: residential customers plus a commercial share busy in office hours. */
export function electricityFeederMeter(ctx: ModelContext): Record<string, number> {
  if (ctx.outage) return { energy: 0, power: 0 };
  const { hour, weekend, dayOfYear } = ctx.local;
  const customers = numberAttr(ctx.attributes, 'customersServed', 1000);
  const commercial = siteValue(ctx.seed, 1, 0.1, 0.5);
  const office = weekend ? 0.3 : 0.35 + 0.9 * bell(hour, 13, 3.5);
  const shape = (1 - commercial) * residentialLoadShape(hour, weekend, dayOfYear) + commercial * office * 1.6;
  const kw = customers * 0.5 * shape * jitter(ctx, 43, 0.05);
  const power = clamp(kw, 0, 1_000_000);
  return { energy: round(clamp((power * ctx.intervalSec) / 3600, 0, 1_000_000), 3), power: round(power, 2) };
}

/**
 * Renewable plant output in kWh per interval. Solar is zero between sunset and sunrise, follows the sun's
 * arc by day and the season, with day-to-day cloudiness; wind varies hour to hour; hydro, biomass and
 * geothermal run nearly steady.
 */
export function renewableGenerationMeter(ctx: ModelContext): Record<string, number> {
  const { hour, dayOfYear, dayNumber } = ctx.local;
  const source = typeof ctx.attributes.source === 'string' ? ctx.attributes.source : 'solar';
  const capacityKw = siteValue(ctx.seed, 1, 50, 5000);
  let factor: number;
  if (source === 'solar') {
    const { sunrise, sunset } = daylight(dayOfYear);
    const elevation =
      hour <= sunrise || hour >= sunset ? 0 : Math.sin((Math.PI * (hour - sunrise)) / (sunset - sunrise));
    const clouds = 0.35 + 0.65 * uniformAt(ctx.seed, 44, dayNumber);
    factor = elevation * elevation * (1 - 0.45 * winterness(dayOfYear)) * clouds * jitter(ctx, 45, 0.05);
  } else if (source === 'wind') {
    const hourKey = Math.floor(ctx.ts / 3_600_000);
    const gust = uniformAt(ctx.seed, 46, hourKey);
    factor = clamp(0.1 + 0.55 * gust * gust + 0.2 * winterness(dayOfYear), 0, 1) * jitter(ctx, 47, 0.1);
  } else {
    factor = siteValue(ctx.seed, 2, 0.5, 0.9) * jitter(ctx, 48, 0.03);
  }
  const energy = (capacityKw * clamp(factor, 0, 1) * ctx.intervalSec) / 3600;
  return { energy: round(clamp(energy, 0, 1_000_000), 3) };
}
