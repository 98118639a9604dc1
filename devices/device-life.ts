import { z } from 'zod';
import type { DeviceKind } from '../core/device-kind.ts';
import { CityError } from '../core/errors.ts';
import type { DeviceLife } from '../core/ports/registry-persistence.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';

/**
 * A device's installed interval [installedAt, removedAt): the one rule every reader of devices applies.
 * Ingest refuses a reading stamped outside it; a period's device set is every device whose interval
 * overlaps the period, and a device owes readings only for the overlap.
 */

/** 2000-01-01T00:00:00Z, the earliest reading ingest accepts: an interval starting before it is a typo. */
const EARLIEST = 946_684_800_000;

/**
 * An instant of the interval: ISO-8601 with a zone (`2026-10-01T00:00:00+02:00`) or epoch ms, as epoch
 * ms. Both forms, so that what the API parsed parses again to the same in the registry.
 */
export const lifeInstantSchema = z
  .union([z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.number().int()])
  .refine((ms) => ms >= EARLIEST, { message: 'must be 2000-01-01 or later' });

/** True when `ts` falls inside the installed interval. */
export const isInstalledAt = (life: DeviceLife, ts: number): boolean =>
  ts >= life.installedAt && (life.removedAt === null || ts < life.removedAt);

/** The part of [start, end) inside the interval, or null when they do not overlap. */
export function overlap(
  life: DeviceLife,
  range: { start: number; end: number },
): { start: number; end: number } | null {
  const start = Math.max(range.start, life.installedAt);
  const end = life.removedAt === null ? range.end : Math.min(range.end, life.removedAt);
  return end > start ? { start, end } : null;
}

/** API_VALIDATION on `removedAt` when the interval is empty or reversed. */
export function checkLife(life: DeviceLife): void {
  if (life.removedAt !== null && life.removedAt <= life.installedAt)
    throw new CityError(
      'API_VALIDATION',
      `removedAt ${new Date(life.removedAt).toISOString()} must be after installedAt ${new Date(life.installedAt).toISOString()}`,
      { field: 'removedAt' },
    );
}

/** `[from, to)` of `before` that `after` leaves out (at most two stretches); to is null for "no end". */
export function excludedRanges(
  before: DeviceLife,
  after: DeviceLife,
): Array<{ from: number; to: number | null }> {
  const out: Array<{ from: number; to: number | null }> = [];
  const beforeEnd = before.removedAt;
  if (after.installedAt > before.installedAt) {
    const to = beforeEnd === null ? after.installedAt : Math.min(after.installedAt, beforeEnd);
    if (to > before.installedAt) out.push({ from: before.installedAt, to });
  }
  if (after.removedAt !== null && (beforeEnd === null || after.removedAt < beforeEnd)) {
    const from = Math.max(after.removedAt, before.installedAt);
    if (beforeEnd === null || beforeEnd > from) out.push({ from, to: beforeEnd });
  }
  return out;
}

/** Far enough: no stored reading is later (ingest refuses readings stamped far ahead of their arrival). */
const NO_END = Date.parse('2100-01-01T00:00:00Z');

/**
 * How many stored readings of a device fall in the stretches (every metric of its kind): what a change of
 * its interval would leave outside it.
 */
export async function storedReadingsIn(
  store: Pick<SeriesStore, 'aggregate'>,
  kind: Pick<DeviceKind, 'metrics'>,
  deviceId: string,
  ranges: ReadonlyArray<{ from: number; to: number | null }>,
): Promise<number> {
  let n = 0;
  for (const r of ranges)
    for (const m of kind.metrics) {
      const b = await store.aggregate({
        scope: { device: deviceId },
        metric: m.name,
        from: r.from,
        to: r.to ?? NO_END,
      });
      n += b?.count ?? 0;
    }
  return n;
}

const iso = (ms: number | null): string => (ms === null ? 'open' : new Date(ms).toISOString());

/** "[2026-10-01T00:00:00.000Z, open)": how messages write an interval. */
export const describeLife = (life: DeviceLife): string =>
  `[${iso(life.installedAt)}, ${iso(life.removedAt)})`;
