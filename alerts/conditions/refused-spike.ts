import type { Clock } from '../../core/clock.ts';
import { RateRing } from '../../core/rate-ring.ts';

/**
 * Refused messages of the last minute, for the refused-spike rules: every refusal the platform announces
 * (its own, and in a cluster every edge's, from their heartbeats) counted in a one-minute ring.
 */
export class RefusedLastMinute {
  private readonly ring: RateRing;

  constructor(clock: Clock) {
    this.ring = new RateRing(clock, 60);
  }

  add(n = 1): void {
    this.ring.add(n);
  }

  count(): number {
    return this.ring.total();
  }
}
