import type { CityCalendar } from '../../core/city-calendar.ts';
import type { Step } from '../../core/ports/series-store.ts';
import type { Tier } from './sqlite-schema.ts';

export interface Segment<T extends Tier = Tier> {
  tier: T;
  /** inclusive bucket start */
  from: number;
  /** exclusive bucket start */
  to: number;
}

const FINER: Record<Tier, Tier | undefined> = {
  month: 'day',
  day: 'hour',
  hour: 'minute',
  minute: undefined,
};

function ceilTo(calendar: CityCalendar, ts: number, tier: Tier): number {
  const start = calendar.bucketStart(ts, tier);
  return start === ts ? ts : calendar.nextBucketStart(ts, tier);
}

/**
 * Splits [from, to) into the coarsest buckets that fit exactly: whole local months in the middle, whole
 * local days and hours next to them, minutes at the ragged edges. Every segment selects buckets whose
 * start lies in it, so the union selects exactly the minute buckets whose start lies in [from, to): the
 * same set query(step: 'minute') returns, and no bucket twice. The coarsest tier is the day unless one is
 * given: the embedded store also keeps months.
 */
export function planRange(calendar: CityCalendar, from: number, to: number): Array<Segment<Step>>;
export function planRange(calendar: CityCalendar, from: number, to: number, coarsest: Tier): Segment[];
export function planRange(calendar: CityCalendar, from: number, to: number, tier: Tier = 'day'): Segment[] {
  if (from >= to) return [];
  const finer = FINER[tier];
  if (finer === undefined) return [{ tier, from, to }];
  const a = ceilTo(calendar, from, tier);
  const b = calendar.bucketStart(to, tier);
  if (a >= b) return planRange(calendar, from, to, finer);
  return [
    ...planRange(calendar, from, a, finer),
    { tier, from: a, to: b },
    ...planRange(calendar, b, to, finer),
  ];
}
