import type { ModelContext } from './model-context.ts';
import { clamp, jitter, round, siteValue } from './model-context.ts';

/**
 * Weighbridge: tonnes weighed in per interval. Collection vehicles arrive while the facility is open,
 * 06:00–18:00 Monday to Saturday, busiest mid-morning after the first rounds; nothing is weighed when it is
 * closed. A facility takes 40–600 t a day (a recycling centre to a regional landfill).
 */
export function weighbridge(ctx: ModelContext): Record<string, number> {
  const { hour, weekday } = ctx.local;
  const open = weekday <= 6 && hour >= 6 && hour < 18;
  if (!open) return { tonnage: 0 };
  const tonnesPerDay = siteValue(ctx.seed, 1, 40, 600);
  // 12 open hours, mornings weigh 1.3×, afternoons 0.7×: the mean over the day stays tonnesPerDay / 12.
  const shape = hour < 12 ? 1.3 : 0.7;
  const tonnes = ((tonnesPerDay / 12) * shape * jitter(ctx, 101, 0.3) * ctx.intervalSec) / 3600;
  return { tonnage: round(clamp(tonnes, 0, 10_000), 3) };
}
