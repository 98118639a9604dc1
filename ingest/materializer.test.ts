import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import type { SeriesPoint, SeriesStore } from '../core/ports/series-store.ts';
import { DurableLog } from './durable-log.ts';
import { Materializer } from './materializer.ts';
import { SqliteSeriesStore } from './store/sqlite-series-store.ts';

const T0 = Date.UTC(2026, 2, 15, 12);
const dirs: string[] = [];
const closers: Array<() => unknown> = [];

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A store write holds the event loop (SQLite is synchronous): the materializer cuts its batches to what
 * fits in batchTargetMs by the cost it measured, splitting even one big committed batch, and loses nothing.
 */
it('cuts store writes to the measured budget, splitting a large commit, and stores every value once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm-mat-'));
  dirs.push(dir);
  const clock = new ManualClock(T0);
  const store = SqliteSeriesStore.open({
    file: join(dir, 'series.db'),
    calendar: new CityCalendar('Europe/Paris'),
    retention: { rawDays: 30, minuteDays: 30, hourDays: 365, dayDays: 3650 },
    logger: silentLogger(),
    clock,
  });
  closers.push(() => store.close());
  const sizes: number[] = [];
  // The real store, observed: each write's size is recorded.
  const observed: Pick<SeriesStore, 'write'> = {
    write: (points: readonly SeriesPoint[]) => {
      sizes.push(points.length);
      return store.write(points);
    },
  };
  let materializer: Materializer | null = null;
  const log = DurableLog.open({
    dataDir: dir,
    sync: 'normal',
    flushMaxValues: 100_000,
    flushIntervalMs: 1,
    clock,
    logger: silentLogger(),
    onCommit: (b) => materializer?.accept(b),
  });
  closers.push(() => log.close());
  materializer = new Materializer({
    log,
    store: observed,
    logger: silentLogger(),
    clock,
    maxBacklogValues: 1_000_000,
    maxInMemoryValues: 1_000_000,
    batchMaxValues: 5_000,
    batchTargetMs: 0.000_001, // any measured cost is over budget: every write after the first is the floor
  });
  closers.push(() => materializer?.stop());
  materializer.start();
  const ctx = { deviceId: 'd1', kind: 'air-quality-station', district: 'Old Town' };
  const first = Array.from({ length: 3_000 }, (_, i) => ({
    metric: 'pm25',
    ts: T0 - 3_600_000 + i,
    value: i,
  }));
  const pending = log.appendReadings(ctx, first);
  log.flush();
  await pending;
  await materializer.idle();
  const second = Array.from({ length: 1_200 }, (_, i) => ({ metric: 'pm25', ts: T0 + i, value: i }));
  const more = log.appendReadings(ctx, second);
  log.flush();
  await more;
  await materializer.idle();
  expect(sizes[0]).toBe(3_000); // nothing measured yet: batchMaxValues
  expect(sizes.slice(1)).toEqual([250, 250, 250, 250, 200]);
  const all = await store.aggregate({
    scope: { device: 'd1' },
    metric: 'pm25',
    from: T0 - 86_400_000,
    to: T0 + 86_400_000,
  });
  expect(all?.count).toBe(4_200);
  expect(log.materializedSeq).toBe(log.committedSeq);
});

it('tries a refused store write again when the clock reaches its back-off, not a millisecond before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm-mat-'));
  dirs.push(dir);
  const clock = new ManualClock(T0);
  const store = SqliteSeriesStore.open({
    file: join(dir, 'series.db'),
    calendar: new CityCalendar('Europe/Paris'),
    retention: { rawDays: 30, minuteDays: 30, hourDays: 365, dayDays: 3650 },
    logger: silentLogger(),
    clock,
  });
  closers.push(() => store.close());
  // The real store, observed: each write attempt is kept, to wait for its outcome.
  const attempts: Array<Promise<unknown>> = [];
  const observed: Pick<SeriesStore, 'write'> = {
    write: (points: readonly SeriesPoint[]) => {
      const attempt = store.write(points);
      attempts.push(attempt.catch(() => undefined));
      return attempt;
    },
  };
  let materializer: Materializer | null = null;
  const log = DurableLog.open({
    dataDir: dir,
    sync: 'normal',
    flushMaxValues: 1,
    flushIntervalMs: 60_000,
    clock,
    logger: silentLogger(),
    onCommit: (b) => materializer?.accept(b),
  });
  closers.push(() => log.close());
  materializer = new Materializer({
    log,
    store: observed,
    logger: silentLogger(),
    clock,
    maxBacklogValues: 1_000,
    maxInMemoryValues: 1_000,
    // jitter fixed at half its range: each delay is three quarters of its ceiling, 75 ms then 150 ms
    retry: { baseMs: 100, maxMs: 10_000 },
    random: () => 0.5,
  });
  closers.push(() => materializer?.stop());
  materializer.start();
  // The points table goes away under the store (another connection): its writes fail until it is back.
  const other = new Database(join(dir, 'series.db'));
  closers.push(() => other.close());
  other.exec('ALTER TABLE points RENAME TO points_away');
  await log.appendReadings({ deviceId: 'd1', kind: 'air-quality-station', district: 'Old Town' }, [
    { metric: 'pm25', ts: T0 - 60_000, value: 7 },
  ]);
  expect(attempts).toHaveLength(1);
  await attempts[0];
  clock.advance(74);
  expect(attempts).toHaveLength(1);
  clock.advance(1);
  expect(attempts).toHaveLength(2);
  await attempts[1];
  other.exec('ALTER TABLE points_away RENAME TO points');
  clock.advance(149); // the back-off doubled
  expect(attempts).toHaveLength(2);
  expect(log.materializedSeq).toBe(0);
  clock.advance(1);
  expect(attempts).toHaveLength(3);
  await materializer.idle();
  expect(log.materializedSeq).toBe(1);
  expect(await store.latest('d1')).toEqual([{ metric: 'pm25', ts: T0 - 60_000, value: 7 }]);
});
