import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { testConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { type KpiRevised, PlatformEvents } from '../core/platform-events.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import { isSoundLevelUnit } from '../core/sound-level.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { withSoundEnergy } from '../ingest/store/sound-energy-store.ts';
import { SqliteSeriesStore } from '../ingest/store/sqlite-series-store.ts';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { buildKpis, type Kpis } from './build-kpis.ts';

const ZONE = 'Europe/Paris';
const FEB_1 = Date.parse('2026-01-31T23:00:00Z'); // 1 February 00:00 in Paris
const MARCH_20 = Date.parse('2026-03-20T12:00:00Z');
const MIN = 60_000;
const NOISE = 'EN: EN: EQ: 2A';
const WATER = 'EN: EN: WS: 2C';
const ICT = 'EC: ICT: ICT: 1C';
const AIR = 'EN: EN: AQ: 1C';
const analyst = { keyId: 'k1', name: 'analyst' };

/**
 * Each way a closed month changes names what changed: late readings (count, devices), revised readings
 * (count, devices), a manual entry (which, old and new), a city profile figure (which, old and new). On the
 * restatement rows, on the version in the roll-up history, and on the kpi-revised event.
 */
describe('restatement causes', () => {
  let dir: TempDir;
  let clock: ManualClock;
  let events: PlatformEvents;
  let registry: DeviceRegistry;
  let store: SeriesStore;
  let kpis: Kpis;
  const revised: KpiRevised[] = [];

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-causes-');
    clock = new ManualClock(FEB_1);
    events = new PlatformEvents();
    const calendar = new CityCalendar(ZONE);
    const logger = silentLogger();
    const kinds = new KindCatalogue();
    registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger });
    // as the platform wires it: sound levels get their energy companion series
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
    revised.length = 0;
    events.on('kpi-revised', (r) => revised.push(r));
  });

  afterEach(async () => {
    await kpis.close();
    await store.close();
    registry.close();
    dir.remove();
  });

  const points = (
    deviceId: string,
    kind: string,
    metric: string,
    from: number,
    values: number[],
    step = MIN,
  ) => values.map((value, i) => ({ deviceId, kind, district: 'centre', metric, ts: from + i * step, value }));

  async function send(p: ReturnType<typeof points>) {
    const outcome = await store.write(p);
    events.emit('readings', {
      deviceId: p[0]!.deviceId,
      kind: p[0]!.kind,
      district: 'centre',
      values: p.map((x) => ({ metric: x.metric, ts: x.ts, value: x.value })),
    });
    return outcome;
  }

  // Noise Exposure is a share of the population: two monitors of 10 residents each are the whole city
  const population = (value: number) =>
    kpis.service.updateProfile({ population: value, effectiveFrom: '2020-01-01' }, analyst);

  const noiseMonitor = async () =>
    (
      await registry.provision({
        kind: 'noise-monitor',
        district: 'centre',
        attributes: { residentsExposed: 10 },
      })
    ).device.id;

  async function closeFebruary() {
    clock.set(MARCH_20);
    await kpis.start();
    await kpis.monthClose.close('2026-02', 'analyst');
  }

  it('late data: how many readings arrived after close, and from which devices', async () => {
    await population(20);
    const a = await noiseMonitor();
    const b = await noiseMonitor();
    const quiet = Date.parse('2026-02-10T10:00:00Z');
    await send(points(a, 'noise-monitor', 'laeq', quiet, Array(60).fill(40)));
    await send(points(b, 'noise-monitor', 'laeq', quiet, Array(60).fill(40)));
    await closeFebruary();
    const loud = Date.parse('2026-02-11T18:00:00Z');
    await send(points(b, 'noise-monitor', 'laeq', loud, Array(600).fill(90)));
    await send(points(a, 'noise-monitor', 'laeq', loud, Array(300).fill(90)));
    await kpis.engine.flush();
    const late = { kind: 'late-data', readings: 900, devices: [a, b].sort() };
    // the two monitors owe 28 × 1440 readings each: 120 of 80 640 came before the close, 1020 after
    const completeness = {
      kind: 'status',
      code: NOISE,
      dataPoint: null,
      oldStatus: 'provisional',
      newStatus: 'provisional',
      oldCompleteness: 120 / 80_640,
      newCompleteness: 1020 / 80_640,
    };
    const [r] = kpis.kpiStore.restatements('2026-02');
    expect(r).toMatchObject({
      code: NOISE,
      oldValue: 0,
      newValue: 100,
      version: 2,
      causes: [late, completeness],
    });
    expect(r!.cause).toBe(
      `late data: 900 readings arrived after close from ${[a, b].sort().join(', ')}; completeness changed: ${NOISE} 0.1 % → 1.3 %, still provisional`,
    );
    // the version names what arrived; what that changed in an entry is on the entry's row
    expect(kpis.service.versions('2026-02').versions.map((v) => v.causes)).toEqual([[], [late]]);
    expect(revised.map((e) => e.causes)).toEqual([[late, completeness]]);
  });

  it('revision: how many stored readings were replaced, of which devices', async () => {
    await population(10);
    const a = await noiseMonitor();
    const at = Date.parse('2026-02-10T10:00:00Z');
    await send(points(a, 'noise-monitor', 'laeq', at, Array(60).fill(40)));
    await closeFebruary();
    const outcome = await store.write(points(a, 'noise-monitor', 'laeq', at, Array(60).fill(80)));
    const laeq = outcome.revisions.filter((r) => r.metric === 'laeq');
    expect(laeq).toHaveLength(60);
    events.emit('readings-revised', { revisions: laeq, at: clock.now() });
    await kpis.engine.flush();
    const cause = { kind: 'revision', readings: 60, devices: [a] };
    expect(kpis.kpiStore.restatements('2026-02')).toEqual([
      expect.objectContaining({ code: NOISE, oldValue: 0, newValue: 100, causes: [cause] }),
    ]);
    expect(kpis.kpiStore.latestRollup('2026-02')?.cause).toBe(`revision: 60 stored readings revised (${a})`);
  });

  it('manual value: which entry, the value it replaced and the new one', async () => {
    const entry = (value: number) => ({
      code: ICT,
      period: '2026-02',
      value,
      unit: '%',
      dataQuality: 'accurate-measurement',
      source: 'national statistics office',
    });
    await kpis.service.enterValues([entry(80)], analyst);
    await closeFebruary();
    await kpis.service.enterValues([entry(85)], analyst);
    const cause = {
      kind: 'manual-input',
      subjectType: 'kpi',
      subject: ICT,
      dataPoint: null,
      period: '2026-02',
      oldValue: 80,
      newValue: 85,
    };
    expect(kpis.kpiStore.restatements('2026-02')).toEqual([
      expect.objectContaining({ code: ICT, oldValue: 80, newValue: 85, causes: [cause] }),
    ]);
    expect(revised[0]?.cause).toBe(`manual value changed: ${ICT} for 2026-02 80 → 85`);
  });

  it('city profile: which field, its figure before and after', async () => {
    const { device } = await registry.provision({ kind: 'water-smart-meter', district: 'centre' });
    // February in Paris: 28 days of 96 quarter hours, 0.01 m³ each
    await send(points(device.id, 'water-smart-meter', 'volume', FEB_1, Array(28 * 96).fill(0.01), 15 * MIN));
    await kpis.service.updateProfile({ population: 1000, effectiveFrom: '2026-01-01' }, analyst);
    await closeFebruary();
    const before = kpis.kpiStore.latestRollup('2026-02')!.entries.find((e) => e.code === WATER)!.value!;
    expect(before).toBeCloseTo((28 * 96 * 0.01 * 1000) / 1000 / 28, 9); // 0.96 L per capita per day
    await kpis.service.updateProfile({ population: 2000, effectiveFrom: '2026-01-01' }, analyst);
    const cause = {
      kind: 'city-profile',
      field: 'population',
      effectiveFrom: '2026-01-01',
      oldValue: 1000,
      newValue: 2000,
    };
    const rows = kpis.kpiStore.restatements('2026-02');
    expect(rows.find((r) => r.code === WATER)).toMatchObject({ causes: [cause] });
    expect(rows.find((r) => r.code === WATER)!.newValue).toBeCloseTo(before / 2, 9);
    expect(kpis.kpiStore.latestRollup('2026-02')?.cause).toBe(
      'city profile changed: population 1000 → 2000 from 2026-01-01',
    );
  });

  it('device life: a closed month is restated when a device interval it holds changes, old and new named', async () => {
    const { device } = await registry.provision({ kind: 'water-smart-meter', district: 'centre' });
    // February in Paris: 28 days of 96 quarter hours, 0.01 m³ each
    await send(points(device.id, 'water-smart-meter', 'volume', FEB_1, Array(28 * 96).fill(0.01), 15 * MIN));
    await kpis.service.updateProfile({ population: 1000, effectiveFrom: '2026-01-01' }, analyst);
    await closeFebruary();
    const before = kpis.kpiStore.latestRollup('2026-02')!.entries.find((e) => e.code === WATER)!.value!;
    expect(before).toBeCloseTo(0.96, 9); // 28 × 96 × 0.01 m³ × 1000 L ÷ 1000 ÷ 28 days
    // Removed at 15 February 00:00 in Paris: the 14 days before count, 14 × 96 × 0.01 m³.
    const removedAt = Date.parse('2026-02-14T23:00:00Z');
    await registry.update(device.id, { removedAt }, { by: 'ops (k9)' });
    await kpis.lifeChangesSettled();
    const cause = {
      kind: 'device-life',
      device: device.id,
      oldInstalledAt: new Date(FEB_1).toISOString(),
      newInstalledAt: new Date(FEB_1).toISOString(),
      oldRemovedAt: null,
      newRemovedAt: '2026-02-14T23:00:00.000Z',
    };
    const row = kpis.kpiStore.restatements('2026-02').find((r) => r.code === WATER);
    expect(row).toMatchObject({ causes: [cause], version: 2 });
    expect(row!.newValue).toBeCloseTo((14 * 96 * 0.01 * 1000) / 1000 / 28, 9); // 0.48
    expect(row!.cause).toBe(
      `device ${device.id} installed interval changed: [2026-01-31T23:00:00.000Z, open) → [2026-01-31T23:00:00.000Z, 2026-02-14T23:00:00.000Z)`,
    );
    expect(revised.filter((e) => e.code === WATER).map((e) => e.causes)).toEqual([[cause]]);
  });

  it('status: late readings that complete a month without moving its mean restate the status and completeness', async () => {
    const { device } = await registry.provision({
      kind: 'air-quality-station',
      district: 'centre',
      attributes: { pollutants: 'pm25,so2' },
      installedAt: new Date(FEB_1).toISOString(),
    });
    const station = device.id;
    // February in Paris: 28 days of 1440 minutes, one reading a minute owed per pollutant
    const week = 7 * 1440;
    const DAY = 1440 * MIN;
    // Every hour of SO2 alternates 3 and 5 µg/m³: its mean is 4 over any whole hours, before and after.
    const so2 = (fromDay: number, days: number) =>
      points(
        station,
        'air-quality-station',
        'so2',
        FEB_1 + fromDay * DAY,
        Array.from({ length: days * 1440 }, (_, i) => (i % 2 === 0 ? 3 : 5)),
      );
    await send(points(station, 'air-quality-station', 'pm25', FEB_1, Array(4 * week).fill(8)));
    await send(so2(0, 14));
    await closeFebruary();
    const row = (dataPoint: string) =>
      kpis.kpiStore
        .latestRollup('2026-02')!
        .entries.find((e) => e.code === AIR && e.dataPoint === dataPoint)!;
    const pick = (dataPoint: string) => {
      const e = row(dataPoint);
      return [e.value, e.completeness, e.status, e.provisional, e.version];
    };
    // closed at half its owed SO2: below the 90 % capture threshold
    expect(pick('SO2')).toEqual([4, 0.5, 'provisional', true, 1]);
    expect(pick('PM2.5')).toEqual([8, 1, 'final', false, 1]);

    // days 15 to 21 arrive: the mean stays 4, completeness 0.5 → 0.75, still provisional
    await send(so2(14, 7));
    await kpis.engine.flush();
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(2);
    expect(pick('SO2')).toEqual([4, 0.75, 'provisional', true, 2]);
    // days 22 to 28: complete, so final with the same mean
    await send(so2(21, 7));
    await kpis.engine.flush();
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(3);
    expect(pick('SO2')).toEqual([4, 1, 'final', false, 3]);
    expect(pick('PM2.5')).toEqual([8, 1, 'final', false, 1]);

    const late = { kind: 'late-data' as const, readings: week, devices: [station] };
    const status = (
      oldStatus: string,
      newStatus: string,
      oldCompleteness: number,
      newCompleteness: number,
    ) => ({
      kind: 'status',
      code: AIR,
      dataPoint: 'SO2',
      oldStatus,
      newStatus,
      oldCompleteness,
      newCompleteness,
    });
    const second = status('provisional', 'provisional', 0.5, 0.75);
    const third = status('provisional', 'final', 0.75, 1);
    const restated = kpis.kpiStore.restatements('2026-02');
    expect(restated.map((r) => [r.version, r.code, r.dataPoint])).toEqual([
      [2, AIR, 'SO2'],
      [3, AIR, 'SO2'],
    ]);
    expect(restated[1]).toMatchObject({
      oldValue: 4,
      newValue: 4,
      oldStatus: 'provisional',
      newStatus: 'final',
      oldCompleteness: 0.75,
      newCompleteness: 1,
      causes: [late, third],
    });
    expect(restated[0]).toMatchObject({
      oldCompleteness: 0.5,
      newCompleteness: 0.75,
      causes: [late, second],
    });
    expect(restated[1]!.cause).toBe(
      `late data: ${week} readings arrived after close from ${station}; status changed: ${AIR} (SO2) provisional → final, completeness 75 % → 100 %`,
    );
    // a version is made by what arrived; what it changed in each entry is on that entry's row
    expect(kpis.service.versions('2026-02').versions.map((v) => v.causes)).toEqual([[], [late], [late]]);
    expect(revised.map((e) => e.causes)).toEqual([
      [late, second],
      [late, third],
    ]);

    // the same readings again, then a recompute of every KPI: nothing changed, no version
    await send(so2(21, 7));
    await kpis.engine.flush();
    expect(await kpis.monthClose.restate('2026-02', null, [late])).toEqual([]);
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(3);
    expect(kpis.kpiStore.restatements('2026-02')).toHaveLength(2);
  });

  it('target: a closed month is re-scored in a new version, the old and new target named', async () => {
    await kpis.service.setTarget(ICT, { value: 100, source: 'city plan 2025' }, analyst);
    await kpis.service.enterValues(
      [
        {
          code: ICT,
          period: '2026-02',
          value: 80,
          unit: '%',
          dataQuality: 'accurate-measurement',
          source: 'national statistics office',
        },
      ],
      analyst,
    );
    await closeFebruary();
    const entryOf = () => kpis.kpiStore.latestRollup('2026-02')!.entries.find((e) => e.code === ICT)!;
    // higher is better: 80 of 100 is 80 %, band 66–95 %
    expect(entryOf()).toMatchObject({ version: 1, target: 100, band: '66–95 %', points: 3 });
    await kpis.service.setTarget(ICT, { value: 50, source: 'city plan 2026' }, analyst);
    // 80 of 50 is capped at 100 %: band 95–100 %
    expect(entryOf()).toMatchObject({ version: 2, value: 80, target: 50, band: '95–100 %', points: 4 });
    const cause = { kind: 'target', code: ICT, dataPoint: null, oldTarget: 100, newTarget: 50 };
    expect(kpis.kpiStore.restatements('2026-02')).toEqual([
      expect.objectContaining({ code: ICT, version: 2, oldValue: 80, newValue: 80, causes: [cause] }),
    ]);
    expect(kpis.service.versions('2026-02').versions.map((v) => [v.version, v.cause])).toEqual([
      [1, 'closed'],
      [2, `target changed: ${ICT} 100 → 50`],
    ]);
    expect(revised).toEqual([expect.objectContaining({ code: ICT, period: '2026-02', causes: [cause] })]);
    // the same target again changes nothing: no version
    await kpis.service.setTarget(ICT, { value: 50, source: 'city plan 2026' }, analyst);
    expect(kpis.kpiStore.latestRollup('2026-02')?.version).toBe(2);
  });
});
