import { battery } from './device-health.ts';
import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, round, siteValue } from './model-context.ts';

/**
 * Environmental noise, LAeq per interval in dB(A): ~40–48 at night, ~60 by day, ~68–72 at a busy
 * street's rush hours (EU END day/night indicators are computed from these by the platform). A monitor
 * marked `roadside` sits by a main road (Lden about 60–66 dB); `roadside: false` in a residential
 * background (Lden about 45–53 dB, under the EU 55 dB); unmarked, somewhere between.
 */
export function noiseMonitor(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const roadside = ctx.attributes.roadside;
  const street =
    roadside === true
      ? siteValue(ctx.seed, 1, 0, 5)
      : roadside === false
        ? siteValue(ctx.seed, 1, -16, -8)
        : siteValue(ctx.seed, 1, -6, 4);
  const night = bell(hour, 3.5, 2.5);
  const rush = (weekend ? 0.3 : 1) * (bell(hour, 8, 1.3) + bell(hour, 17.5, 1.7));
  const dayLevel = 59 + (hour >= 7 && hour < 22 ? 2 : 0);
  const level = dayLevel - 16 * night + 9 * Math.min(rush, 1) + street;
  // Loudness fluctuates in dB, not multiplicatively: jitter of ±2 dB around the level.
  const laeq = level + 20 * (jitter(ctx, 21, 0.1) - 1);
  return { laeq: round(clamp(laeq, 25, 110), 1), battery: battery(ctx) };
}
