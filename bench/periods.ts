import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { testConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { PlatformEvents } from '../core/platform-events.ts';
import type { SeriesPoint } from '../core/ports/series-store.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { DurableLog } from '../ingest/durable-log.ts';
import { SqliteSeriesStore } from '../ingest/store/sqlite-series-store.ts';
import { buildKpis } from '../metrics/build-kpis.ts';
import { loadCatalogue } from '../metrics/catalogue/catalogue.ts';
import { attributesFor } from '../simulators/city-plan.ts';
import { mulberry32 } from '../simulators/prng.ts';

/**
 * Scenario 'periods': a city of 1 000 devices of every kind with a year of roll-ups, then the time to
 * close a month (metrics/month-close.ts through buildKpis) and to recompute every KPI for the three
 * running periods (engine.computeAll()), five times. Targets: close < 2 s, recompute < 1 s in each of the
 * five runs.
 *
 * The year is generated straight into the SQLite series store in big batches: per device and metric one
 * point every `hoursBetweenPoints` hours (12 by default, 24 in quick runs). The formulas read whole days from the day tier
 * and ragged edges from hours, so the rows they read per series are the same as with the devices' real
 * intervals (every day and month has buckets); only the counts, hence completeness, are lower. Kinds are
 * spread evenly over the 1 000 devices; the per-kind attributes the formulas need are set.
 */

export interface PeriodsResult {
  status: string;
  closeMonthSec: number | null;
  /** the slowest of the recompute runs */
  recomputeAllSec: number | null;
  /** each recompute run, in order */
  recomputeRunsSec?: number[];
  devices?: number;
  kpis?: number;
  pointsGenerated?: number;
  generateSec?: number;
}

const DEVICES = 1_000;
const ZONE = 'Europe/Paris';
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The year of data: 2025-01-10 → 2026-01-10; the bench runs "on" 2026-01-10, closing November 2025. */
const DATA_FROM = Date.UTC(2025, 0, 10);
const NOW = Date.UTC(2026, 0, 10, 12);
const CLOSE_LABEL = '2025-11';
const RECOMPUTE_RUNS = 5;

const ATTRIBUTES: Record<string, Record<string, number | boolean>> = {
  'noise-monitor': { residentsExposed: 800 },
  'water-smart-meter': { residents: 3 },
  'electricity-smart-meter': { customers: 1 },
  'electricity-feeder-meter': { customersServed: 400 },
  'traffic-counter': { segmentLengthKm: 1.2, freeFlowSpeedKmh: 50 },
  'heat-meter': { residential: true, residents: 40 },
  'building-energy-meter': { publicBuilding: true, floorAreaM2: 2_000, bms: true },
};
const DISTRICTS = ['Old Town', 'Harbour', 'North', 'University', 'Riverside'];

export async function runPeriods(
  log: (line: string) => void,
  options: { hoursBetweenPoints?: number } = {},
): Promise<PeriodsResult> {
  const HOURS_BETWEEN_POINTS = options.hoursBetweenPoints ?? 12;
  const dir = mkdtempSync(join(tmpdir(), 'cm-periods-'));
  const clock = new ManualClock(DATA_FROM - DAY);
  const logger = silentLogger();
  const kinds = new KindCatalogue();
  const calendar = new CityCalendar(ZONE);
  const config = testConfig({ dataDir: dir, cityTimezone: ZONE });
  const registry = DeviceRegistry.open({ dataDir: dir, kinds, clock, logger, scryptCost: 1024 });
  const store = SqliteSeriesStore.open({
    file: join(dir, 'series.db'),
    calendar,
    retention: { rawDays: 400, minuteDays: 14, hourDays: 800, dayDays: 3650 },
    logger,
    clock,
  });
  const events = new PlatformEvents();
  const durable = DurableLog.open({
    dataDir: dir,
    sync: 'normal',
    flushMaxValues: 1_000,
    flushIntervalMs: 5,
    clock,
    logger,
  });
  try {
    const t0 = performance.now();
    const kindList = kinds.list();
    const rng = mulberry32(7);
    const devices = [];
    for (let i = 0; i < DEVICES; i += 100) {
      const batch = Array.from({ length: Math.min(100, DEVICES - i) }, (_, k) => {
        const kind = kindList[(i + k) % kindList.length]!;
        return registry.provision({
          kind: kind.id,
          district: DISTRICTS[(i + k) % DISTRICTS.length]!,
          // what the kind requires, as the simulated city gives it, with the figures this scenario fixes
          attributes: { ...attributesFor(kind.id, rng, i + k), ...(ATTRIBUTES[kind.id] ?? {}) },
        });
      });
      devices.push(...(await Promise.all(batch)).map((r) => r.device));
    }
    // A year of points, series by series, written in batches of ~200 000 (one transaction each).
    let points: SeriesPoint[] = [];
    let generated = 0;
    for (const d of devices) {
      const kind = kinds.get(d.kind)!;
      for (const m of kind.metrics) {
        const span = Math.max(m.max - m.min, 1);
        for (let ts = DATA_FROM, n = 0; ts < NOW; ts += HOURS_BETWEEN_POINTS * HOUR, n++)
          points.push({
            deviceId: d.id,
            kind: d.kind,
            district: d.district,
            metric: m.name,
            ts,
            value: m.min + ((n * 7 + d.id.length) % 97) * (span / 1000),
          });
        if (points.length >= 200_000) {
          await store.write(points);
          generated += points.length;
          points = [];
        }
      }
    }
    await store.write(points);
    generated += points.length;
    const generateSec = (performance.now() - t0) / 1000;
    log(
      `  periods: ${DEVICES} devices (${kindList.length} kinds), ${generated.toLocaleString('en')} points (one per series every ${HOURS_BETWEEN_POINTS} h for a year) in ${generateSec.toFixed(1)} s`,
    );

    clock.set(NOW);
    // The hourly retention pass of a running city, which also seals the months that ended (month tier).
    await store.prune(clock.now());
    const kpis = buildKpis({
      config,
      store,
      devices: registry,
      ingest: durable,
      calendar,
      events,
      clock,
      logger,
    });
    try {
      const c0 = performance.now();
      await kpis.monthClose.close(CLOSE_LABEL, 'bench');
      const closeMonthSec = (performance.now() - c0) / 1000;
      // The goal is every run under the target, not one lucky run: five in a row, judged by the slowest.
      const recomputeRunsSec: number[] = [];
      for (let i = 0; i < RECOMPUTE_RUNS; i++) {
        const r0 = performance.now();
        await kpis.engine.computeAll();
        recomputeRunsSec.push((performance.now() - r0) / 1000);
      }
      const recomputeAllSec = Math.max(...recomputeRunsSec);
      const under = recomputeRunsSec.filter((s) => s < 1).length;
      const nKpis = loadCatalogue().kpis.length;
      const runs = recomputeRunsSec.map((s) => s.toFixed(2)).join(', ');
      const status = `close ${CLOSE_LABEL}: ${closeMonthSec.toFixed(2)} s (target < 2 s: ${closeMonthSec < 2 ? 'met' : 'NOT met'}); recompute all KPIs (month to date, year to date, rolling 12 months), ${RECOMPUTE_RUNS} runs: ${runs} s, slowest ${recomputeAllSec.toFixed(2)} s (target < 1 s in ${RECOMPUTE_RUNS} of ${RECOMPUTE_RUNS}: ${under === RECOMPUTE_RUNS ? 'met' : `NOT met, ${under} of ${RECOMPUTE_RUNS}`}); ${DEVICES} devices, ${nKpis} KPIs, ${generated.toLocaleString('en')} points generated`;
      log(`  periods: ${status}`);
      return {
        status,
        closeMonthSec,
        recomputeAllSec,
        recomputeRunsSec,
        devices: DEVICES,
        kpis: nKpis,
        pointsGenerated: generated,
        generateSec,
      };
    } finally {
      await kpis.close();
    }
  } finally {
    durable.close();
    await store.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
