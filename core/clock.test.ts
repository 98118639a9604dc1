import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';

describe('ManualClock timers', () => {
  it('runs what falls due on the way, in time order, each at its own due time', () => {
    const clock = new ManualClock(1_000);
    const ran: Array<[string, number]> = [];
    clock.setTimeout(() => ran.push(['b', clock.now()]), 200);
    clock.setTimeout(() => ran.push(['a', clock.now()]), 100);
    clock.setTimeout(() => ran.push(['c', clock.now()]), 300);
    clock.advance(250);
    expect(ran).toEqual([
      ['a', 1_100],
      ['b', 1_200],
    ]);
    expect(clock.now()).toBe(1_250);
    clock.advance(50);
    expect(ran.at(-1)).toEqual(['c', 1_300]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs an interval once per move however many periods it spans, then keeps its phase', () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.setInterval(() => ran.push(clock.now()), 60);
    clock.advance(60);
    clock.advance(60);
    clock.set(10_000);
    clock.advance(20); // 10 020: the next is at 10 020
    expect(ran).toEqual([60, 120, 180, 10_020]);
  });

  it('runs nothing cancelled, and nothing when moved back', () => {
    const clock = new ManualClock(500);
    let runs = 0;
    const t = clock.setTimeout(() => runs++, 10);
    clock.setTimeout(() => runs++, 100);
    t.cancel();
    clock.set(0);
    expect(runs).toBe(0);
    clock.set(600);
    expect(runs).toBe(1);
  });

  it('runs a timer that a timer sets when it falls due within the same move', () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => ran.push(clock.now()), 10), 10);
    clock.advance(30);
    expect(ran).toEqual([20]);
  });
});
