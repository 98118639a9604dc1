import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { PlatformEvents } from '../../core/platform-events.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { SqliteSeriesStore } from '../../ingest/store/sqlite-series-store.ts';
import type { TempDir } from '../../test/helpers/temp-dir.ts';
import { buildKpis, type Kpis } from '../build-kpis.ts';
import { packSourceOf } from './build-report-packs.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { ReportPacks } from './report-packs.ts';
import type { RetrySettings } from './retry-delivery.ts';
import { SqliteReportRecords } from './sqlite-report-records.ts';

/**
 * The KPI part as the platform builds it (real kpi.db, series store and registry in a temp dir), with a
 * manual value for February 2026 so the roll-up has figures, and report packs over it.
 */

export const ZONE = 'Europe/Paris';
export const ICT = 'EC: ICT: ICT: 1C';
const FEB_1 = Date.parse('2026-01-31T23:00:00Z');
const MARCH_20 = Date.parse('2026-03-20T12:00:00Z');
const analyst = { keyId: 'k1', name: 'analyst' };

export const FAST_RETRY: RetrySettings = { retries: 4, minDelayMs: 1, maxDelayMs: 4 };

export interface KpiFixture {
  kpis: Kpis;
  clock: ManualClock;
  events: PlatformEvents;
  /** closes February 2026 (version 1) */
  closeFebruary(): Promise<void>;
  /** a new manual value for February: a restatement (version 2) */
  restateFebruary(value: number): Promise<void>;
  packs(targets: readonly DeliveryTarget[], retry?: RetrySettings): ReportPacks;
  close(): Promise<void>;
}

export async function kpiFixture(dir: TempDir): Promise<KpiFixture> {
  const clock = new ManualClock(FEB_1);
  const events = new PlatformEvents();
  const calendar = new CityCalendar(ZONE);
  const logger = silentLogger();
  const registry = DeviceRegistry.open({ dataDir: dir.path, kinds: new KindCatalogue(), clock, logger });
  const store = SqliteSeriesStore.open({
    file: dir.file('series.db'),
    calendar,
    retention: { rawDays: 400, minuteDays: 400, hourDays: 400, dayDays: 4000 },
    logger,
  });
  const config = testConfig({
    dataDir: dir.path,
    cityTimezone: ZONE,
    cityName: 'Lyon <Test> & Co',
    kpiCloseGraceDays: 60,
  });
  const kpis = buildKpis({
    config,
    store,
    devices: registry,
    ingest: { queryEvents: () => [] },
    calendar,
    events,
    clock,
    logger,
  });
  const entry = (value: number) => ({
    code: ICT,
    period: '2026-02',
    value,
    unit: '%',
    dataQuality: 'accurate-measurement',
    source: 'national statistics office',
  });
  await kpis.service.enterValues([entry(80)], analyst);
  const opened: ReportPacks[] = [];
  return {
    kpis,
    clock,
    events,
    async closeFebruary() {
      clock.set(MARCH_20);
      await kpis.start();
      await kpis.monthClose.close('2026-02', 'analyst');
    },
    async restateFebruary(value) {
      await kpis.service.enterValues([entry(value)], analyst);
    },
    packs(targets, retry = FAST_RETRY) {
      const packs = new ReportPacks(
        {
          source: packSourceOf(kpis),
          store: SqliteReportRecords.open({ dataDir: dir.path, now: clock.now() }),
          targets,
          events,
          clock,
          logger,
        },
        retry,
      );
      opened.push(packs);
      return packs;
    },
    async close() {
      for (const p of opened) await p.close();
      await kpis.close();
      await store.close();
      registry.close();
    },
  };
}
