import { battery } from './device-health.ts';
import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, round, siteValue } from './model-context.ts';

/**
 * RF electric field, V/m: typically 0.1–2 V/m in cities, far below the ICNIRP reference levels (28–61 V/m);
 * mobile traffic raises it a little by day.
 */
export function emfProbe(ctx: ModelContext): Record<string, number> {
  const base = siteValue(ctx.seed, 1, 0.15, 1.6);
  const daytime = 1 + 0.3 * bell(ctx.local.hour, 14, 4.5);
  return { efield: round(clamp(base * daytime * jitter(ctx, 61, 0.08), 0, 1000), 3), battery: battery(ctx) };
}
