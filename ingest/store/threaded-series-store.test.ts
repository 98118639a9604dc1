import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { concatPacked, packPoints, slicePacked, unpackPoints } from '../../core/packed-points.ts';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { seriesStoreContract } from '../../test/contracts/series-store.contract.ts';
import { pt, utc } from '../../test/contracts/series-store-fixtures.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import type { SqliteSeriesStoreOptions } from './sqlite-series-store.ts';
import { sqliteStoreOptions } from './sqlite-store-fixture.ts';
import { ThreadedSqliteSeriesStore } from './threaded-series-store.ts';
import { WRITER_THREAD_NAME } from './writer-thread-protocol.ts';

const DAY = 86_400_000;
const T = utc('2026-01-12T10:00');
const options = sqliteStoreOptions;

seriesStoreContract('sqlite, writes on a worker thread', async (zone) => {
  const dir = makeTempDir('threaded-store-');
  const store = await ThreadedSqliteSeriesStore.open(
    options(dir.file('series.db'), { calendar: new CityCalendar(zone) }),
  );
  return { store, cleanup: async () => dir.remove() };
});

async function openStore(extra: Partial<SqliteSeriesStoreOptions> = {}): Promise<{
  store: ThreadedSqliteSeriesStore;
  file: string;
}> {
  const dir = makeTempDir('threaded-store-');
  const file = dir.file('series.db');
  const store = await ThreadedSqliteSeriesStore.open(options(file, extra));
  onTestFinished(async () => {
    await store.close();
    dir.remove();
  });
  return { store, file };
}

/** The writer thread, for the tests that kill it: there is no public handle on purpose. */
const writerOf = (store: ThreadedSqliteSeriesStore): Worker =>
  (store as unknown as { worker: Worker | null }).worker as Worker;

/** The names (`comm`) of this process's threads (Linux). */
const threadNames = (): string[] =>
  fs
    .readdirSync('/proc/self/task')
    .map((tid) => fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());

describe('ThreadedSqliteSeriesStore', () => {
  it.runIf(fs.existsSync('/proc/thread-self'))('names its writer thread for per-thread views', async () => {
    await openStore();
    expect(threadNames()).toContain(WRITER_THREAD_NAME);
  });

  it('packs points for the thread and unpacks them unchanged', () => {
    const points: SeriesPoint[] = [
      pt('aq-1', 'pm25', T, 1.5, 'north'),
      pt('aq-2', 'no2', T + 1, -0.25, 'south'),
      pt('aq-1', 'pm25', T + 2, 1e-12, 'north'),
    ];
    const { packed, transfer } = packPoints(points);
    expect(packed.strings.length).toBeLessThan(points.length * 4); // repeated strings are sent once
    expect(transfer).toHaveLength(3);
    expect(unpackPoints(structuredClone(packed, { transfer }))).toEqual(points);
  });

  it('slices and concatenates packed batches, merging their string tables', () => {
    const a = [pt('aq-1', 'pm25', T, 1, 'north'), pt('aq-2', 'no2', T, 2, 'south'), pt('aq-3', 'o3', T, 3)];
    const b = [pt('aq-2', 'no2', T + 1, 4, 'south'), pt('aq-9', 'so2', T + 1, 5, 'east')];
    const joined = concatPacked([slicePacked(packPoints(a).packed, 1, 3), packPoints(b).packed]);
    expect(unpackPoints(joined)).toEqual([...a.slice(1), ...b]);
    expect(new Set(joined.strings).size).toBe(joined.strings.length);
  });

  it('a resolved write is readable at once from the main thread, new series included', async () => {
    const { store } = await openStore();
    for (let d = 0; d < 3; d++) {
      const id = `aq-${d}`;
      expect(await store.write([pt(id, 'pm25', T, d + 1, 'north'), pt(id, 'no2', T, 10)])).toEqual({
        inserted: 2,
        duplicates: 0,
        revisions: [],
      });
      expect((await store.latest(id)).map((v) => v.metric)).toEqual(['no2', 'pm25']);
    }
    const city = await store.aggregate({ scope: { city: true }, metric: 'pm25', from: T, to: T + DAY });
    expect(city?.sum).toBe(6);
    expect(store.listSeries({ scope: 'device', metric: 'pm25' })).toHaveLength(3);
  });

  it('stamps revisions with the main thread clock, and keeps them in the file', async () => {
    const clock = new ManualClock(T + 5 * DAY);
    const { store, file } = await openStore({ clock });
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    const out = await store.write([pt('aq-1', 'pm25', T, 2)]);
    expect(out.revisions).toEqual([{ deviceId: 'aq-1', metric: 'pm25', ts: T, previous: 1, value: 2 }]);
    const db = new Database(file, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    expect(db.prepare('SELECT previous, value, revised_at FROM revisions').all()).toEqual([
      { previous: 1, value: 2, revised_at: T + 5 * DAY },
    ]);
  });

  it('brings the thread’s errors back with their code and field, and writes nothing of the batch', async () => {
    const { store } = await openStore();
    await expect(
      store.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 1, Number.NaN)]),
    ).rejects.toMatchObject({ code: 'INGEST_NOT_FINITE', field: 'aq-1.pm25' });
    expect(await store.latest('aq-1')).toEqual([]);
  });

  it('a locked file fails the write as retryable, and the same batch goes in once the lock is gone', async () => {
    const { store, file } = await openStore();
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    const other = new Database(file);
    onTestFinished(() => {
      other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    const batch = [pt('aq-1', 'pm25', T + 60_000, 2)];
    await expect(store.write(batch)).rejects.toMatchObject({
      code: 'INGEST_STORE_UNAVAILABLE',
      retryable: true,
    });
    expect(store.health()).toMatchObject({ ok: true, writeFailures: 1 });
    expect(store.health().detail).toMatch(/locked|busy/i);
    other.exec('ROLLBACK');
    expect(await store.write(batch)).toMatchObject({ inserted: 1 });
    expect((await store.latest('aq-1'))[0]?.value).toBe(2);
  });

  it('a writer thread that dies fails its write as retryable; the next write starts a new thread', async () => {
    const { store } = await openStore();
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    const first = writerOf(store);
    const writing = store.write([pt('aq-1', 'pm25', T + 60_000, 2)]);
    await first.terminate();
    // The write either finished before the thread died or failed retryably: never silently lost.
    const settled = await writing.then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    if ('error' in settled) expect(settled.error).toMatchObject({ code: 'INGEST_STORE_UNAVAILABLE' });
    expect(
      await store.write([pt('aq-1', 'pm25', T + 60_000, 2), pt('aq-1', 'pm25', T + 120_000, 3)]),
    ).toEqual({
      inserted: 'error' in settled ? 2 : 1,
      duplicates: 'error' in settled ? 0 : 1,
      revisions: [],
    });
    expect(writerOf(store)).not.toBe(first);
    const day = await store.aggregate({ scope: { device: 'aq-1' }, metric: 'pm25', from: T, to: T + DAY });
    expect(day).toMatchObject({ count: 3, sum: 6 });
  });

  it('prunes on the writer thread', async () => {
    const now = T + 40 * DAY;
    const { store } = await openStore();
    await store.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', now - DAY, 2)]);
    expect(await store.prune(now)).toBeGreaterThan(0);
    // The raw point of T is gone, so writing it again is refused as expired, not counted as new.
    expect(await store.write([pt('aq-1', 'pm25', T, 1)])).toEqual({
      inserted: 0,
      duplicates: 0,
      revisions: [],
    });
  });

  it('refuses a damaged file before starting a thread', async () => {
    const dir = makeTempDir('threaded-store-');
    onTestFinished(() => dir.remove());
    const file = dir.file('series.db');
    fs.writeFileSync(file, 'not a database, just text'.repeat(200));
    await expect(ThreadedSqliteSeriesStore.open(options(file))).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
  });

  it('after close, writes are refused as shutting down and health says closed', async () => {
    const dir = makeTempDir('threaded-store-');
    onTestFinished(() => dir.remove());
    const store = await ThreadedSqliteSeriesStore.open(options(dir.file('series.db')));
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    await store.close();
    await expect(store.write([pt('aq-1', 'pm25', T, 1)])).rejects.toMatchObject({
      code: 'INGEST_SHUTTING_DOWN',
    });
    expect(store.health().ok).toBe(false);
    // Both connections are closed: the file opens for writing with no lock held.
    const db = new Database(dir.file('series.db'), { timeout: 0 });
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
    db.close();
  });
});
