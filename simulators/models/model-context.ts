import { DateTime } from 'luxon';
import type { AttributeValue } from '../../core/ports/device-directory.ts';
import { gaussianAt, uniformAt } from '../prng.ts';

/** Calendar facts of an instant in the city's zone: the value models follow local hours, weekdays, seasons. */
export interface LocalTime {
  /** Fractional local hour, 0 ≤ h < 24 (07:30 → 7.5). */
  hour: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  weekend: boolean;
  /** 1 … 366 */
  dayOfYear: number;
  /** Days since the Unix epoch in local time: a key for noise that stays fixed over one day. */
  dayNumber: number;
}

/** What a value model is given: everything it may depend on, so that the result is a pure function. */
export interface ModelContext {
  /** Per-device seed: fixes the device's site character (a busy street, a quiet suburb...). */
  seed: number;
  /** Reading time, epoch ms. */
  ts: number;
  local: LocalTime;
  /** Nominal seconds the reading covers (the kind's interval): per-interval quantities scale with it. */
  intervalSec: number;
  attributes: Readonly<Record<string, AttributeValue>>;
  /** The supply is interrupted at this reading (electricity kinds report 0). */
  outage: boolean;
}

/** A value model: canonical-unit values for every metric of a kind. */
export type ValueModel = (ctx: ModelContext) => Record<string, number>;

const QUARTER_HOUR_MS = 900_000;

/**
 * Local calendar facts, cached per UTC quarter-hour (zone offsets are multiples of 15 minutes), because
 * luxon zone lookups cost microseconds and a fleet asks thousands of times a second. Bounded cache.
 */
export class LocalTimeSource {
  private readonly cache = new Map<number, { base: LocalTime; startMs: number }>();

  constructor(readonly zone: string) {}

  at(ts: number): LocalTime {
    const key = Math.floor(ts / QUARTER_HOUR_MS);
    let hit = this.cache.get(key);
    if (hit === undefined) {
      const startMs = key * QUARTER_HOUR_MS;
      const dt = DateTime.fromMillis(startMs, { zone: this.zone });
      if (!dt.isValid) throw new RangeError(`not an IANA time zone: ${this.zone}`);
      const localMidnightUtc = Date.UTC(dt.year, dt.month - 1, dt.day);
      hit = {
        startMs,
        base: {
          hour: dt.hour + dt.minute / 60,
          weekday: dt.weekday,
          weekend: dt.weekday >= 6,
          dayOfYear: dt.ordinal,
          dayNumber: Math.floor(localMidnightUtc / 86_400_000),
        },
      };
      if (this.cache.size >= 4096) this.cache.clear();
      this.cache.set(key, hit);
    }
    return { ...hit.base, hour: hit.base.hour + (ts - hit.startMs) / 3_600_000 };
  }
}

// ---- small curve helpers shared by the domain models -------------------------------------------------

/** A bell around `centre` (hours, wrapping at 24) with width `sd` hours; 1 at the centre. */
export function bell(hour: number, centre: number, sd: number): number {
  let d = Math.abs(hour - centre);
  if (d > 12) d = 24 - d;
  return Math.exp(-(d * d) / (2 * sd * sd));
}

/** 1 in midwinter (mid-January), 0 in midsummer, northern hemisphere. */
export function winterness(dayOfYear: number): number {
  return (1 + Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365)) / 2;
}

/** Outdoor air temperature, °C: a temperate-city climate with a daily swing (coldest at dawn). */
export function outdoorTemperature(local: LocalTime, seed: number): number {
  const seasonal = 20 - 19 * winterness(local.dayOfYear);
  const daily = 4 * Math.cos((2 * Math.PI * (local.hour - 15)) / 24);
  const weather = 3 * gaussianAt(seed, 77, local.dayNumber);
  return seasonal + daily + weather;
}

/** Hours of daylight (8 in midwinter, 16 in midsummer) and the sunrise/sunset hours around 12:30. */
export function daylight(dayOfYear: number): { sunrise: number; sunset: number } {
  const length = 12 - 4 * Math.cos((2 * Math.PI * (dayOfYear - 172 + 182.5)) / 365);
  return { sunrise: 12.5 - length / 2, sunset: 12.5 + length / 2 };
}

/** Multiplicative noise around 1 with relative standard deviation `rel`, never negative. */
export function jitter(ctx: ModelContext, key: number, rel: number): number {
  return Math.max(0, 1 + rel * gaussianAt(ctx.seed, key, Math.floor(ctx.ts / 1000)));
}

/** A fixed per-device number in [min, max): the device's site character. */
export function siteValue(seed: number, key: number, min: number, max: number): number {
  return min + (max - min) * uniformAt(seed, 1_000_003, key);
}

export const clamp = (v: number, min: number, max: number): number => Math.min(max, Math.max(min, v));
export const round = (v: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
};

export function numberAttr(
  attrs: Readonly<Record<string, AttributeValue>>,
  name: string,
  fallback: number,
): number {
  const v = attrs[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function boolAttr(
  attrs: Readonly<Record<string, AttributeValue>>,
  name: string,
  fallback: boolean,
): boolean {
  const v = attrs[name];
  return typeof v === 'boolean' ? v : fallback;
}
