import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import type { Bucket, SeriesPoint } from '../../core/ports/series-store.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { planRange } from './range-plan.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';
import { sqliteStoreOptions } from './sqlite-store-fixture.ts';

/**
 * The embedded store's month tier: aggregates over whole local months read one row per series and month,
 * and must give exactly what the readings they hold give, through late readings, revisions, an upgrade from
 * a file without the tier, and retention. Expected values are computed here from the points written.
 */

const ZONE = 'Europe/Paris';
const calendar = new CityCalendar(ZONE);
const local = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const HOUR = 3_600_000;

function openStore(file: string, clock = new ManualClock(local('2026-04-20T12:00')), dayDays = 3_660) {
  const store = SqliteSeriesStore.open(
    sqliteStoreOptions(file, {
      calendar,
      clock,
      retention: { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays },
    }),
  );
  onTestFinished(() => store.close());
  return store;
}

function tempFile(): string {
  const dir = makeTempDir('month-tier-');
  onTestFinished(() => dir.remove());
  return dir.file('series.db');
}

/** Two stations of one district, a reading every 5 hours from 10 January to 10 April (DST on 29 March). */
function quarterOfReadings(): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  const from = Date.parse('2026-01-10T00:00:00Z');
  const to = Date.parse('2026-04-10T00:00:00Z');
  for (const [device, offset] of [
    ['aq-1', 0],
    ['aq-2', 1],
  ] as const)
    for (let ts = from + offset * 7 * 60_000, i = 0; ts < to; ts += 5 * HOUR, i++)
      out.push({
        deviceId: device,
        kind: 'air-quality',
        district: 'north',
        metric: 'pm25',
        ts,
        value: ((i * 37) % 53) / 4,
      });
  return out;
}

/** count, sum, min, max, first and last of the points in [from, to), worked out from the points themselves. */
function expected(points: readonly SeriesPoint[], from: number, to: number) {
  const inRange = points.filter((p) => p.ts >= from && p.ts < to).sort((a, b) => a.ts - b.ts);
  const values = inRange.map((p) => p.value);
  return {
    count: inRange.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    firstTs: inRange[0]!.ts,
    lastTs: inRange.at(-1)!.ts,
  };
}

function expectAgg(got: Bucket | null | undefined, want: ReturnType<typeof expected>): void {
  expect(got).toBeDefined();
  expect(got).not.toBeNull();
  const { sum, ...exact } = want;
  expect(got!).toMatchObject(exact);
  expect(got!.sum).toBeCloseTo(sum, 9);
}

/** Latest value per (device, ts): a revision replaces the reading it revises. */
function latestOf(points: readonly SeriesPoint[]): SeriesPoint[] {
  const byKey = new Map<string, SeriesPoint>();
  for (const p of points) byKey.set(`${p.deviceId}|${p.ts}`, p);
  return [...byKey.values()];
}

describe('series store: the month tier', () => {
  // 15 January to 5 April, local: days, February, March (with its 23-hour day), days.
  const FROM = local('2026-01-15T00:00');
  const TO = local('2026-04-05T00:00');

  it('plans whole local months in the middle of a range, days and hours at its edges', () => {
    const plan = planRange(calendar, local('2026-01-15T06:00'), TO, 'month');
    expect(plan.filter((s) => s.tier === 'month').map((s) => [s.from, s.to])).toEqual([
      [local('2026-02-01T00:00'), local('2026-04-01T00:00')],
    ]);
    expect(plan.map((s) => s.tier)).toEqual(['hour', 'day', 'month', 'day']);
    // Without the month tier (PostgreSQL) the same range is days in the middle.
    expect(planRange(calendar, FROM, TO).map((s) => s.tier)).toEqual(['day']);
  });

  it('aggregates over months give what the readings give, per series, district and city', async () => {
    const points = quarterOfReadings();
    const store = openStore(tempFile());
    for (let i = 0; i < points.length; i += 97) await store.write(points.slice(i, i + 97));
    const want = (device?: string) =>
      expected(device === undefined ? points : points.filter((p) => p.deviceId === device), FROM, TO);
    expectAgg(
      await store.aggregate({ scope: { device: 'aq-1' }, metric: 'pm25', from: FROM, to: TO }),
      want('aq-1'),
    );
    expectAgg(
      await store.aggregate({ scope: { district: 'north' }, metric: 'pm25', from: FROM, to: TO }),
      want(),
    );
    expectAgg(await store.aggregate({ scope: { city: true }, metric: 'pm25', from: FROM, to: TO }), want());
    const byDevice = await store.aggregateByDevice({ metric: 'pm25', from: FROM, to: TO });
    expectAgg(byDevice.get('aq-1'), want('aq-1'));
    expectAgg(byDevice.get('aq-2'), want('aq-2'));
    // Each whole month on its own, March with its DST day.
    const march = [local('2026-03-01T00:00'), local('2026-04-01T00:00')] as const;
    expectAgg(
      await store.aggregate({ scope: { device: 'aq-2' }, metric: 'pm25', from: march[0], to: march[1] }),
      expected(
        points.filter((p) => p.deviceId === 'aq-2'),
        ...march,
      ),
    );
  });

  it('a late reading and revisions in a past month move its month bucket, min and max exact', async () => {
    const points = quarterOfReadings();
    const store = openStore(tempFile());
    await store.write(points);
    const feb = points.filter(
      (p) => p.deviceId === 'aq-1' && p.ts >= local('2026-02-01T00:00') && p.ts < local('2026-03-01T00:00'),
    );
    const highest = feb.reduce((a, b) => (b.value > a.value ? b : a));
    const changes: SeriesPoint[] = [
      { ...highest, value: -5 }, // the month's maximum revised down: max must fall, min must become -5
      { ...feb[3]!, value: 99 }, // another revised up
      { ...feb[0]!, ts: feb[0]!.ts + 60_000, value: 7 }, // a late reading that was never there
    ];
    const outcome = await store.write(changes);
    expect(outcome.revisions).toHaveLength(2);
    expect(outcome.inserted).toBe(1);
    const now = latestOf([...points, ...changes]);
    expectAgg(
      await store.aggregate({ scope: { device: 'aq-1' }, metric: 'pm25', from: FROM, to: TO }),
      expected(
        now.filter((p) => p.deviceId === 'aq-1'),
        FROM,
        TO,
      ),
    );
    expectAgg(
      await store.aggregate({ scope: { city: true }, metric: 'pm25', from: FROM, to: TO }),
      expected(now, FROM, TO),
    );
  });

  it('a file of schema 1 gains its months from its day buckets when opened', async () => {
    const points = quarterOfReadings();
    const file = tempFile();
    const first = SqliteSeriesStore.open(sqliteStoreOptions(file, { calendar }));
    await first.write(points);
    await first.close();
    // Schema 1 was today's tables without the month tier.
    const db = new Database(file);
    db.exec('DROP TABLE rollup_month');
    db.pragma('user_version = 1');
    db.close();
    const clock = new ManualClock(local('2026-04-20T12:00'));
    const store = openStore(file, clock);
    const check = new Database(file, { readonly: true });
    onTestFinished(() => {
      check.close();
    });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    const monthRows = () => check.prepare('SELECT COUNT(*) FROM rollup_month').pluck().get();
    // Until the store seals (its next write or retention pass) aggregates read days: the same figure.
    expect(monthRows()).toBe(0);
    expectAgg(
      await store.aggregate({ scope: { district: 'north' }, metric: 'pm25', from: FROM, to: TO }),
      expected(points, FROM, TO),
    );
    await store.prune(clock.now());
    // 2 stations, a district and the city, each January to March (April is still open): 12 months.
    expect(monthRows()).toBe(12);
    expectAgg(
      await store.aggregate({ scope: { district: 'north' }, metric: 'pm25', from: FROM, to: TO }),
      expected(points, FROM, TO),
    );
  });

  it('the open month is read from its days and sealed by the first write after it ends', async () => {
    const file = tempFile();
    const clock = new ManualClock(local('2026-03-31T23:00'));
    const store = openStore(file, clock);
    const march = quarterOfReadings().filter(
      (p) => p.ts >= local('2026-03-01T00:00') && p.ts < local('2026-04-01T00:00'),
    );
    await store.write(march);
    const check = new Database(file, { readonly: true });
    onTestFinished(() => {
      check.close();
    });
    const marchRows = () =>
      check
        .prepare('SELECT COUNT(*) FROM rollup_month WHERE bucket = ?')
        .pluck()
        .get(local('2026-03-01T00:00'));
    const whole = { from: local('2026-03-01T00:00'), to: local('2026-04-01T00:00') };
    expect(marchRows()).toBe(0); // open: no month row is written per batch
    expectAgg(
      await store.aggregate({ scope: { city: true }, metric: 'pm25', ...whole }),
      expected(march, whole.from, whole.to),
    );
    // April, local: the next batch seals March first, then its own late reading of March folds into it.
    clock.set(local('2026-04-01T00:30'));
    const late = { ...march[0]!, ts: march[0]!.ts + 30_000, value: 1_000 };
    await store.write([late]);
    expect(marchRows()).toBe(4);
    expectAgg(
      await store.aggregate({ scope: { city: true }, metric: 'pm25', ...whole }),
      expected([...march, late], whole.from, whole.to),
    );
  });

  it('retention drops the months wholly before the day tier cut and keeps the month holding it', async () => {
    const points = quarterOfReadings();
    const clock = new ManualClock(local('2026-04-20T12:00'));
    const store = openStore(tempFile(), clock, 40); // days kept from 11 March
    await store.write(points);
    await store.prune(clock.now());
    expect(store.retentionHorizons.month).toBe(local('2026-03-01T00:00'));
    const month = (m: string) => ({
      scope: { device: 'aq-1' },
      metric: 'pm25',
      from: local(`2026-${m}-01T00:00`),
      to: DateTime.fromISO(`2026-${m}-01T00:00`, { zone: ZONE }).plus({ months: 1 }).toMillis(),
    });
    expect(await store.aggregate(month('02'))).toBeNull();
    // March stays whole, as it was summed, though its first ten days have left the day tier.
    const march = month('03');
    expectAgg(
      await store.aggregate(march),
      expected(
        points.filter((p) => p.deviceId === 'aq-1'),
        march.from,
        march.to,
      ),
    );
  });
});
