import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { RefusedLastMinute } from './refused-spike.ts';
import { storeBacklogOf } from './store-backlog.ts';

describe('refused spike', () => {
  it('counts the refusals of the last minute, by the clock, forgetting each second once it is a minute old', () => {
    const clock = new ManualClock(Date.parse('2026-11-12T08:00:00.500Z'));
    const refused = new RefusedLastMinute(clock);
    refused.add(5);
    clock.advance(30_000);
    refused.add();
    refused.add(2);
    expect(refused.count()).toBe(8);
    clock.advance(29_000); // 59 s after the first five
    expect(refused.count()).toBe(8);
    clock.advance(1_000); // the first second is a minute old
    expect(refused.count()).toBe(3);
    clock.advance(10 * 60_000); // long quiet: nothing left, whatever was skipped
    expect(refused.count()).toBe(0);
  });
});

describe('store backlog', () => {
  it('is what ingest reports, and 0 where nothing is held (a kpi node) or the figure is not a number', () => {
    expect(storeBacklogOf({ stats: () => ({ backlog: 1_234 }) })).toBe(1_234);
    expect(storeBacklogOf({ stats: () => ({}) })).toBe(0);
    expect(storeBacklogOf({ stats: () => ({ backlog: Number.NaN }) })).toBe(0);
  });
});
