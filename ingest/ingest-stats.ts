import type { StoreHealth } from '../core/ports/series-store.ts';

export interface IngestStats {
  accepted: { messages: number; readings: number; values: number };
  refused: { total: number; byReason: Record<string, number> };
  stored: { inserted: number; duplicates: number; revisions: number };
  /** Per second, over the last 10 s. */
  rates: { acceptedPerSec: number; refusedPerSec: number };
  /** Values in the durable log not yet in the series store. */
  backlog: number;
  /** Of the recent series-store writes (ms). */
  storeLatencyMs: { p50: number; p99: number };
  store: StoreHealth;
}

/** The last `size` latencies, for p50/p99 on demand (sorting a copy only when stats are asked for). */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(size = 256) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  percentiles(): { p50: number; p99: number } {
    if (this.count === 0) return { p50: 0, p99: 0 };
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (q: number) => sorted[Math.min(this.count - 1, Math.ceil(q * this.count) - 1)]!;
    return { p50: at(0.5), p99: at(0.99) };
  }
}
