import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { isCityError } from '../core/errors.ts';
import { createLogger, silentLogger } from '../core/logger.ts';
import { unpackPoints } from '../core/packed-points.ts';
import { type CommittedBatch, DurableLog, type DurableLogOptions } from './durable-log.ts';

const T0 = Date.UTC(2026, 2, 15, 12);
const DAY = 86_400_000;
const dev = { deviceId: 'd1', kind: 'air-quality-station', district: 'Old Town' };
const v = (metric: string, ts: number, value: number) => ({ metric, ts, value });

/** The group commit's interval in these tests: the log commits when the manual clock has moved this far. */
const FLUSH_MS = 5;

let dir: string;
let clock: ManualClock;
let commits: CommittedBatch[];
const open: DurableLog[] = [];

function openLog(overrides: Partial<DurableLogOptions> = {}): DurableLog {
  const log = DurableLog.open({
    dataDir: dir,
    sync: 'normal',
    flushMaxValues: 1_000,
    flushIntervalMs: FLUSH_MS,
    clock,
    logger: silentLogger(),
    onCommit: (b) => commits.push(b),
    ...overrides,
  });
  open.push(log);
  return log;
}

/** Moves the clock through the group commit's interval, which commits what is queued, and waits for it. */
function committed<T>(append: Promise<T>): Promise<T> {
  clock.advance(FLUSH_MS);
  return append;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cm-log-'));
  clock = new ManualClock(T0);
  commits = [];
});
afterEach(() => {
  for (const log of open.splice(0)) log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('commits everything queued together in one transaction, once the interval passes', async () => {
    const log = openLog();
    const waits = [
      log.appendReadings(dev, [v('pm25', T0, 1), v('pm10', T0, 2)]),
      log.appendReadings({ ...dev, deviceId: 'd2' }, [v('pm25', T0, 3)]),
      log.appendReadings(dev, [v('no2', T0, 4)]),
    ];
    expect(log.committedSeq).toBe(0);
    expect(log.queuedValues).toBe(4);
    clock.advance(FLUSH_MS);
    await Promise.all(waits);
    expect(commits).toHaveLength(1);
    expect(commits[0]).toMatchObject({ firstSeq: 1, lastSeq: 4 });
    expect(unpackPoints(commits[0]!.packed).map((p) => [p.deviceId, p.metric, p.value])).toEqual([
      ['d1', 'pm25', 1],
      ['d1', 'pm10', 2],
      ['d2', 'pm25', 3],
      ['d1', 'no2', 4],
    ]);
  });

  it('commits when the clock reaches the interval after the first value queued, not a millisecond before', async () => {
    const log = openLog();
    const first = log.appendReadings(dev, [v('pm25', T0, 1)]);
    clock.advance(FLUSH_MS - 2);
    // A later append joins the commit the first one started: the interval is not restarted.
    const second = log.appendReadings(dev, [v('pm10', T0, 2)]);
    clock.advance(1);
    expect(log.committedSeq).toBe(0);
    expect(log.queuedValues).toBe(2);
    clock.advance(1);
    expect(log.committedSeq).toBe(2);
    expect(log.queuedValues).toBe(0);
    await Promise.all([first, second]);
    expect(commits).toHaveLength(1);
    // received_at is the instant of the commit
    const db = new Database(join(dir, 'log.db'), { readonly: true });
    expect(db.prepare('SELECT DISTINCT received_at FROM log').pluck().all()).toEqual([T0 + FLUSH_MS]);
    db.close();
    // Nothing queued, no timer: moving on commits nothing more.
    clock.advance(FLUSH_MS);
    expect(commits).toHaveLength(1);
  });

  it('commits at once when flushMaxValues values wait', () => {
    const log = openLog({ flushMaxValues: 3, flushIntervalMs: 60_000 });
    void log.appendReadings(dev, [v('pm25', T0, 1), v('pm10', T0, 2)]);
    expect(log.committedSeq).toBe(0);
    const last = log.appendReadings(dev, [v('no2', T0, 3)]);
    expect(log.committedSeq).toBe(3);
    expect(log.queuedValues).toBe(0);
    return expect(last).resolves.toBeUndefined();
  });

  it('keeps seqs contiguous across reopen and reads back by seq', async () => {
    let log = openLog();
    await committed(log.appendReadings(dev, [v('pm25', T0, 1), v('pm25', T0 + 60_000, 2)]));
    log.close();
    log = openLog();
    expect(log.committedSeq).toBe(2);
    await committed(log.appendReadings(dev, [v('pm25', T0 + 120_000, 3)]));
    expect(commits.at(-1)).toMatchObject({ firstSeq: 3, lastSeq: 3 });
    const read = log.readFrom(2, 10);
    expect(read).toMatchObject({ firstSeq: 2, lastSeq: 3 });
    expect(read.points).toEqual([
      { ...dev, metric: 'pm25', ts: T0 + 60_000, value: 2 },
      { ...dev, metric: 'pm25', ts: T0 + 120_000, value: 3 },
    ]);
    expect(log.readFrom(4, 10)).toEqual({ points: [], firstSeq: 4, lastSeq: 3 });
    expect(log.readFrom(1, 1).lastSeq).toBe(1);
  });

  it('close commits what is queued; later appends are refused', async () => {
    let log = openLog({ flushIntervalMs: 60_000 });
    const pending = log.appendReadings(dev, [v('pm25', T0, 1)]);
    log.close();
    await expect(pending).resolves.toBeUndefined();
    await expect(log.appendReadings(dev, [v('pm25', T0, 2)])).rejects.toMatchObject({
      code: 'INGEST_SHUTTING_DOWN',
    });
    log = openLog();
    expect(log.committedSeq).toBe(1);
  });

  it('materialized_seq survives a reopen and never goes back', () => {
    let log = openLog();
    log.setMaterializedSeq(5);
    log.setMaterializedSeq(3);
    expect(log.materializedSeq).toBe(5);
    log.close();
    log = openLog();
    expect(log.materializedSeq).toBe(5);
    // An empty log still continues after what was materialized.
    expect(log.committedSeq).toBe(5);
  });
});

describe('events', () => {
  it('dedupes by (device, type, ts), keeps every arrival in events_log, and filters queries', async () => {
    const log = openLog();
    const e = {
      ...dev,
      kind: 'electricity-smart-meter',
      type: 'outage_start',
      ts: T0,
      data: { phase: 'L1' },
    };
    expect(await committed(log.appendEvent(e))).toBe(true);
    expect(await committed(log.appendEvent(e))).toBe(false);
    expect(await committed(log.appendEvent({ ...e, type: 'restore', ts: T0 + 60_000, data: null }))).toBe(
      true,
    );
    expect(await committed(log.appendEvent({ ...e, deviceId: 'd2', ts: T0 + 1 }))).toBe(true);
    expect(commits).toHaveLength(0); // events do not feed the series store
    const all = log.queryEvents({ from: T0, to: T0 + DAY });
    expect(all.map((r) => [r.deviceId, r.type, r.ts])).toEqual([
      ['d1', 'outage_start', T0],
      ['d2', 'outage_start', T0 + 1],
      ['d1', 'restore', T0 + 60_000],
    ]);
    // received at its commit, the group commit's interval after it was queued
    expect(all[0]).toMatchObject({ data: { phase: 'L1' }, receivedAt: T0 + FLUSH_MS });
    expect(log.queryEvents({ deviceIds: ['d1'], types: ['restore'], from: T0, to: T0 + DAY })).toHaveLength(
      1,
    );
    expect(log.queryEvents({ from: T0 + 1, to: T0 + 60_000 })).toHaveLength(1);
    expect(log.queryEvents({ deviceIds: [], from: 0, to: T0 + DAY })).toEqual([]);
    log.close();
    const db = new Database(join(dir, 'log.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM events_log').pluck().get()).toBe(4);
    db.close();
  });
});

describe('retention', () => {
  it('deletes only messages past retention AND wholly materialized; events stay in device_events', async () => {
    const log = openLog();
    await committed(log.appendReadings(dev, [v('pm25', T0, 1), v('pm25', T0 + 1, 2), v('pm25', T0 + 2, 3)]));
    await committed(log.appendEvent({ ...dev, type: 'calibration', ts: T0, data: null }));
    clock.advance(5 * DAY);
    await committed(log.appendReadings(dev, [v('pm25', clock.now(), 4)]));
    log.setMaterializedSeq(2);
    clock.advance(4 * DAY);
    // 9 days after the first message, 4 after the last: with 8 days retention only old messages whose
    // values are ALL materialized go. The first holds seq 1-3 and only 1-2 are materialized: it stays.
    expect(await log.prune(clock.now(), 8)).toBe(1); // the events_log row
    expect(log.readFrom(3, 10).points.map((p) => p.value)).toEqual([3, 4]);
    log.setMaterializedSeq(3);
    expect(await log.prune(clock.now(), 8)).toBe(1); // the message of seq 1-3
    expect(log.readFrom(1, 10).points.map((p) => p.value)).toEqual([4]);
    log.setMaterializedSeq(4);
    expect(await log.prune(clock.now() + 10 * DAY, 8)).toBe(1);
    expect(log.readFrom(1, 10).points).toEqual([]);
    expect(log.queryEvents({ from: 0, to: clock.now() })).toHaveLength(1);
    expect(log.committedSeq).toBe(4);
  });
});

describe('one row per message', () => {
  it('reads from the middle of a message, up to a limit that ends inside another', async () => {
    const log = openLog();
    await committed(log.appendReadings(dev, [v('pm25', T0, 1), v('pm10', T0, 2), v('no2', T0, 3)]));
    await committed(log.appendReadings({ ...dev, deviceId: 'd2' }, [v('pm25', T0, 4), v('pm10', T0, 5)]));
    const read = log.readFrom(2, 3);
    expect(read).toMatchObject({ firstSeq: 2, lastSeq: 4 });
    expect(read.points.map((p) => [p.deviceId, p.metric, p.value])).toEqual([
      ['d1', 'pm10', 2],
      ['d1', 'no2', 3],
      ['d2', 'pm25', 4],
    ]);
    log.close();
    // The log_values view shows one row per value, with its own seq.
    const db = new Database(join(dir, 'log.db'), { readonly: true });
    expect(db.prepare('SELECT seq, device_id, metric, ts, value FROM log_values ORDER BY seq').all()).toEqual(
      [
        { seq: 1, device_id: 'd1', metric: 'pm25', ts: T0, value: 1 },
        { seq: 2, device_id: 'd1', metric: 'pm10', ts: T0, value: 2 },
        { seq: 3, device_id: 'd1', metric: 'no2', ts: T0, value: 3 },
        { seq: 4, device_id: 'd2', metric: 'pm25', ts: T0, value: 4 },
        { seq: 5, device_id: 'd2', metric: 'pm10', ts: T0, value: 5 },
      ],
    );
    db.close();
  });

  it('migrates a version 1 log (a row per value) in place, seqs and the replay point kept', () => {
    const db = new Database(join(dir, 'log.db'));
    db.exec(`
      CREATE TABLE log (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        kind TEXT NOT NULL, district TEXT NOT NULL, metric TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL);
      CREATE TABLE events_log (seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, device_id TEXT NOT NULL,
        kind TEXT NOT NULL, district TEXT NOT NULL, type TEXT NOT NULL, ts INTEGER NOT NULL, data TEXT);
      CREATE TABLE device_events (device_id TEXT NOT NULL, type TEXT NOT NULL, ts INTEGER NOT NULL,
        kind TEXT NOT NULL, district TEXT NOT NULL, data TEXT, received_at INTEGER NOT NULL,
        PRIMARY KEY (device_id, type, ts)) WITHOUT ROWID;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta VALUES ('materialized_seq', 1);
      INSERT INTO log VALUES (1, ${T0}, 'd1', 'air-quality-station', 'Old Town', 'pm25', ${T0}, 1.5);
      INSERT INTO log VALUES (2, ${T0}, 'd1', 'air-quality-station', 'Old Town', 'no2', ${T0}, 19.1);
    `);
    db.pragma('application_id = 0x434d4c47');
    db.pragma('user_version = 1');
    db.close();
    const lines: string[] = [];
    const log = openLog({ logger: createLogger('info', { write: (line: string) => lines.push(line) }) });
    expect(log.committedSeq).toBe(2);
    expect(log.materializedSeq).toBe(1);
    // A long migration at start is announced, with its size, and its end.
    expect(lines.map((l) => JSON.parse(l) as { msg: string; rows: number })).toEqual([
      expect.objectContaining({ msg: 'migrating the durable log to schema 2 (a row per message)', rows: 2 }),
      expect.objectContaining({ msg: 'durable log migrated', rows: 2 }),
    ]);
    expect(log.readFrom(2, 10)).toEqual({
      points: [{ ...dev, metric: 'no2', ts: T0, value: 19.1 }],
      firstSeq: 2,
      lastSeq: 2,
    });
  });
});

describe('foreign or damaged files', () => {
  const expectCorrupt = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(isCityError(err) && err.code).toBe('STORE_CORRUPT');
      expect((err as Error).message).toContain(join(dir, 'log.db'));
      return;
    }
    throw new Error('expected STORE_CORRUPT');
  };

  it('refuses a file that is not SQLite', () => {
    writeFileSync(join(dir, 'log.db'), Buffer.alloc(8192, 0x5a));
    expectCorrupt(() => openLog());
  });

  it('refuses another application’s SQLite file', () => {
    const db = new Database(join(dir, 'log.db'));
    db.exec('CREATE TABLE other (x)');
    db.close();
    expectCorrupt(() => openLog());
  });

  it('refuses a log written by a newer schema', () => {
    openLog().close();
    open.length = 0;
    const db = new Database(join(dir, 'log.db'));
    db.pragma('user_version = 99');
    db.close();
    expectCorrupt(() => openLog());
  });
});
