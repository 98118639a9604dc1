import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CityError } from '../../../core/errors.ts';
import type { Revision, SeriesPoint, WriteOutcome } from '../../../core/ports/series-store.ts';

/** A point to send to InfluxDB: the final value of an identity in a batch, with the tags it is stored under. */
export interface IndexChange {
  point: SeriesPoint;
  /** true when the identity is new to the index */
  inserted: boolean;
}

export interface Classified {
  outcome: WriteOutcome;
  /** Identities whose value is new or changed: what InfluxDB must receive, then the index must record. */
  changes: IndexChange[];
}

interface PointRow {
  value: number;
  kind: string;
  district: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, device TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (device, metric));
  CREATE TABLE IF NOT EXISTS tagsets (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, district TEXT NOT NULL, UNIQUE (kind, district));
  CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, tagset_id INTEGER NOT NULL,
    PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL);
`;

/** 'CMII': citymetrics InfluxDB identity index. */
export const INDEX_APPLICATION_ID = 0x434d4949;
/**
 * 1: the file says what it is. Version 0 is the index as first released, the same tables without an
 * application id: it is adopted in place (its tables are those of version 1).
 */
export const INDEX_SCHEMA_VERSION = 1;
const INDEX_TABLES = ['series', 'tagsets', 'points', 'meta'];

function corrupt(file: string, why: string): CityError {
  return new CityError('STORE_CORRUPT', `${file}: ${why}`, { details: { file } });
}

/** Checks whose file it is and its version before anything is written; brings version 0 to 1. */
function checkVersion(db: Database.Database, file: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId === 0 && version === 0) {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all() as string[];
    const ours = tables.every((t) => INDEX_TABLES.includes(t));
    if (!ours) throw corrupt(file, 'a SQLite file of another application (no citymetrics id)');
  } else if (appId !== INDEX_APPLICATION_ID) {
    throw corrupt(file, `a SQLite file of another application (application_id ${appId})`);
  } else if (version > INDEX_SCHEMA_VERSION) {
    throw corrupt(
      file,
      `schema version ${version} is newer than this release supports (${INDEX_SCHEMA_VERSION}): run the ` +
        'citymetrics release that wrote it (files are never downgraded), or restore a backup taken by this one',
    );
  }
  if (version < INDEX_SCHEMA_VERSION) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`application_id = ${INDEX_APPLICATION_ID}`);
      db.pragma(`user_version = ${INDEX_SCHEMA_VERSION}`);
    })();
  }
}

const key = (device: string, metric: string): string => `${device}\u0000${metric}`;

/**
 * The identity index of the InfluxDB store: one row per (device, metric, ts) with its value and the tags it
 * was written under, in a small SQLite file in the data directory. InfluxDB overwrites a point with the
 * same series and time, so duplicates and revisions are idempotent there, but it cannot cheaply say which
 * a write was; this index does, and it keeps a revision under the tags of the original point (a device
 * that moved district must not leave the old point behind under its old tags).
 *
 * Classification and commit are separate: the index records a change only after InfluxDB has accepted it,
 * so a write that failed is classified the same way when the ingest retries it from the durable log.
 * Series and tag sets are mirrored in memory: bounded by the registry (devices x metrics, kinds x districts).
 */
export class IdentityIndex {
  private readonly series = new Map<string, number>();
  private readonly metricsByDevice = new Map<string, Set<string>>();
  private readonly tagsets = new Map<string, number>();
  private readonly getPoint: Database.Statement;
  private readonly upsertPoint: Database.Statement;
  private readonly insertSeries: Database.Statement;
  private readonly insertTagset: Database.Statement;
  private readonly prunePoints: Database.Statement;
  private readonly commitTx: (changes: readonly IndexChange[]) => void;

  private constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.load();
    this.getPoint = db.prepare(
      `SELECT p.value AS value, t.kind AS kind, t.district AS district
         FROM points p JOIN tagsets t ON t.id = p.tagset_id WHERE p.series_id = ? AND p.ts = ?`,
    );
    // A revision keeps the tag set of the original point: that is the InfluxDB series it overwrites.
    this.upsertPoint = db.prepare(
      `INSERT INTO points (series_id, ts, value, tagset_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value`,
    );
    this.insertSeries = db.prepare('INSERT INTO series (device, metric) VALUES (?, ?)');
    this.insertTagset = db.prepare('INSERT INTO tagsets (kind, district) VALUES (?, ?)');
    this.prunePoints = db.prepare('DELETE FROM points WHERE series_id = ? AND ts < ?');
    this.commitTx = db.transaction((changes: readonly IndexChange[]) => {
      for (const { point: p } of changes)
        this.upsertPoint.run(
          this.seriesId(p.deviceId, p.metric),
          p.ts,
          p.value,
          this.tagsetId(p.kind, p.district),
        );
    });
  }

  static open(file: string): IdentityIndex {
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      checkVersion(db, file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      return new IdentityIndex(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Classifies a batch against the index and against itself, in order: a repeat inside the batch is a
   * duplicate, another value for an identity earlier in the batch is a revision of that value. Read-only.
   */
  classify(points: readonly SeriesPoint[]): Classified {
    const outcome: WriteOutcome = { inserted: 0, duplicates: 0, revisions: [] };
    const seen = new Map<string, { change: IndexChange | null; current: PointRow }>();
    const changes: IndexChange[] = [];
    for (const p of points) {
      const k = `${key(p.deviceId, p.metric)}\u0000${p.ts}`;
      let entry = seen.get(k);
      if (entry === undefined) {
        const sid = this.series.get(key(p.deviceId, p.metric));
        const row = sid === undefined ? undefined : (this.getPoint.get(sid, p.ts) as PointRow | undefined);
        if (row === undefined) {
          const change: IndexChange = { point: p, inserted: true };
          changes.push(change);
          seen.set(k, { change, current: { value: p.value, kind: p.kind, district: p.district } });
          outcome.inserted++;
          continue;
        }
        entry = { change: null, current: row };
        seen.set(k, entry);
      }
      if (entry.current.value === p.value) {
        outcome.duplicates++;
        continue;
      }
      const revision: Revision = {
        deviceId: p.deviceId,
        metric: p.metric,
        ts: p.ts,
        previous: entry.current.value,
        value: p.value,
      };
      outcome.revisions.push(revision);
      entry.current = { ...entry.current, value: p.value };
      const point = { ...p, kind: entry.current.kind, district: entry.current.district };
      if (entry.change === null) {
        entry.change = { point, inserted: false };
        changes.push(entry.change);
      } else entry.change.point = { ...point, value: p.value };
    }
    return { outcome, changes };
  }

  /** Records changes InfluxDB has accepted. One transaction. */
  commit(changes: readonly IndexChange[]): void {
    if (changes.length === 0) return;
    try {
      this.commitTx(changes);
    } catch (err) {
      this.load(); // rolled back: forget series and tag-set ids learnt inside the transaction
      throw err;
    }
  }

  /** Metrics a device has points for (in the index's lifetime; pruning does not forget them). */
  metricsOf(deviceId: string): string[] {
    return [...(this.metricsByDevice.get(deviceId) ?? [])].sort();
  }

  /** Every metric in the index: the measurements this store has written. */
  allMetrics(): string[] {
    const all = new Set<string>();
    for (const metrics of this.metricsByDevice.values()) for (const m of metrics) all.add(m);
    return [...all].sort();
  }

  /** Removes identities older than `cutoff`; returns how many. */
  prune(cutoff: number): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const id of this.series.values()) n += this.prunePoints.run(id, cutoff).changes;
      return n;
    })();
  }

  getMeta(name: string): number | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(name) as
      | { value: number }
      | undefined;
    return row?.value;
  }

  setMeta(name: string, value: number): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(name, value);
  }

  close(): void {
    this.db.close();
  }

  private load(): void {
    this.series.clear();
    this.metricsByDevice.clear();
    this.tagsets.clear();
    const series = this.db.prepare('SELECT id, device, metric FROM series').all() as Array<{
      id: number;
      device: string;
      metric: string;
    }>;
    for (const r of series) this.rememberSeries(r.id, r.device, r.metric);
    const tagsets = this.db.prepare('SELECT id, kind, district FROM tagsets').all() as Array<{
      id: number;
      kind: string;
      district: string;
    }>;
    for (const r of tagsets) this.tagsets.set(key(r.kind, r.district), r.id);
  }

  private seriesId(device: string, metric: string): number {
    const found = this.series.get(key(device, metric));
    if (found !== undefined) return found;
    const id = Number(this.insertSeries.run(device, metric).lastInsertRowid);
    this.rememberSeries(id, device, metric);
    return id;
  }

  private tagsetId(kind: string, district: string): number {
    const k = key(kind, district);
    const found = this.tagsets.get(k);
    if (found !== undefined) return found;
    const id = Number(this.insertTagset.run(kind, district).lastInsertRowid);
    this.tagsets.set(k, id);
    return id;
  }

  private rememberSeries(id: number, device: string, metric: string): void {
    this.series.set(key(device, metric), id);
    let metrics = this.metricsByDevice.get(device);
    if (metrics === undefined) {
      metrics = new Set();
      this.metricsByDevice.set(device, metrics);
    }
    metrics.add(metric);
  }
}
