import type { Clock } from '../core/clock.ts';
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

const RATE_WINDOW_S = 10;

/**
 * Events per second over the last 10 s, from a ring of per-second counts. Seconds come from the injected
 * clock, so the rate is testable with a ManualClock; slots of seconds nobody counted in are cleared lazily.
 */
export class RateRing {
  private readonly slots = new Float64Array(RATE_WINDOW_S);
  private second = 0;

  constructor(private readonly clock: Clock) {
    this.second = Math.floor(clock.now() / 1000);
  }

  add(n: number): void {
    this.advance();
    this.slots[this.second % RATE_WINDOW_S]! += n;
  }

  perSecond(): number {
    this.advance();
    let sum = 0;
    for (const n of this.slots) sum += n;
    return sum / RATE_WINDOW_S;
  }

  private advance(): void {
    const now = Math.floor(this.clock.now() / 1000);
    if (now <= this.second) return;
    const steps = Math.min(now - this.second, RATE_WINDOW_S);
    for (let i = 1; i <= steps; i++) this.slots[(this.second + i) % RATE_WINDOW_S] = 0;
    this.second = now;
  }
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
