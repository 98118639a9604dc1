import type { ModelContext } from './model-context.ts';
import { bell, boolAttr, clamp, jitter, numberAttr, round, siteValue } from './model-context.ts';

/** Traffic volume relative to the daily peak hour: commuter peaks on weekdays, a broad midday hump at weekends. */
export function trafficShape(hour: number, weekend: boolean): number {
  if (weekend) return 0.06 + 0.55 * bell(hour, 13.5, 3.5);
  return 0.04 + 0.95 * bell(hour, 8, 1.1) + 0.9 * bell(hour, 17.5, 1.6) + 0.45 * bell(hour, 12.5, 2.5);
}

/**
 * Road counter: vehicles per interval, mean speed and detector occupancy. Speed falls as flow nears the
 * segment capacity (a BPR-like curve), occupancy = flow × effective vehicle length / speed.
 */
export function trafficCounter(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const major = boolAttr(ctx.attributes, 'majorStreet', siteValue(ctx.seed, 1, 0, 1) < 0.5);
  const freeFlow = numberAttr(ctx.attributes, 'freeFlowSpeedKmh', major ? 60 : 40);
  const capacityVph = major ? siteValue(ctx.seed, 2, 1400, 2200) : siteValue(ctx.seed, 2, 500, 900);
  const peakRatio = siteValue(ctx.seed, 3, 0.65, 0.95);
  const flowVph = capacityVph * peakRatio * trafficShape(hour, weekend) * jitter(ctx, 51, 0.12);
  const count = Math.round(clamp((flowVph * ctx.intervalSec) / 3600, 0, 10_000));
  const ratio = (count * 3600) / ctx.intervalSec / capacityVph;
  const speed = freeFlow * (1 - 0.65 * ratio ** 2.5) * jitter(ctx, 52, 0.05);
  const safeSpeed = clamp(speed, 5, 300);
  // Effective length: vehicle (~5 m) plus loop detector (~1.5 m) = 0.0065 km.
  const occupancy = count === 0 ? 0 : ((count * 3600) / ctx.intervalSec) * (0.0065 / safeSpeed) * 100;
  return {
    count,
    speed: round(safeSpeed, 1),
    occupancy: round(clamp(occupancy, 0, 100), 1),
  };
}

/**
 * Signal controller: adaptive or fixed-time (a per-intersection setting), cycles per interval. Adaptive
 * controllers lengthen cycles in the peaks and shorten them at night; fixed-time ones run one plan by day
 * and a shorter night plan.
 */
export function trafficSignalController(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const adaptive = siteValue(ctx.seed, 1, 0, 1) < 0.6 ? 1 : 0;
  const night = hour < 6 || hour >= 22;
  let cycleSec: number;
  if (adaptive === 1) cycleSec = 50 + 60 * Math.min(1, trafficShape(hour, weekend));
  else cycleSec = night ? 60 : 90;
  const cycles = Math.round(clamp((ctx.intervalSec / cycleSec) * jitter(ctx, 53, 0.03), 0, 1000));
  return { adaptive, cycles };
}
