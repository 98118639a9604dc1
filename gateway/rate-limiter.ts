import type { Clock } from '../core/clock.ts';

/**
 * Per-device token bucket: `ratePerSec` sustained, bursts up to twice that. One small object per device
 * that publishes, dropped when the device disconnects, so memory follows the connected fleet.
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly capacity: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly clock: Clock,
  ) {
    this.capacity = ratePerSec * 2;
  }

  /** True when the device may publish one more message now. */
  take(deviceId: string): boolean {
    const now = this.clock.now();
    let bucket = this.buckets.get(deviceId);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, updatedAt: now };
      this.buckets.set(deviceId, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1000) * this.ratePerSec;
      bucket.tokens = Math.min(this.capacity, bucket.tokens + refill);
      bucket.updatedAt = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  forget(deviceId: string): void {
    this.buckets.delete(deviceId);
  }
}
