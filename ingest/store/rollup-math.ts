import type { Bucket } from '../../core/ports/series-store.ts';

/**
 * A mergeable aggregate. Merging is associative and commutative, so deltas can be applied in any order and
 * give what a recomputation gives. Ties on first/last timestamps (two devices of one district reporting the
 * same instant) go to the smaller first value and the larger last value, so the result does not depend on
 * arrival order. The SQL upsert in rollup-tables.ts applies the same rules.
 */
export interface Agg {
  count: number;
  sum: number;
  min: number;
  max: number;
  firstTs: number;
  first: number;
  lastTs: number;
  last: number;
}

export function aggOf(ts: number, value: number): Agg {
  return { count: 1, sum: value, min: value, max: value, firstTs: ts, first: value, lastTs: ts, last: value };
}

export function addPoint(agg: Agg, ts: number, value: number): void {
  agg.count += 1;
  agg.sum += value;
  if (value < agg.min) agg.min = value;
  if (value > agg.max) agg.max = value;
  if (ts < agg.firstTs || (ts === agg.firstTs && value < agg.first)) {
    agg.firstTs = ts;
    agg.first = value;
  }
  if (ts > agg.lastTs || (ts === agg.lastTs && value > agg.last)) {
    agg.lastTs = ts;
    agg.last = value;
  }
}

export function mergeInto(target: Agg, other: Agg): void {
  target.count += other.count;
  target.sum += other.sum;
  if (other.min < target.min) target.min = other.min;
  if (other.max > target.max) target.max = other.max;
  if (other.firstTs < target.firstTs || (other.firstTs === target.firstTs && other.first < target.first)) {
    target.firstTs = other.firstTs;
    target.first = other.first;
  }
  if (other.lastTs > target.lastTs || (other.lastTs === target.lastTs && other.last > target.last)) {
    target.lastTs = other.lastTs;
    target.last = other.last;
  }
}

/** Merges aggregates into a new one; undefined when there is none. */
export function mergeAll(aggs: Iterable<Agg>): Agg | undefined {
  let out: Agg | undefined;
  for (const a of aggs) {
    if (out === undefined) out = { ...a };
    else mergeInto(out, a);
  }
  return out;
}

export function toBucket(t: number, a: Agg): Bucket {
  return {
    t,
    count: a.count,
    sum: a.sum,
    min: a.min,
    max: a.max,
    mean: a.sum / a.count,
    firstTs: a.firstTs,
    first: a.first,
    lastTs: a.lastTs,
    last: a.last,
  };
}
