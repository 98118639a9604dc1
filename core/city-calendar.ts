import { DateTime, IANAZone } from 'luxon';
import type { Step } from './ports/series-store.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A bucket the calendar can start: a query step, or the local month (the series store's coarsest tier). */
export type CalendarBucket = Step | 'month';

export const isValidTimeZone = (zone: string): boolean => IANAZone.isValidZone(zone);

/**
 * Calendar arithmetic in the city's IANA time zone. Days and months are local calendar periods, so a day
 * may last 23 or 25 hours (DST). Bucket starts are cached per UTC hour: the hot path asks for every value,
 * and a zone offset only changes on (at least) 15-minute boundaries, at most a few times a year.
 */
export class CityCalendar {
  readonly zone: string;
  private readonly hourCache = new Map<number, { hourStart: number; dayStart: number; monthStart: number }>();

  constructor(zone: string) {
    if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${zone}`);
    this.zone = zone;
  }

  /** Start (epoch ms) of the minute, local hour, local day or local month holding `ts`. */
  bucketStart(ts: number, step: CalendarBucket): number {
    if (step === 'minute') return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
    const starts = this.startsFor(ts);
    return step === 'hour' ? starts.hourStart : step === 'day' ? starts.dayStart : starts.monthStart;
  }

  /** Start of the bucket after the one holding `ts`. */
  nextBucketStart(ts: number, step: CalendarBucket): number {
    const start = this.bucketStart(ts, step);
    if (step === 'minute') return start + MINUTE_MS;
    const unit = step === 'hour' ? 'hours' : step === 'day' ? 'days' : 'months';
    return DateTime.fromMillis(start, { zone: this.zone })
      .plus({ [unit]: 1 })
      .toMillis();
  }

  /** [start, end) of the local calendar month, e.g. monthRange(2026, 3). */
  monthRange(year: number, month: number): { start: number; end: number } {
    const start = DateTime.fromObject({ year, month, day: 1 }, { zone: this.zone });
    return { start: start.toMillis(), end: start.plus({ months: 1 }).toMillis() };
  }

  /** [start, end) of the local calendar year. */
  yearRange(year: number): { start: number; end: number } {
    const start = DateTime.fromObject({ year, month: 1, day: 1 }, { zone: this.zone });
    return { start: start.toMillis(), end: start.plus({ years: 1 }).toMillis() };
  }

  /** Local calendar fields of an instant. */
  local(ts: number): DateTime {
    return DateTime.fromMillis(ts, { zone: this.zone });
  }

  private startsFor(ts: number): { hourStart: number; dayStart: number; monthStart: number } {
    // Offsets in use are multiples of 15 minutes, so cache by UTC quarter-hour.
    const key = Math.floor(ts / (HOUR_MS / 4));
    let hit = this.hourCache.get(key);
    if (hit === undefined) {
      const local = DateTime.fromMillis(key * (HOUR_MS / 4), { zone: this.zone });
      hit = {
        hourStart: local.startOf('hour').toMillis(),
        dayStart: local.startOf('day').toMillis(),
        monthStart: local.startOf('month').toMillis(),
      };
      if (this.hourCache.size > 50_000) this.hourCache.clear();
      this.hourCache.set(key, hit);
    }
    return hit;
  }
}
