/**
 * A bounded latency histogram (ms): 0.1 ms buckets below 100 ms, 1 ms buckets up to 10 s, one overflow
 * bucket. Fixed memory whatever the rate, mergeable, and small on the IPC wire (only non-empty buckets).
 */
const FINE_LIMIT_MS = 100;
const FINE_STEP_MS = 0.1;
const COARSE_LIMIT_MS = 10_000;
const FINE_BUCKETS = FINE_LIMIT_MS / FINE_STEP_MS;
const BUCKETS = FINE_BUCKETS + (COARSE_LIMIT_MS - FINE_LIMIT_MS) + 1;

export type HistogramWire = Array<[number, number]>;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  record(ms: number): void {
    if (!(ms >= 0)) ms = 0; // clock granularity can make a latency slightly negative
    const idx =
      ms < FINE_LIMIT_MS
        ? Math.floor(ms / FINE_STEP_MS)
        : ms < COARSE_LIMIT_MS
          ? FINE_BUCKETS + Math.floor(ms - FINE_LIMIT_MS)
          : BUCKETS - 1;
    this.counts[idx]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Lower bound of the bucket holding the q-quantile (0..1): 0.1 ms steps below 100 ms, 1 ms above; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const lower = i < FINE_BUCKETS ? i * FINE_STEP_MS : FINE_LIMIT_MS + (i - FINE_BUCKETS);
        return Math.round(Math.min(lower, this.max) * 10) / 10;
      }
    }
    return this.max;
  }

  toWire(): HistogramWire {
    const out: HistogramWire = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) out.push([i, this.counts[i]!]);
    out.push([-1, this.max]);
    return out;
  }

  static fromWire(wire: HistogramWire): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [i, n] of wire) {
      if (i === -1) h.max = n;
      else {
        h.counts[i] = n;
        h.count += n;
      }
    }
    return h;
  }
}
