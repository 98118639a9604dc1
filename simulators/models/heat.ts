import type { ModelContext } from './model-context.ts';
import {
  bell,
  boolAttr,
  clamp,
  jitter,
  numberAttr,
  outdoorTemperature,
  round,
  siteValue,
} from './model-context.ts';

/**
 * District-heating meter: kWh per interval. Space heating follows heating degrees below 15.5 °C (so it is
 * near zero in summer), with a night set-back; hot water adds a morning and an evening bump all year.
 */
export function heatMeter(ctx: ModelContext): Record<string, number> {
  const { hour } = ctx.local;
  const residential = boolAttr(ctx.attributes, 'residential', siteValue(ctx.seed, 1, 0, 1) < 0.75);
  const residents = numberAttr(ctx.attributes, 'residents', Math.round(siteValue(ctx.seed, 2, 8, 120)));
  // Heat loss per degree (kW/K): scale with the building; non-residential buildings by a site size.
  const lossKwPerK = residential ? residents * 0.06 : siteValue(ctx.seed, 3, 2, 12);
  const outdoor = outdoorTemperature(ctx.local, ctx.seed);
  const degrees = Math.max(0, 15.5 - outdoor);
  const setBack = hour < 5 || hour >= 23 ? 0.7 : 1;
  const occupied = residential ? 1 : ctx.local.weekend ? 0.5 : 0.6 + 0.4 * bell(hour, 12, 4);
  const spaceKw = lossKwPerK * degrees * setBack * occupied;
  const hotWaterKw = residential
    ? residents * 0.08 * (0.3 + bell(hour, 7.5, 1.2) + 0.8 * bell(hour, 20, 2))
    : 0.5;
  const kwh = ((spaceKw + hotWaterKw) * jitter(ctx, 81, 0.06) * ctx.intervalSec) / 3600;
  return { energy: round(clamp(kwh, 0, 100_000), 3) };
}
