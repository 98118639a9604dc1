import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CityCalendar } from '../../core/city-calendar.ts';
import { silentLogger } from '../../core/logger.ts';
import type { AttributeValue, DeviceRecord } from '../../core/ports/device-directory.ts';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { isSoundLevelUnit } from '../../core/sound-level.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { withSoundEnergy } from '../../ingest/store/sound-energy-store.ts';
import { SqliteSeriesStore } from '../../ingest/store/sqlite-series-store.ts';
import {
  type DataQuality,
  DEFAULT_KPI_SETTINGS,
  type FormulaContext,
  type FormulaEvent,
  type KpiSettings,
  type Period,
} from '../kpi-types.ts';
import { monthPeriod } from '../periods.ts';

/**
 * Test data for KPI formulas: a real SQLite series store in a temp dir, devices as plain registry records,
 * events as an array, profile figures and manual inputs as maps. It is a fixture of data, not a stand-in
 * for a component: the formulas read through the same FormulaContext the engine builds.
 */
export interface FormulaFixture {
  ctx: FormulaContext;
  calendar: CityCalendar;
  store: SqliteSeriesStore;
  /** March 2026 in the fixture's zone (31 days) */
  march: Period;
  addDevice(
    id: string,
    kind: string,
    attributes?: Record<string, AttributeValue>,
    opts?: Partial<DeviceRecord>,
  ): DeviceRecord;
  /** Writes `count` readings every `stepSec` from `from`, value from `value(i)`. */
  writeSeries(
    deviceId: string,
    metric: string,
    from: number,
    count: number,
    stepSec: number,
    value: (i: number) => number,
  ): Promise<void>;
  /** `data`: the event's detail, as a device sends it (`{ incident: 'I-1' }`). */
  addEvent(deviceId: string, type: string, ts: number, data?: FormulaEvent['data']): void;
  setPopulation(value: number, effectiveFrom?: string): void;
  setManual(name: string, value: number, unit: string, dataQuality?: DataQuality): void;
  settings: KpiSettings;
  close(): Promise<void>;
}

export function formulaFixture(zone = 'UTC'): FormulaFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'citymetrics-formula-'));
  const calendar = new CityCalendar(zone);
  const store = SqliteSeriesStore.open({
    file: path.join(dir, 'series.db'),
    calendar,
    retention: { rawDays: 400, minuteDays: 400, hourDays: 400, dayDays: 4000 },
    logger: silentLogger(),
  });
  // Written as the platform writes: sound levels get their energy companion series.
  const kinds = new KindCatalogue();
  const writer = withSoundEnergy(store, (kind, metric) =>
    isSoundLevelUnit(kinds.metric(kind, metric)?.unit ?? ''),
  );
  const march = monthPeriod(calendar, '2026-03');
  const devices = new Map<string, DeviceRecord>();
  const events: FormulaEvent[] = [];
  const population: Array<{ value: number; effectiveFrom: string }> = [];
  const manual = new Map<
    string,
    { value: number; unit: string; source: string; dataQuality?: DataQuality }
  >();
  const settings: KpiSettings = structuredClone(DEFAULT_KPI_SETTINGS);

  const ctx: FormulaContext = {
    store: writer,
    calendar,
    settings,
    devices: (filter = {}) =>
      [...devices.values()].filter(
        (d) =>
          (filter.kind === undefined || d.kind === filter.kind) &&
          (filter.district === undefined || d.district === filter.district),
      ),
    events: (q) =>
      events.filter(
        (e) =>
          e.ts >= q.from &&
          e.ts < q.to &&
          (q.deviceIds === undefined || q.deviceIds.includes(e.deviceId)) &&
          (q.types === undefined || q.types.includes(e.type)),
      ),
    profile: (name, at) => {
      if (name !== 'population') return null;
      const eligible = population
        .filter((p) => Date.parse(p.effectiveFrom) <= at)
        .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
      return eligible.at(-1) ?? null;
    },
    manualInput: (name) => manual.get(name) ?? null,
  };

  return {
    ctx,
    calendar,
    store,
    march,
    settings,
    addDevice(id, kind, attributes = {}, opts = {}) {
      const createdAt = opts.createdAt ?? Date.parse('2020-01-01T00:00:00Z');
      const d: DeviceRecord = {
        id,
        kind,
        name: id,
        district: 'centre',
        location: null,
        attributes,
        status: 'active',
        createdAt,
        // installed when provisioned unless the test says otherwise
        installedAt: createdAt,
        removedAt: null,
        lastSeenAt: null,
        online: true,
        ...opts,
      };
      devices.set(id, d);
      return d;
    },
    async writeSeries(deviceId, metric, from, count, stepSec, value) {
      const d = devices.get(deviceId);
      if (d === undefined) throw new Error(`fixture: no device ${deviceId}`);
      const points: SeriesPoint[] = [];
      for (let i = 0; i < count; i++) {
        points.push({
          deviceId,
          kind: d.kind,
          district: d.district,
          metric,
          ts: from + i * stepSec * 1000,
          value: value(i),
        });
        if (points.length === 5000) await writer.write(points.splice(0));
      }
      if (points.length > 0) await writer.write(points);
    },
    addEvent(deviceId, type, ts, data) {
      events.push(data === undefined ? { deviceId, type, ts } : { deviceId, type, ts, data });
    },
    setPopulation(value, effectiveFrom = '2020-01-01T00:00:00Z') {
      population.push({ value, effectiveFrom });
    },
    setManual(name, value, unit, dataQuality) {
      manual.set(name, {
        value,
        unit,
        source: 'test analyst',
        ...(dataQuality === undefined ? {} : { dataQuality }),
      });
    },
    async close() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** readings every `intervalSec` over a whole period */
export const readingsIn = (p: Period, intervalSec: number): number =>
  Math.floor((p.end - p.start) / (intervalSec * 1000));
