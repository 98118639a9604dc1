import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { testConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { type KpiUpdated, PlatformEvents } from '../core/platform-events.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import { isSoundLevelUnit } from '../core/sound-level.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { withSoundEnergy } from '../ingest/store/sound-energy-store.ts';
import { SqliteSeriesStore } from '../ingest/store/sqlite-series-store.ts';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { buildKpis, type Kpis } from './build-kpis.ts';

const ZONE = 'Europe/Paris';
const MARCH_20 = Date.parse('2026-03-20T12:00:00Z');
const MIN = 60_000;

/**
 * The engine on real parts (registry, SQLite series store, kpi.db): what a reading touches is recomputed,
 * nothing else; a reading for a closed month restates it; nothing is computed before the debounce fires.
 */
describe('KpiEngine', () => {
  let dir: TempDir;
  let clock: ManualClock;
  let events: PlatformEvents;
  let registry: DeviceRegistry;
  let store: SeriesStore;
  let kpis: Kpis;
  const updates: KpiUpdated[] = [];

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-engine-');
    clock = new ManualClock(Date.parse('2026-02-01T00:00:00Z'));
    events = new PlatformEvents();
    const calendar = new CityCalendar(ZONE);
    const logger = silentLogger();
    const kinds = new KindCatalogue();
    registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger });
    // As the platform wires it: sound levels get their energy companion series.
    store = withSoundEnergy(
      SqliteSeriesStore.open({
        file: dir.file('series.db'),
        calendar,
        retention: { rawDays: 400, minuteDays: 400, hourDays: 400, dayDays: 4000 },
        logger,
      }),
      (kind, metric) => isSoundLevelUnit(kinds.metric(kind, metric)?.unit ?? ''),
    );
    const config = testConfig({
      dataDir: dir.path,
      cityTimezone: ZONE,
      kpiRecomputeDebounceMs: 3_600_000,
      kpiCloseGraceDays: 60,
    });
    kpis = buildKpis({
      config,
      store,
      devices: registry,
      ingest: { queryEvents: () => [] },
      calendar,
      events,
      clock,
      logger,
    });
    // Noise Exposure is a share of the population: the 10 residents of the one monitor are the city.
    await kpis.kpiStore.addProfile([
      {
        field: 'population',
        value: 10,
        effectiveFrom: '2020-01-01',
        effectiveFromMs: Date.parse('2020-01-01T00:00:00+01:00'),
        dataQuality: null,
        source: null,
        enteredBy: 'test',
        enteredAt: clock.now(),
      },
    ]);
    updates.length = 0;
    events.on('kpi-updated', (u) => updates.push(u));
  });

  afterEach(async () => {
    await kpis.close();
    await store.close();
    registry.close();
    dir.remove();
  });

  async function noise(deviceId: string, from: number, levels: number[]) {
    const points = levels.map((value, i) => ({
      deviceId,
      kind: 'noise-monitor',
      district: 'centre',
      metric: 'laeq',
      ts: from + i * MIN,
      value,
    }));
    await store.write(points);
    events.emit('readings', {
      deviceId,
      kind: 'noise-monitor',
      district: 'centre',
      values: points.map((p) => ({ metric: p.metric, ts: p.ts, value: p.value })),
    });
  }

  it('recomputes only the KPIs fed by the kind of the readings, after the debounce', async () => {
    const { device } = await registry.provision({
      kind: 'noise-monitor',
      district: 'centre',
      attributes: { residentsExposed: 10 },
    });
    clock.set(MARCH_20);
    await kpis.start();
    const initial = updates.length;
    expect(initial).toBe(91 * 3); // everything once at start
    await noise(
      device.id,
      MARCH_20 - 60 * MIN,
      Array.from({ length: 60 }, () => 70),
    );
    expect(updates.length).toBe(initial); // debounced: nothing yet
    await kpis.engine.flush();
    const changed = updates.slice(initial);
    expect(new Set(changed.map((u) => u.code))).toEqual(new Set(['EN: EN: EQ: 2A']));
    expect(changed.map((u) => u.periodKind).sort()).toEqual([
      'month-to-date',
      'rolling-12-months',
      'year-to-date',
    ]);
    expect(kpis.engine.current('EN: EN: EQ: 2A')['month-to-date']?.value).toBe(100);
  });

  it('recomputes by itself when the clock reaches the debounce, and not a millisecond before', async () => {
    const { device } = await registry.provision({
      kind: 'noise-monitor',
      district: 'centre',
      attributes: { residentsExposed: 10 },
    });
    clock.set(MARCH_20);
    await kpis.start();
    const initial = updates.length;
    const recomputed = new Promise<void>((resolve) => {
      events.on('kpi-updated', () => {
        if (updates.length === initial + 3) resolve();
      });
    });
    const timersBefore = clock.pendingTimers;
    await noise(device.id, MARCH_20 - 60 * MIN, [70]);
    expect(clock.pendingTimers).toBe(timersBefore + 1); // the debounce, due an hour after the reading
    clock.advance(3_600_000 - 1);
    expect(clock.pendingTimers).toBe(timersBefore + 1);
    expect(updates.length).toBe(initial);
    clock.advance(1);
    expect(clock.pendingTimers).toBe(timersBefore);
    await recomputed; // no flush(): only the timer can have started it
    expect(new Set(updates.slice(initial).map((u) => u.code))).toEqual(new Set(['EN: EN: EQ: 2A']));
  });

  // February 2026 in Paris: 28 local days, one reading a minute owed per station and pollutant
  const FEB_FROM = Date.parse('2026-01-31T23:00:00Z');
  const FEB_OWED = (Date.parse('2026-02-28T23:00:00Z') - FEB_FROM) / MIN;
  /** An air-quality station installed all February, every owed reading of `metrics` sent */
  async function airStation(id: string, pollutants: string, metrics: string[]) {
    await registry.provision({
      id,
      kind: 'air-quality-station',
      district: 'centre',
      attributes: { pollutants },
      installedAt: new Date(FEB_FROM).toISOString(),
    });
    await store.write(
      metrics.flatMap((metric) =>
        Array.from({ length: FEB_OWED }, (_, i) => ({
          deviceId: id,
          kind: 'air-quality-station',
          district: 'centre',
          metric,
          ts: FEB_FROM + i * MIN,
          value: metric === 'pm25' ? 8 : 20,
        })),
      ),
    );
  }
  async function closedAirPollutionRows() {
    clock.set(MARCH_20);
    await kpis.start();
    const [closed] = await kpis.monthClose.close('2026-02', 'analyst');
    return closed!.entries
      .filter((e) => e.code === 'EN: EN: AQ: 1C')
      .map((e) => [e.dataPoint, e.value, e.completeness, e.status, e.provisional]);
  }

  it('Air Pollution rows of a closed month: a data point not reported is never final, each row its own status', async () => {
    expect(FEB_OWED).toBe(28 * 1440);
    // aq-1 measures PM2.5 and SO2 but sent no SO2; aq-2 only PM10; nobody measures NO2 or O3
    await airStation('aq-1', 'pm25,so2', ['pm25']);
    await airStation('aq-2', 'pm10', ['pm10']);
    expect(await closedAirPollutionRows()).toEqual([
      ['PM2.5', 8, 1, 'final', false],
      ['PM10', 20, 1, 'final', false],
      ['NO2', null, null, 'no-data-expected', true],
      ['SO2', null, 0, 'provisional', true],
      ['O3', null, null, 'no-data-expected', true],
    ]);
  });

  it('Air Pollution with no station measuring PM2.5: the value (PM2.5) is not reported and not final; PM10 stands on its own', async () => {
    await airStation('aq-1', 'pm10', ['pm10']);
    const rows = await closedAirPollutionRows();
    expect(rows[0]).toEqual(['PM2.5', null, null, 'no-data-expected', true]);
    expect(rows[1]).toEqual(['PM10', 20, 1, 'final', false]);
  });

  it('restates a closed month when readings for it arrive later, once per changed entry', async () => {
    const { device } = await registry.provision({
      kind: 'noise-monitor',
      district: 'centre',
      attributes: { residentsExposed: 10 },
    });
    await noise(
      device.id,
      Date.parse('2026-02-10T10:00:00Z'),
      Array.from({ length: 60 }, () => 40),
    );
    clock.set(MARCH_20);
    await kpis.start();
    const [closed] = await kpis.monthClose.close('2026-02', 'analyst');
    expect(closed?.entries.find((e) => e.code === 'EN: EN: EQ: 2A')?.value).toBe(0);
    // readings it holds already, sent again: nothing changes, no restatement, no version
    await noise(device.id, Date.parse('2026-02-10T10:00:00Z'), [40, 40]);
    await kpis.engine.flush();
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(1);
    // The monitor owes a reading a minute from its installation (1 February 01:00 in Paris): 28 × 1440 - 60.
    // Two quiet ones arrive late: exposure stays 0 %, completeness moves from 60 to 62 of them, and the
    // frozen figure is restated with it.
    const owed = 28 * 1440 - 60;
    const completeness = (from: number, to: number) => ({
      kind: 'status',
      code: 'EN: EN: EQ: 2A',
      dataPoint: null,
      oldStatus: 'provisional',
      newStatus: 'provisional',
      oldCompleteness: from / owed,
      newCompleteness: to / owed,
    });
    await noise(device.id, Date.parse('2026-02-10T12:00:00Z'), [41, 42]);
    await kpis.engine.flush();
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(2);
    // loud evening arrives late: exposure flips to 100 %
    await noise(
      device.id,
      Date.parse('2026-02-11T18:00:00Z'),
      Array.from({ length: 600 }, () => 90),
    );
    await kpis.engine.flush();
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(3);
    expect(kpis.kpiStore.restatements('2026-02')).toEqual([
      expect.objectContaining({
        code: 'EN: EN: EQ: 2A',
        oldValue: 0,
        newValue: 0,
        oldCompleteness: 60 / owed,
        newCompleteness: 62 / owed,
        version: 2,
        causes: [{ kind: 'late-data', readings: 2, devices: [device.id] }, completeness(60, 62)],
      }),
      expect.objectContaining({
        code: 'EN: EN: EQ: 2A',
        oldValue: 0,
        newValue: 100,
        version: 3,
        cause: `late data: 600 readings arrived after close from ${device.id}; completeness changed: EN: EN: EQ: 2A 0.2 % → 1.6 %, still provisional`,
        causes: [{ kind: 'late-data', readings: 600, devices: [device.id] }, completeness(62, 662)],
      }),
    ]);
  });
});
