import type { Clock } from './clock.ts';

/**
 * Events over the last `windowSeconds` (default 10), from a ring of per-second counts: ingest's accepted
 * and refused rates, the alert engine's refusals of the last minute. Seconds come from the injected clock,
 * so a rate is testable with a ManualClock; slots of seconds nobody counted in are cleared lazily. Memory
 * and each call are O(window), whatever the rate.
 */
export class RateRing {
  private readonly slots: Float64Array;
  private second = 0;

  constructor(
    private readonly clock: Clock,
    private readonly windowSeconds = 10,
  ) {
    this.slots = new Float64Array(windowSeconds);
    this.second = Math.floor(clock.now() / 1000);
  }

  add(n = 1): void {
    this.advance();
    this.slots[this.second % this.windowSeconds]! += n;
  }

  /** Events in the window (the current second included). */
  total(): number {
    this.advance();
    let sum = 0;
    for (const n of this.slots) sum += n;
    return sum;
  }

  perSecond(): number {
    return this.total() / this.windowSeconds;
  }

  private advance(): void {
    const now = Math.floor(this.clock.now() / 1000);
    if (now <= this.second) return;
    const steps = Math.min(now - this.second, this.windowSeconds);
    for (let i = 1; i <= steps; i++) this.slots[(this.second + i) % this.windowSeconds] = 0;
    this.second = now;
  }
}
