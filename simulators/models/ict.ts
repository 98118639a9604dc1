import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, round, siteValue } from './model-context.ts';

/**
 * Public Wi-Fi hotspot: associated clients follow the use of a public place (lunchtime and the evening
 * walk, busier at weekends), a few at night; each client moves 0.2–1 MB a minute.
 */
export function wifiHotspot(ctx: ModelContext): Record<string, number> {
  const { hour, weekend } = ctx.local;
  const peakClients = siteValue(ctx.seed, 1, 5, 120);
  const shape =
    0.03 + 0.7 * bell(hour, 13, 2) + 0.9 * bell(hour, 18, 2.5) + (weekend ? 0.3 * bell(hour, 15, 3) : 0);
  const clients = peakClients * Math.min(1, shape) * jitter(ctx, 111, 0.2);
  const mbPerClientMinute = siteValue(ctx.seed, 2, 0.2, 1);
  const traffic = (clients * mbPerClientMinute * ctx.intervalSec) / 60;
  return { clients: round(clamp(clients, 0, 5000), 1), traffic: round(clamp(traffic, 0, 1_000_000), 2) };
}
