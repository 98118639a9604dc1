import type { Clock } from '../core/clock.ts';

/** How many idle buckets may pile up before a sweep drops the ones that have refilled. */
const SWEEP_EVERY_TAKES = 10_000;

/**
 * Per-device token bucket: `ratePerSec` sustained, bursts up to twice that. A bucket outlives the device's
 * connection (reconnecting must not refill it); a bucket that has refilled is equal to no bucket and is
 * swept, so memory follows the devices that published in the last two seconds or so.
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly capacity: number;
  private takesSinceSweep = 0;

  constructor(
    private readonly ratePerSec: number,
    private readonly clock: Clock,
  ) {
    this.capacity = ratePerSec * 2;
  }

  /** True when the device may send one more message now (a refusal takes no token). */
  take(deviceId: string): boolean {
    const bucket = this.refilled(deviceId);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * Reserves the device's next token and says how long to wait for it: 0 when one is there now. Tokens
   * reserved ahead go below zero, so messages held at once are released one interval apart, in order.
   */
  reserve(deviceId: string): number {
    const bucket = this.refilled(deviceId);
    bucket.tokens -= 1;
    return bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens / this.ratePerSec) * 1000);
  }

  private refilled(deviceId: string): { tokens: number; updatedAt: number } {
    const now = this.clock.now();
    if (++this.takesSinceSweep >= SWEEP_EVERY_TAKES) this.sweep(now);
    let bucket = this.buckets.get(deviceId);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, updatedAt: now };
      this.buckets.set(deviceId, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1000) * this.ratePerSec;
      bucket.tokens = Math.min(this.capacity, bucket.tokens + refill);
      bucket.updatedAt = now;
    }
    return bucket;
  }

  private sweep(now: number): void {
    this.takesSinceSweep = 0;
    for (const [id, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSec >= this.capacity)
        this.buckets.delete(id);
    }
  }

  /** Buckets kept now (for tests and memory accounting). */
  get size(): number {
    return this.buckets.size;
  }
}
