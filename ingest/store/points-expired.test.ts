import { describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { pt, utc } from '../../test/contracts/series-store-fixtures.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { openSeriesStore } from './open-series-store.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';
import { sqliteStoreOptions } from './sqlite-store-fixture.ts';

const DAY = 86_400_000;
const NOW = utc('2026-03-01T12:00');
const RETENTION = { rawDays: 2, minuteDays: 3, hourDays: 5, dayDays: 30 };

async function expiredTotal(telemetry: ReturnType<typeof createTelemetry>): Promise<number> {
  const metric = await telemetry.pointsExpired.get();
  return metric.values[0]?.value ?? 0;
}

// A point past the raw horizon has already been acknowledged upstream: dropping it must show on /metrics.
describe('points older than raw retention are counted', () => {
  it('the store the configuration opens moves citymetrics_points_expired_total', async () => {
    const dir = makeTempDir('points-expired-');
    onTestFinished(() => dir.remove());
    const config = testConfig({
      dataDir: dir.path,
      ingestLateWindowMs: DAY,
      retentionRawDays: RETENTION.rawDays,
      retentionMinuteDays: RETENTION.minuteDays,
      retentionHourDays: RETENTION.hourDays,
      retentionDayDays: RETENTION.dayDays,
    });
    const telemetry = createTelemetry();
    const store = await openSeriesStore({
      config,
      calendar: new CityCalendar('Europe/Paris'),
      clock: new ManualClock(NOW),
      logger: silentLogger(),
      telemetry,
    });
    onTestFinished(() => store.close());
    await store.write([pt('aq-1', 'pm25', NOW - 4 * DAY, 1), pt('aq-1', 'pm25', NOW - DAY, 2)]);
    await store.prune(NOW);
    expect(await expiredTotal(telemetry)).toBe(0);

    const outcome = await store.write([
      pt('aq-1', 'pm25', NOW - 4 * DAY, 3),
      pt('aq-1', 'pm25', NOW - 5 * DAY, 4),
      pt('aq-1', 'pm25', NOW - 0.5 * DAY, 5),
    ]);
    expect(outcome.inserted).toBe(1);
    expect(await expiredTotal(telemetry)).toBe(2);
  });

  it('the in-process store reports the expired count to its caller', async () => {
    const dir = makeTempDir('points-expired-');
    onTestFinished(() => dir.remove());
    const reported: number[] = [];
    const store = SqliteSeriesStore.open(
      sqliteStoreOptions(dir.file('series.db'), {
        retention: RETENTION,
        clock: new ManualClock(NOW),
        onExpired: (count) => reported.push(count),
      }),
    );
    onTestFinished(() => store.close());
    await store.write([pt('aq-1', 'pm25', NOW - 4 * DAY, 1)]);
    await store.prune(NOW);
    await store.write([pt('aq-1', 'pm25', NOW - 4 * DAY, 2), pt('aq-1', 'pm25', NOW - DAY, 3)]);
    expect(reported).toEqual([1]);
  });
});
