import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import { RateRing } from './rate-ring.ts';

describe('rate ring', () => {
  it('is the mean per second over its window, and forgets what left the window', () => {
    const clock = new ManualClock(Date.parse('2026-11-12T08:00:00Z'));
    const ring = new RateRing(clock);
    ring.add(30);
    clock.advance(4_000);
    ring.add(20);
    expect(ring.total()).toBe(50);
    expect(ring.perSecond()).toBe(5);
    clock.advance(6_000); // the first second left the 10 s window
    expect(ring.total()).toBe(20);
    clock.advance(3_600_000);
    expect(ring.perSecond()).toBe(0);
  });
});
