import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { CityError, isCityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/** 'CMLG': marks the file as a citymetrics durable log, so a foreign SQLite file is never written into. */
export const LOG_APPLICATION_ID = 0x434d4c47;
export const LOG_SCHEMA_VERSION = 2;

// No secondary index on `log` or `events_log`: appends in rowid order are what keep the log fast
// (measured). Readers go by seq (the rowid); retention deletes rowid ranges.
//
// One row per accepted MESSAGE (version 2; version 1 had one per value): every value still has its own seq
// (the row's seq is its first value's, the row holds seq .. seq + n - 1), but a reading of five values
// costs one insert instead of five: per-value inserts were about a fifth of the broker thread's busy time.
// `vals` is JSON [[metric, ts, value], ...]: JSON numbers round-trip doubles exactly.
const LOG_TABLE = `
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY,
  n INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  district TEXT NOT NULL,
  vals TEXT NOT NULL
);`;

/** One row per value, as version 1 stored them: for people and scripts reading the file. */
const LOG_VALUES_VIEW = `
CREATE VIEW IF NOT EXISTS log_values AS
  SELECT log.seq + CAST(j.key AS INTEGER) AS seq, log.received_at, log.device_id, log.kind, log.district,
    json_extract(j.value, '$[0]') AS metric, json_extract(j.value, '$[1]') AS ts,
    json_extract(j.value, '$[2]') AS value
  FROM log, json_each(log.vals) AS j;`;

const SCHEMA = `
${LOG_TABLE}
${LOG_VALUES_VIEW}
CREATE TABLE IF NOT EXISTS events_log (
  seq INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  district TEXT NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  data TEXT
);
-- Kept past the log retention: outage KPIs look back 12 months. Few rows, so indexes are affordable.
CREATE TABLE IF NOT EXISTS device_events (
  device_id TEXT NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  district TEXT NOT NULL,
  data TEXT,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, type, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS device_events_ts ON device_events (ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('materialized_seq', 0);
`;

/** Hears a migration's progress: rows copied so far of all rows. Must not throw. */
export type MigrationProgress = (progress: { file: string; done: number; total: number }) => void;

/** Rows copied per statement during a migration: progress is told between them. */
const MIGRATION_CHUNK_ROWS = 50_000;

/**
 * Version 1 (a row per value) to 2 (a row per message): each old row becomes a message of one value, seqs
 * unchanged, in one transaction; the old schema stays whole if anything fails.
 */
function migrateFromVersion1(
  db: Database.Database,
  file: string,
  logger?: Logger,
  onProgress?: MigrationProgress,
): void {
  const rows = db.prepare('SELECT count(*) FROM log').pluck().get() as number;
  // Seconds for a log of millions of rows, once, at start: said so, or a start looks hung.
  logger?.info({ file, rows }, 'migrating the durable log to schema 2 (a row per message)');
  const started = performance.now();
  const tell = (done: number): void => {
    try {
      onProgress?.({ file, done, total: rows });
    } catch (err) {
      logger?.warn({ err }, 'migration progress listener threw');
    }
  };
  db.transaction(() => {
    db.exec(`ALTER TABLE log RENAME TO log_v1; ${LOG_TABLE}`);
    // Copied in seq ranges (seq is the rowid, so each range is a cheap range scan) to tell progress.
    const copy = db.prepare(
      `INSERT INTO log (seq, n, received_at, device_id, kind, district, vals)
         SELECT seq, 1, received_at, device_id, kind, district, json_array(json_array(metric, ts, value))
         FROM log_v1 WHERE seq > ? ORDER BY seq LIMIT ${MIGRATION_CHUNK_ROWS}`,
    );
    const last = db.prepare('SELECT max(seq) FROM log').pluck();
    let done = 0;
    let after = Number.MIN_SAFE_INTEGER;
    tell(0);
    for (;;) {
      const copied = copy.run(after).changes;
      if (copied === 0) break;
      done += copied;
      after = last.get() as number;
      tell(done);
    }
    db.exec('DROP TABLE log_v1;');
    db.pragma(`user_version = ${LOG_SCHEMA_VERSION}`);
  })();
  logger?.info({ file, rows, seconds: (performance.now() - started) / 1000 }, 'durable log migrated');
}

/**
 * Opens (or creates) the log file. A file that is not SQLite, belongs to another application or was written
 * by a newer schema is refused with STORE_CORRUPT naming the file, before anything is written to it.
 */
export function openLogDatabase(
  file: string,
  sync: 'normal' | 'full',
  logger?: Logger,
  onMigrationProgress?: MigrationProgress,
): Database.Database {
  const existed = existsSync(file) && statSync(file).size > 0;
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (existed && appId !== LOG_APPLICATION_ID) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as {
        n: number;
      };
      if (appId !== 0 || tables.n > 0) {
        throw new CityError(
          'STORE_CORRUPT',
          `${file} is not a citymetrics durable log (application_id ${appId})`,
          {
            details: { file },
          },
        );
      }
    }
    if (version > LOG_SCHEMA_VERSION) {
      throw new CityError(
        'STORE_CORRUPT',
        `${file} has schema version ${version}, this build knows ${LOG_SCHEMA_VERSION}: run the citymetrics ` +
          'release that wrote it (files are never downgraded), or restore a backup taken by this one',
        {
          details: { file },
        },
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    if (existed && version === 1) migrateFromVersion1(db, file, logger, onMigrationProgress);
    db.exec(SCHEMA);
    db.pragma(`application_id = ${LOG_APPLICATION_ID}`);
    db.pragma(`user_version = ${LOG_SCHEMA_VERSION}`);
    return db;
  } catch (err) {
    db?.close();
    if (isCityError(err)) throw err;
    const code = (err as { code?: string }).code ?? '';
    // Only damage is STORE_CORRUPT; a busy or unreadable file is another problem and keeps its own error.
    if (!code.startsWith('SQLITE_NOTADB') && !code.startsWith('SQLITE_CORRUPT')) throw err;
    throw new CityError(
      'STORE_CORRUPT',
      `${file} cannot be opened as the durable log: ${(err as Error).message}`,
      {
        details: { file },
        cause: err,
      },
    );
  }
}
