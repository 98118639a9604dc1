import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { testConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { PlatformEvents } from '../core/platform-events.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { SqliteSeriesStore } from '../ingest/store/sqlite-series-store.ts';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { buildKpis, type Kpis } from './build-kpis.ts';
import { closesAt } from './kpi-status.ts';
import { monthPeriod } from './periods.ts';

const ZONE = 'Europe/Paris';
const FEB_1 = Date.parse('2026-01-31T23:00:00Z'); // 1 February 00:00 in Paris
const MARCH_2 = Date.parse('2026-03-02T11:00:00Z');
const GRACE_DAYS = 3;
const CHECK_MS = 60_000;

/** The scheduler runs on the injected clock: a month closes when the clock passes its grace period. */
describe('month close scheduler', () => {
  let dir: TempDir;
  let clock: ManualClock;
  let registry: DeviceRegistry;
  let store: SeriesStore;
  let kpis: Kpis;

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-month-close-');
    clock = new ManualClock(FEB_1);
    const calendar = new CityCalendar(ZONE);
    const logger = silentLogger();
    registry = DeviceRegistry.open({ dataDir: dir.path, kinds: new KindCatalogue(), clock, logger });
    store = SqliteSeriesStore.open({
      file: dir.file('series.db'),
      calendar,
      retention: { rawDays: 400, minuteDays: 400, hourDays: 400, dayDays: 4000 },
      logger,
    });
    kpis = buildKpis(
      {
        config: testConfig({ dataDir: dir.path, cityTimezone: ZONE, kpiCloseGraceDays: GRACE_DAYS }),
        store,
        devices: registry,
        ingest: { queryEvents: () => [] },
        calendar,
        events: new PlatformEvents(),
        clock,
        logger,
      },
      { closeCheckIntervalMs: CHECK_MS },
    );
    // installed on 1 February: February is owed a roll-up
    await registry.provision({
      kind: 'noise-monitor',
      district: 'centre',
      attributes: { residentsExposed: 10 },
    });
  });

  afterEach(async () => {
    await kpis.close();
    await store.close();
    registry.close();
    dir.remove();
  });

  it('closes February at the first check after its grace period, and not before', async () => {
    const due = closesAt(new CityCalendar(ZONE), monthPeriod(new CityCalendar(ZONE), '2026-02'), GRACE_DAYS);
    clock.set(MARCH_2);
    await kpis.start();
    expect(kpis.monthClose.dueMonths()).toEqual([]);

    clock.set(due - 1);
    await kpis.monthClose.tick(); // waits for the checks the move ran
    expect(kpis.kpiStore.latestRollup('2026-02')).toBeNull();

    clock.advance(CHECK_MS);
    await kpis.monthClose.stop(); // waits for the check that ran
    const closed = kpis.kpiStore.latestRollup('2026-02');
    expect(closed).toMatchObject({ version: 1, closedBy: 'scheduler' });
    expect(closed!.closedAt).toBeGreaterThanOrEqual(due);
  });

  it('stops checking once stopped', async () => {
    clock.set(MARCH_2);
    await kpis.start();
    await kpis.monthClose.stop();
    clock.advance(10 * 86_400_000);
    await kpis.monthClose.stop();
    expect(kpis.kpiStore.latestRollup('2026-02')).toBeNull();
  });
});
