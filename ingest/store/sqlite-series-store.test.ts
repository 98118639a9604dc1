import fs from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { seriesStoreContract } from '../../test/contracts/series-store.contract.ts';
import { pt, utc } from '../../test/contracts/series-store-fixtures.ts';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteSeriesStore, type SqliteSeriesStoreOptions } from './sqlite-series-store.ts';
import { sqliteStoreOptions } from './sqlite-store-fixture.ts';

const DAY = 86_400_000;
const options = sqliteStoreOptions;

seriesStoreContract('sqlite', async (zone) => {
  const dir = makeTempDir('series-store-');
  const store = SqliteSeriesStore.open(options(dir.file('series.db'), { calendar: new CityCalendar(zone) }));
  return { store, cleanup: async () => dir.remove() };
});

function tempDir(): TempDir {
  const dir = makeTempDir('series-store-');
  onTestFinished(() => dir.remove());
  return dir;
}

function openStore(file: string, extra: Partial<SqliteSeriesStoreOptions> = {}): SqliteSeriesStore {
  const store = SqliteSeriesStore.open(options(file, extra));
  onTestFinished(() => store.close());
  return store;
}

function expectCorrupt(file: string): void {
  let caught: unknown;
  try {
    SqliteSeriesStore.open(options(file)).close();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CityError);
  expect((caught as CityError).code).toBe('STORE_CORRUPT');
  expect((caught as CityError).message).toContain(file);
}

describe('SqliteSeriesStore', () => {
  const T = utc('2026-01-12T10:00');

  it('keeps points, roll-ups and identities across a reopen', async () => {
    const file = tempDir().file('series.db');
    const first = SqliteSeriesStore.open(options(file));
    await first.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 60_000, 2)]);
    await first.close();
    const store = openStore(file);
    expect(await store.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 60_000, 3)])).toEqual({
      inserted: 0,
      duplicates: 1,
      revisions: [{ deviceId: 'aq-1', metric: 'pm25', ts: T + 60_000, previous: 2, value: 3 }],
    });
    const agg = await store.aggregate({ scope: { city: true }, metric: 'pm25', from: T, to: T + DAY });
    expect([agg?.count, agg?.sum]).toEqual([2, 4]);
    expect(store.listSeries({ metric: 'pm25' })).toEqual([
      { scope: 'district', key: 'north', metric: 'pm25' },
      { scope: 'city', key: '', metric: 'pm25' },
      { scope: 'device', key: 'aq-1', metric: 'pm25' },
    ]);
  });

  it('refuses a damaged file with STORE_CORRUPT and leaves it untouched', () => {
    const file = tempDir().file('series.db');
    const garbage = Buffer.alloc(8192, 0x5a);
    fs.writeFileSync(file, garbage);
    expectCorrupt(file);
    expect(fs.readFileSync(file).equals(garbage)).toBe(true);
  });

  it('refuses a truncated store file with STORE_CORRUPT', async () => {
    const file = tempDir().file('series.db');
    const store = SqliteSeriesStore.open(options(file));
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    await store.close();
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(4096, 0xff)]));
    expectCorrupt(file);
  });

  it('refuses foreign SQLite files: no application id, another id, a newer schema', () => {
    const dir = tempDir();
    const make = (name: string, setup: (db: Database.Database) => void): string => {
      const file = dir.file(name);
      const db = new Database(file);
      setup(db);
      db.close();
      return file;
    };
    expectCorrupt(make('plain.db', (db) => db.exec('CREATE TABLE notes (x)')));
    expectCorrupt(make('other.db', (db) => db.pragma('application_id = 42')));
    const store = SqliteSeriesStore.open(options(dir.file('newer.db')));
    store.close();
    const newer = make('newer.db', (db) => db.pragma('user_version = 99'));
    expectCorrupt(newer);
  });

  it('classifies a batch of 50 000 points across 500 series exactly', async () => {
    const store = openStore(tempDir().file('series.db'));
    const first: SeriesPoint[] = [];
    for (let i = 0; i < 50_000; i++) {
      const dev = i % 500;
      first.push(pt(`dev-${dev}`, 'pm25', T + Math.floor(i / 500) * 60_000, (i * 13) % 97, `d${dev % 7}`));
    }
    expect(await store.write(first)).toEqual({ inserted: 50_000, duplicates: 0, revisions: [] });
    // Second batch: every 10th point revised, the rest repeated, plus 5 000 late points older than all.
    const second: SeriesPoint[] = first.map((p, i) => (i % 10 === 0 ? { ...p, value: p.value + 1000 } : p));
    for (let i = 0; i < 5_000; i++)
      second.push(pt(`dev-${i % 500}`, 'pm25', T - (1 + Math.floor(i / 500)) * 60_000, 1, `d${i % 7}`));
    const out = await store.write(second.reverse());
    expect(out.inserted).toBe(5_000);
    expect(out.duplicates).toBe(45_000);
    expect(out.revisions.length).toBe(5_000);
    expect(out.revisions.every((r) => r.value === r.previous + 1000)).toBe(true);
    const expectedSum = first.reduce((s, p, i) => s + p.value + (i % 10 === 0 ? 1000 : 0), 0) + 5_000;
    for (const step of ['minute', 'hour', 'day'] as const) {
      const buckets = await store.query({
        scope: { city: true },
        metric: 'pm25',
        from: T - DAY,
        to: T + DAY,
        step,
      });
      expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(55_000);
      expect(buckets.reduce((n, b) => n + b.sum, 0)).toBe(expectedSum);
    }
    const d3 = await store.aggregate({
      scope: { district: 'd3' },
      metric: 'pm25',
      from: T - DAY,
      to: T + DAY,
    });
    const d3Points = second.filter((p) => p.district === 'd3');
    expect(d3?.max).toBe(Math.max(...d3Points.map((p) => p.value)));
  });

  it('prunes each tier by its retention, raw points at a city-day boundary', async () => {
    const now = utc('2026-03-01T12:00');
    const retention = { rawDays: 2, minuteDays: 3, hourDays: 5, dayDays: 30 };
    const store = openStore(tempDir().file('series.db'), { retention });
    const ages = [1, 2.4, 4, 10, 40]; // days before now
    await store.write(ages.map((a, i) => pt('aq-1', 'pm25', now - a * DAY, i + 1)));
    expect(await store.prune(now)).toBeGreaterThan(0);
    const count = async (step: 'minute' | 'hour' | 'day') =>
      (await store.query({ scope: { device: 'aq-1' }, metric: 'pm25', from: now - 100 * DAY, to: now, step }))
        .length;
    expect(await count('minute')).toBe(2); // 1 and 2.4 days old
    expect(await count('hour')).toBe(3);
    expect(await count('day')).toBe(4);
    // Raw cut = start of the Paris day holding now - 2 days (2026-02-26T23:00Z): the 2.4-day-old point is kept.
    const late = await store.write([
      pt('aq-1', 'pm25', now - 2.4 * DAY, 99),
      pt('aq-1', 'pm25', now - 4 * DAY, 3),
    ]);
    expect(late.revisions.map((r) => r.previous)).toEqual([2]);
    // The 4-day-old one is past the raw horizon: its identity cannot be checked, so it is not taken again.
    expect(late.inserted + late.duplicates).toBe(0);
    const [hour4] = await store.query({
      scope: { city: true },
      metric: 'pm25',
      from: now - 4 * DAY - 3_600_000,
      to: now - 3.9 * DAY,
      step: 'hour',
    });
    expect(hour4?.count).toBe(1);
  });

  it.each([
    { hourDays: 10, hours: 2 }, // minutes gone: hours from raw points, the day from its hours
    { hourDays: 2, hours: 0 }, // minutes and hours gone: the day from raw points
  ])(
    'recomputes roll-ups after a revision once finer tiers are pruned (hourDays $hourDays)',
    async ({ hourDays, hours }) => {
      const now = utc('2026-03-01T12:00');
      const retention = { rawDays: 10, minuteDays: 1, hourDays, dayDays: 30 };
      const store = openStore(tempDir().file('series.db'), { retention });
      const t = utc('2026-02-24T10:00'); // 5 days old
      await store.write([
        pt('aq-1', 'pm25', t, 50),
        pt('aq-1', 'pm25', t + 60_000, 10),
        pt('aq-1', 'pm25', t + 3_600_000, 20),
      ]);
      await store.prune(now);
      const out = await store.write([pt('aq-1', 'pm25', t, 1)]); // the max of its hour and day drops
      expect(out.revisions.length).toBe(1);
      const q = { metric: 'pm25', from: t - DAY, to: t + DAY } as const;
      expect(await store.query({ ...q, scope: { device: 'aq-1' }, step: 'minute' })).toEqual([]);
      const hourRows = await store.query({ ...q, scope: { district: 'north' }, step: 'hour' });
      expect(hourRows.map((h) => [h.count, h.sum, h.min, h.max])).toEqual(
        hours
          ? [
              [2, 11, 1, 10],
              [1, 20, 20, 20],
            ]
          : [],
      );
      const [day] = await store.query({ ...q, scope: { city: true }, step: 'day' });
      expect([day?.count, day?.sum, day?.min, day?.max, day?.first, day?.last]).toEqual([
        3, 31, 1, 20, 1, 20,
      ]);
    },
  );

  it('answers latest from roll-ups once raw points are pruned, and keeps horizons across a reopen', async () => {
    const file = tempDir().file('series.db');
    const now = utc('2026-03-01T12:00');
    const retention = { rawDays: 1, minuteDays: 30, hourDays: 30, dayDays: 30 };
    const first = SqliteSeriesStore.open(options(file, { retention }));
    await first.write([pt('aq-1', 'pm25', now - 5 * DAY, 7)]);
    await first.prune(now);
    await first.close();
    const store = openStore(file, { retention });
    expect(await store.latest('aq-1')).toEqual([{ metric: 'pm25', ts: now - 5 * DAY, value: 7 }]);
    expect(await store.write([pt('aq-1', 'pm25', now - 5 * DAY, 7)])).toEqual({
      inserted: 0,
      duplicates: 0,
      revisions: [],
    });
  });

  it('keeps revision history with the time of the revision', async () => {
    const file = tempDir().file('series.db');
    const clock = new ManualClock(T + 5 * DAY);
    const store = openStore(file, { clock });
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    await store.write([pt('aq-1', 'pm25', T, 2)]);
    const db = new Database(file, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    expect(db.prepare('SELECT ts, previous, value, revised_at FROM revisions').all()).toEqual([
      { ts: T, previous: 1, value: 2, revised_at: T + 5 * DAY },
    ]);
  });

  it('follows a device that moves district: new points roll up into the new district', async () => {
    const store = openStore(tempDir().file('series.db'));
    await store.write([pt('aq-1', 'pm25', T, 1, 'north')]);
    await store.write([pt('aq-1', 'pm25', T + 60_000, 2, 'south')]);
    const q = { metric: 'pm25', from: T, to: T + DAY } as const;
    expect((await store.aggregate({ ...q, scope: { district: 'north' } }))?.sum).toBe(1);
    expect((await store.aggregate({ ...q, scope: { district: 'south' } }))?.sum).toBe(2);
    expect((await store.aggregate({ ...q, scope: { city: true } }))?.sum).toBe(3);
    expect(store.listSeries({ scope: 'district' }).map((s) => s.key)).toEqual(['north', 'south']);
  });

  it('refuses non-finite values before writing anything, and writes after close', async () => {
    const store = SqliteSeriesStore.open(options(tempDir().file('series.db')));
    await expect(
      store.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 1, Number.NaN)]),
    ).rejects.toMatchObject({
      code: 'INGEST_NOT_FINITE',
    });
    expect(await store.latest('aq-1')).toEqual([]);
    await store.close();
    await expect(store.write([pt('aq-1', 'pm25', T, 1)])).rejects.toMatchObject({
      code: 'INGEST_SHUTTING_DOWN',
    });
    expect(store.health().ok).toBe(false);
  });
});
