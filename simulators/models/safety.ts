import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, siteValue } from './model-context.ts';

/**
 * Emergency calls per interval at a dispatch centre: 2–12 an hour on average, fewest before dawn, most in
 * the late afternoon and evening; a whole number per interval. The incidents' call and arrival events come
 * from the simulated device (simulators/incidents.ts), not from this value.
 */
export function emergencyDispatch(ctx: ModelContext): Record<string, number> {
  const perHour = siteValue(ctx.seed, 1, 2, 12);
  const shape = 0.4 + 0.8 * bell(ctx.local.hour, 17, 4) + 0.3 * bell(ctx.local.hour, 23, 2);
  const calls = (perHour * shape * jitter(ctx, 121, 0.4) * ctx.intervalSec) / 3600;
  return { calls: clamp(Math.round(calls), 0, 10_000) };
}
