import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { RETENTION_INTERVAL_MS } from '../../platform.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Series retention runs on the platform's clock: moved by hand, the hourly prune runs when the clock
 * reaches its time, and drops the minute buckets older than RETENTION_MINUTE_DAYS while the hour tier
 * keeps them.
 */

const T0 = Date.parse('2026-03-02T10:00:00Z');
const DAY = 86_400_000;
const MINUTE_DAYS = 14;

describe('series retention on the platform clock', () => {
  let t: TestPlatform;
  const clock = new ManualClock(T0);
  let deviceId = '';

  beforeAll(async () => {
    t = await startTestPlatform({ retentionMinuteDays: MINUTE_DAYS }, clock);
    deviceId = (await t.provision('noise-monitor', 'centre', {}, new Date(T0 - DAY).toISOString())).id;
    await t.platform.store.write([
      { deviceId, kind: 'noise-monitor', district: 'centre', metric: 'laeq', ts: T0 - 60_000, value: 55 },
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const buckets = async (step: 'minute' | 'hour') =>
    (
      await t.platform.store.query({
        scope: { device: deviceId },
        metric: 'laeq',
        from: T0 - DAY,
        to: T0 + DAY,
        step,
      })
    ).length;

  it('prunes at the hour the clock reaches after the retention has passed, not before', async () => {
    // The first hourly run sees a reading an hour old: nothing to drop. The clock then stops 1 ms short of
    // a run that would find the reading past minute retention.
    const lastQuietRun = T0 + Math.floor((MINUTE_DAYS * DAY) / RETENTION_INTERVAL_MS) * RETENTION_INTERVAL_MS;
    clock.set(lastQuietRun + RETENTION_INTERVAL_MS - 1);
    // The store's writer takes requests in order: once a later write is in, any prune asked before is done.
    await t.platform.store.write([
      { deviceId, kind: 'noise-monitor', district: 'centre', metric: 'laeq', ts: T0 + 2 * DAY, value: 50 },
    ]);
    expect(await buckets('minute')).toBe(1);
    // At the next run, now − 14 days is past the reading's minute.
    clock.set(lastQuietRun + RETENTION_INTERVAL_MS);
    await expect.poll(() => buckets('minute'), { timeout: 5_000 }).toBe(0);
    expect(await buckets('hour')).toBe(1);
  });
});
