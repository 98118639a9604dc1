import { gaussianAt, uniformAt } from '../prng.ts';
import type { ModelContext } from './model-context.ts';
import { clamp, round } from './model-context.ts';

const DAY_MS = 86_400_000;

/**
 * Battery: drains slowly and linearly from 100 % to 5 % over the device's battery life (120–365 days),
 * then the battery is swapped. Each device starts its cycle at its own phase, so a fleet shows a spread.
 */
export function battery(ctx: ModelContext): number {
  const lifeDays = 120 + 245 * uniformAt(ctx.seed, 9001);
  const phase = uniformAt(ctx.seed, 9002);
  const cycle = ctx.ts / (lifeDays * DAY_MS) + phase;
  const used = cycle - Math.floor(cycle);
  return round(clamp(100 - 95 * used, 0, 100), 1);
}

/** Radio signal strength: a fixed site level (−65 to −105 dBm) with a few dB of fading noise. */
export function rssi(ctx: ModelContext): number {
  const site = -65 - 40 * uniformAt(ctx.seed, 9003);
  const fading = 3 * gaussianAt(ctx.seed, 9004, Math.floor(ctx.ts / 1000));
  return Math.round(clamp(site + fading, -140, 0));
}
