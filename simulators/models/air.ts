import { battery } from './device-health.ts';
import type { ModelContext } from './model-context.ts';
import { bell, clamp, jitter, round, siteValue, winterness } from './model-context.ts';

/**
 * Urban air quality (µg/m³). Traffic pollutants (NO2, PM) peak with the morning and evening rush hours
 * and fall at night; PM is higher in winter (domestic heating, inversions). O3 is photochemical: it
 * peaks in the summer afternoon and is titrated away by NO at rush hours.
 */
export function airQualityStation(ctx: ModelContext): Record<string, number> {
  const { hour, weekend, dayOfYear } = ctx.local;
  // Site character: 0 = urban background, 1 = kerbside of a busy road.
  const traffic = siteValue(ctx.seed, 1, 0, 1);
  const rushScale = weekend ? 0.4 : 1;
  const rush = rushScale * (bell(hour, 8, 1.3) + 0.85 * bell(hour, 18, 1.8));
  const nightLow = 1 - 0.45 * bell(hour, 3.5, 2.2);
  const winter = winterness(dayOfYear);

  const pm25 = (7 + 5 * traffic) * (1 + 0.5 * winter) * (nightLow + 0.9 * rush) * jitter(ctx, 11, 0.12);
  const pm10 = pm25 * siteValue(ctx.seed, 2, 1.45, 1.9) * jitter(ctx, 12, 0.08);
  const no2 = (14 + 22 * traffic) * (nightLow + 1.3 * rush) * jitter(ctx, 13, 0.12);
  const so2 = siteValue(ctx.seed, 3, 1.5, 6) * (1 + 0.4 * winter) * jitter(ctx, 14, 0.2);
  const sun = (1 - 0.7 * winter) * bell(hour, 15, 3.2);
  const o3 = (18 + 85 * sun) * (1 - 0.35 * rush) * (1.1 - 0.3 * traffic) * jitter(ctx, 15, 0.1);

  return {
    pm25: round(clamp(pm25, 0, 1000), 1),
    pm10: round(clamp(pm10, 0, 2000), 1),
    no2: round(clamp(no2, 0, 2000), 1),
    so2: round(clamp(so2, 0, 2000), 1),
    o3: round(clamp(o3, 0, 1000), 1),
    battery: battery(ctx),
  };
}
