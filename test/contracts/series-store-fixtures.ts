import { onTestFinished } from 'vitest';
import type { Bucket, SeriesPoint, SeriesStore } from '../../core/ports/series-store.ts';

/** How a contract suite gets a fresh, empty store whose calendar is in `calendarZone`. */
export type OpenStore = (
  calendarZone: string,
) => Promise<{ store: SeriesStore; cleanup: () => Promise<void> }>;

/** Opens a fresh store for the running test and closes it when the test ends, pass or fail. */
export async function storeFor(open: OpenStore, zone = 'Europe/Paris'): Promise<SeriesStore> {
  const { store, cleanup } = await open(zone);
  onTestFinished(async () => {
    await store.close();
    await cleanup();
  });
  return store;
}

/** Epoch ms of a UTC instant written out in full, so expected bucket starts never go through our calendar. */
export const utc = (iso: string): number => {
  const ms = Date.parse(iso.endsWith('Z') ? iso : `${iso}Z`);
  if (Number.isNaN(ms)) throw new Error(`bad instant ${iso}`);
  return ms;
};

export function pt(
  deviceId: string,
  metric: string,
  ts: number,
  value: number,
  district = 'north',
  kind = 'air-quality',
): SeriesPoint {
  return { deviceId, kind, district, metric, ts, value };
}

/** The aggregate of raw (ts, value) pairs, computed directly: the independent answer stores are held to. */
export function expectedAgg(points: ReadonlyArray<{ ts: number; value: number }>): Omit<Bucket, 't'> | null {
  if (points.length === 0) return null;
  const sorted = [...points].sort((a, b) => a.ts - b.ts);
  const values = sorted.map((p) => p.value);
  const sum = values.reduce((a, b) => a + b, 0);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  return {
    count: values.length,
    sum,
    min: Math.min(...values),
    max: Math.max(...values),
    mean: sum / values.length,
    firstTs: first.ts,
    first: first.value,
    lastTs: last.ts,
    last: last.value,
  };
}

/** Merges buckets the way the port defines it, for comparing aggregate() with query(). */
export function mergeBuckets(buckets: readonly Bucket[]): Omit<Bucket, 't'> | null {
  if (buckets.length === 0) return null;
  const first = buckets.reduce((a, b) => (b.firstTs < a.firstTs ? b : a));
  const last = buckets.reduce((a, b) => (b.lastTs > a.lastTs ? b : a));
  const count = buckets.reduce((n, b) => n + b.count, 0);
  const sum = buckets.reduce((n, b) => n + b.sum, 0);
  return {
    count,
    sum,
    min: Math.min(...buckets.map((b) => b.min)),
    max: Math.max(...buckets.map((b) => b.max)),
    mean: sum / count,
    firstTs: first.firstTs,
    first: first.first,
    lastTs: last.lastTs,
    last: last.last,
  };
}

/** A bucket without `t`, for comparing with expectedAgg / mergeBuckets. */
export const body = (b: Bucket | null | undefined): Omit<Bucket, 't'> | null => {
  if (b === null || b === undefined) return null;
  const { t: _t, ...rest } = b;
  return rest;
};
