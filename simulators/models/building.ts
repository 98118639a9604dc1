import type { ModelContext } from './model-context.ts';
import { bell, boolAttr, clamp, jitter, numberAttr, round, siteValue, winterness } from './model-context.ts';

/**
 * Building energy (mostly offices, schools, town halls): kWh per interval. High in weekday office hours
 * (08:00–18:00), a base load at night and weekends (servers, ventilation, standby); a building with a BMS
 * runs a lower base load. Annual intensity 90–220 kWh/m².
 */
export function buildingEnergyMeter(ctx: ModelContext): Record<string, number> {
  const { hour, weekend, dayOfYear } = ctx.local;
  const area = numberAttr(ctx.attributes, 'floorAreaM2', Math.round(siteValue(ctx.seed, 1, 800, 15_000)));
  const bms = boolAttr(ctx.attributes, 'bms', false);
  const intensity = siteValue(ctx.seed, 2, 90, 220) * (bms ? 0.8 : 1);
  const meanKw = (area * intensity) / 8760;
  const officeHours = !weekend && hour >= 8 && hour < 18;
  const ramp = weekend ? 0 : 0.4 * (bell(hour, 7.5, 0.7) + bell(hour, 18.5, 0.7));
  const base = bms ? 0.35 : 0.5;
  const shape = (officeHours ? 2.1 : base + ramp) * (0.9 + 0.25 * winterness(dayOfYear));
  const kwh = (meanKw * shape * jitter(ctx, 91, 0.07) * ctx.intervalSec) / 3600;
  return { energy: round(clamp(kwh, 0, 100_000), 3) };
}
