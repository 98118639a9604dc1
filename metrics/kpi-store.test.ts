import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import type { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { loadCatalogue } from './catalogue/catalogue.ts';
import { CityProfile } from './city-profile.ts';
import { KpiStore, type ManualValueInput } from './kpi-store.ts';
import { KPI_FILE_NAME, KPI_SCHEMA_VERSION } from './kpi-store-schema.ts';
import { ManualInputs } from './manual-inputs.ts';
import { validateEntry } from './manual-validation.ts';
import { monthPeriod, monthToDate, yearPeriod } from './periods.ts';
import { KpiTargets } from './targets.ts';

const T0 = Date.parse('2026-03-15T12:00:00Z');
/** What schema 3 added to the restatement rows. */
const STATUS_COLUMNS = ['old_status', 'new_status', 'old_completeness', 'new_completeness'];
const entry = (over: Partial<ManualValueInput> = {}): ManualValueInput => ({
  subjectType: 'kpi',
  subject: 'EC: ICT: ICT: 1C',
  dataPoint: null,
  period: '2025',
  value: 90,
  unit: '%',
  dataQuality: 'extrapolated-survey',
  source: 'NSO',
  evidence: null,
  override: false,
  enteredBy: 'analyst (k1)',
  enteredAt: T0,
  ...over,
});

describe('KpiStore', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = makeTempDir('citymetrics-kpi-');
  });
  afterEach(() => dir.remove());

  it('keeps manual history: a new entry supersedes the current one, never updates it', async () => {
    const store = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const [first] = await store.addManualValues([entry()]);
    const [second] = await store.addManualValues([entry({ value: 93, enteredAt: T0 + 1 })]);
    expect(store.currentManualValues('kpi').map((m) => m.value)).toEqual([93]);
    const history = store.manualHistory('kpi', 'EC: ICT: ICT: 1C');
    expect(history.map((m) => [m.value, m.supersededBy])).toEqual([
      [90, second!.id],
      [93, null],
    ]);
    expect(first!.id).toBeLessThan(second!.id);
    store.close();
    const reopened = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    expect(reopened.currentManualValues().map((m) => m.value)).toEqual([93]);
    reopened.close();
  });

  it('stores roll-up versions with their restatements and finds the newest after reopening', async () => {
    const store = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    await store.saveRollup({
      period: '2026-02',
      version: 1,
      closedAt: T0,
      closedBy: 'scheduler',
      cause: 'closed',
      causes: [],
      entries: [],
    });
    await store.saveRollup(
      {
        period: '2026-02',
        version: 2,
        closedAt: T0 + 5,
        closedBy: 'scheduler',
        cause: 'late data',
        causes: [{ kind: 'late-data', readings: 3, devices: ['d1'] }],
        entries: [],
      },
      [
        {
          period: '2026-02',
          version: 2,
          code: 'X',
          dataPoint: null,
          oldValue: 1,
          newValue: 2,
          oldStatus: 'provisional',
          newStatus: 'final',
          oldCompleteness: 0.5,
          newCompleteness: 0.95,
          cause: 'late data',
          causes: [{ kind: 'late-data', readings: 3, devices: ['d1'] }],
          at: T0 + 5,
        },
      ],
    );
    store.close();
    const reopened = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    expect(reopened.latestRollup('2026-02')?.version).toBe(2);
    expect(reopened.rollupVersion('2026-02', 1)?.cause).toBe('closed');
    expect(reopened.restatements('2026-02')).toEqual([
      {
        period: '2026-02',
        version: 2,
        code: 'X',
        dataPoint: null,
        oldValue: 1,
        newValue: 2,
        oldStatus: 'provisional',
        newStatus: 'final',
        oldCompleteness: 0.5,
        newCompleteness: 0.95,
        cause: 'late data',
        causes: [{ kind: 'late-data', readings: 3, devices: ['d1'] }],
        at: T0 + 5,
      },
    ]);
    expect(reopened.rollupVersions('2026-02').map((v) => [v.version, v.causes])).toEqual([
      [1, []],
      [2, [{ kind: 'late-data', readings: 3, devices: ['d1'] }]],
    ]);
    expect(reopened.closedPeriods()).toEqual(['2026-02']);
    reopened.close();
  });

  it('reads everything again on reload, and tells its listeners once it has', async () => {
    const a = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const b = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    expect(b.location).toBe(dir.file(KPI_FILE_NAME));
    const heard: number[] = [];
    const stop = b.onExternalChange(() => heard.push(b.currentManualValues().length));
    await a.addManualValues([entry()]);
    await a.setTargets([
      { code: 'EN: EN: AQ: 1C', dataPoint: 'PM2.5', value: 5, source: 'WHO', setBy: 'a', setAt: T0 },
    ]);
    expect(b.currentManualValues()).toEqual([]);
    // two reloads asked for at once are one read, and the listener hears the result
    await Promise.all([b.reload(), b.reload()]);
    expect(b.currentManualValues().map((m) => m.value)).toEqual([90]);
    expect(b.targets().map((t) => t.value)).toEqual([5]);
    expect(heard.at(-1)).toBe(1);
    stop();
    await a.addManualValues([entry({ value: 91 })]);
    await b.reload();
    expect(b.currentManualValues().map((m) => m.value)).toEqual([91]);
    expect(heard.at(-1)).toBe(1);
    await a.close();
    await b.close();
    // closed: a reload reads nothing
    await b.reload();
  });

  it('migrates a schema 1 file: its versions and restatements keep, with no structured causes', async () => {
    const store = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const v1 = { period: '2026-02', version: 1, closedAt: T0, closedBy: 'scheduler', cause: 'closed' };
    await store.saveRollup({ ...v1, causes: [], entries: [] });
    store.close();
    // what a release before structured causes left on disk
    const db = new Database(dir.file(KPI_FILE_NAME));
    db.exec(`ALTER TABLE rollups DROP COLUMN causes; ALTER TABLE restatements DROP COLUMN causes;
      ${STATUS_COLUMNS.map((c) => `ALTER TABLE restatements DROP COLUMN ${c};`).join(' ')}`);
    db.pragma('user_version = 1');
    db.close();
    const reopened = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    expect(reopened.rollupVersions('2026-02')).toEqual([{ ...v1, causes: [] }]);
    reopened.close();
  });

  it('migrates a schema 2 file: its restatement rows keep, with no status or completeness', async () => {
    const store = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const v1 = { period: '2026-02', version: 1, closedAt: T0, closedBy: 'scheduler', cause: 'closed' };
    const late = [{ kind: 'late-data' as const, readings: 3, devices: ['d1'] }];
    const v2 = { ...v1, version: 2, closedAt: T0 + 5, cause: 'late data', causes: late, entries: [] };
    const row = {
      period: '2026-02',
      version: 2,
      code: 'X',
      dataPoint: null,
      oldValue: 1,
      newValue: 2,
      cause: 'late data',
      causes: late,
      at: T0 + 5,
    };
    await store.saveRollup({ ...v1, causes: [], entries: [] });
    await store.saveRollup(v2, [
      { ...row, oldStatus: 'provisional', newStatus: 'final', oldCompleteness: 0.5, newCompleteness: 1 },
    ]);
    store.close();
    // what a release before rows kept the status left on disk
    const db = new Database(dir.file(KPI_FILE_NAME));
    db.exec(STATUS_COLUMNS.map((c) => `ALTER TABLE restatements DROP COLUMN ${c};`).join(' '));
    db.pragma('user_version = 2');
    db.close();
    const reopened = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    expect(reopened.restatements('2026-02')).toEqual([
      { ...row, oldStatus: null, newStatus: null, oldCompleteness: null, newCompleteness: null },
    ]);
    expect(reopened.rollupVersions('2026-02').map((v) => v.causes)).toEqual([[], late]);
    reopened.close();
    const file = new Database(dir.file(KPI_FILE_NAME), { readonly: true });
    expect(file.pragma('user_version', { simple: true })).toBe(KPI_SCHEMA_VERSION);
    file.close();
  });

  it('refuses a foreign SQLite file and a damaged one with STORE_CORRUPT, leaving them untouched', async () => {
    const foreign = new Database(dir.file('kpi.db'));
    foreign.exec('CREATE TABLE other (x)');
    foreign.close();
    const before = readFileSync(dir.file('kpi.db'));
    let caught: unknown;
    try {
      KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    } catch (err) {
      caught = err;
    }
    expect((caught as CityError).code).toBe('STORE_CORRUPT');
    expect(readFileSync(dir.file('kpi.db')).equals(before)).toBe(true);
    const damaged = dir.file('damaged.db');
    writeFileSync(damaged, 'not a database at all, just text that is long enough'.repeat(40));
    expect(() => KpiStore.open({ file: damaged, logger: silentLogger() })).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }),
    );
  });
});

describe('manual values: validation and resolution', () => {
  const catalogue = loadCatalogue();
  const who = { enteredBy: 'a', enteredAt: T0 };
  const base = {
    code: 'EC-ICT-ICT-1C',
    period: '2025',
    value: 90,
    unit: '%',
    dataQuality: 'extrapolated-survey',
    source: 'NSO',
  };

  it('accepts a valid entry, by compact code, and normalises the unit', async () => {
    const r = validateEntry(catalogue, { ...base, unit: 'percent' }, 1, who);
    expect(r.ok && r.value).toMatchObject({
      subject: 'EC: ICT: ICT: 1C',
      unit: '%',
      dataPoint: null,
      override: false,
    });
  });

  it('names every bad field with its own code', async () => {
    const r = validateEntry(
      catalogue,
      { ...base, period: '2025-13', unit: 'km', dataQuality: 'guess', source: ' ' },
      7,
      who,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.row, p.column, p.code])).toEqual([
      [7, 'period', 'METRICS_PERIOD_INVALID'],
      [7, 'unit', 'METRICS_UNIT_MISMATCH'],
      [7, 'dataQuality', 'API_VALIDATION'],
      [7, 'source', 'API_VALIDATION'],
    ]);
  });

  it('refuses a share above 100 % and a sensor-derived KPI without override', async () => {
    const high = validateEntry(catalogue, { ...base, value: 120 }, 1, who);
    expect(!high.ok && high.problems[0]!.code).toBe('METRICS_VALUE_OUT_OF_RANGE');
    const sensor = validateEntry(
      catalogue,
      { ...base, code: 'EN-EN-AQ-1C', dataPoint: 'PM2.5', unit: 'µg/m³', value: 9 },
      1,
      who,
    );
    expect(!sensor.ok && sensor.problems.map((p) => p.code)).toEqual(['METRICS_OVERRIDE_REQUIRED']);
    const ok = validateEntry(
      catalogue,
      { ...base, code: 'EN-EN-AQ-1C', dataPoint: 'PM2.5', unit: 'ug/m3', value: 9, override: true },
      1,
      who,
    );
    expect(ok.ok && ok.value).toMatchObject({ override: true, dataPoint: 'PM2.5', unit: 'µg/m³' });
  });

  it('resolves month, then quarter, then year, then carries the newest earlier entry forward', async () => {
    const dir = makeTempDir('citymetrics-kpi-');
    const store = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const calendar = new CityCalendar('Europe/Paris');
    const manual = new ManualInputs({ kpiStore: store, calendar });
    const input = (period: string, value: number) =>
      entry({ subjectType: 'input', subject: 'majorStreetKm', unit: 'km', period, value });
    await store.addManualValues([
      input('2024', 100),
      input('2026', 120),
      input('2026-Q1', 125),
      input('2026-03', 130),
    ]);
    expect(manual.input('majorStreetKm', monthPeriod(calendar, '2026-03'))?.value).toBe(130);
    expect(manual.input('majorStreetKm', monthPeriod(calendar, '2026-02'))?.value).toBe(125);
    expect(manual.input('majorStreetKm', monthPeriod(calendar, '2026-05'))?.value).toBe(120);
    expect(manual.input('majorStreetKm', monthToDate(calendar, T0))?.value).toBe(130);
    const carried = manual.input('majorStreetKm', yearPeriod(calendar, '2025'));
    expect(carried).toMatchObject({ value: 100 });
    expect(carried?.source).toContain('carried forward');
    expect(manual.input('majorStreetKm', yearPeriod(calendar, '2023'))).toBeNull();
    store.close();
    dir.remove();
  });
});

describe('city profile and targets', () => {
  it('serves the figure effective at each instant, in the city zone', async () => {
    const dir = makeTempDir('citymetrics-kpi-');
    const kpiStore = KpiStore.open({ dataDir: dir.path, logger: silentLogger() });
    const calendar = new CityCalendar('Europe/Paris');
    const clock = new ManualClock(T0);
    const profile = new CityProfile({
      kpiStore,
      calendar,
      clock,
      defaults: { name: 'Demo', timeZone: 'Europe/Paris' },
    });
    await profile.update({ population: 100_000, effectiveFrom: '2020-01-01' }, 'a');
    await profile.update(
      { population: 104_000, households: 50_000, effectiveFrom: '2026-01-01', name: 'Lyon' },
      'a',
    );
    // local midnight of 1 January in Paris is 23:00 UTC on 31 December
    expect(profile.figure('population', Date.parse('2025-12-31T22:59:59Z'))?.value).toBe(100_000);
    expect(profile.figure('population', Date.parse('2025-12-31T23:00:00Z'))?.value).toBe(104_000);
    expect(profile.figure('households', Date.parse('2025-06-01T00:00:00Z'))).toBeNull();
    expect(profile.view()).toMatchObject({
      name: 'Lyon',
      timeZone: 'Europe/Paris',
      population: { value: 104_000 },
    });
    await expect(profile.update({ population: -1 }, 'a')).rejects.toThrow(
      expect.objectContaining({ code: 'API_VALIDATION' }),
    );

    const targets = new KpiTargets({ kpiStore, catalogue: loadCatalogue(), clock });
    expect(targets.valueFor('EN: EN: AQ: 1C', 'PM2.5')).toBe(5);
    await targets.set(
      loadCatalogue().get('EN: EN: AQ: 1C')!,
      { dataPoints: { 'PM2.5': 10 }, source: 'EU 2030' },
      'a',
    );
    expect(targets.valueFor('EN: EN: AQ: 1C', 'PM2.5')).toBe(10);
    expect(targets.valueFor('EN: EN: AQ: 1C', 'PM10')).toBe(15);
    expect(targets.view('EN: EN: AQ: 1C').configured).toBe(true);
    kpiStore.close();
    dir.remove();
  });
});
