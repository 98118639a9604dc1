import { gaussianAt } from '../prng.ts';
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

/**
 * Mobile broadband probe: a site level per layer (4G RSRP −75 to −120 dBm, 3G RSCP −70 to −112 dBm) with a
 * few dB of fading; one site in five has no 3G left (networks switching it off) and reports the floor,
 * −140 dBm. Throughput follows the 4G signal and drops in the busy evening.
 */
export function broadbandProbe(ctx: ModelContext): Record<string, number> {
  const fading = (key: number) => 3 * gaussianAt(ctx.seed, key, Math.floor(ctx.ts / 1000));
  const rsrp = siteValue(ctx.seed, 1, -120, -75) + fading(131);
  const has3g = siteValue(ctx.seed, 2, 0, 1) >= 0.2;
  const rscp = has3g ? siteValue(ctx.seed, 3, -112, -70) + fading(132) : -140;
  const quality = clamp((rsrp + 125) / 50, 0, 1);
  const load = 1 - 0.4 * bell(ctx.local.hour, 20, 2.5);
  const throughput = 150 * quality * load * jitter(ctx, 133, 0.2);
  return {
    samples: Math.max(1, Math.round(ctx.intervalSec / 10)),
    rsrp: round(clamp(rsrp, -156, -31), 1),
    rscp: round(clamp(rscp, -140, -20), 1),
    throughput: round(clamp(throughput, 0, 10_000), 2),
  };
}
