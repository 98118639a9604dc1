import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CityError, isCityError } from '../core/errors.ts';

/** 'CMLG': marks the file as a citymetrics durable log, so a foreign SQLite file is never written into. */
export const LOG_APPLICATION_ID = 0x434d4c47;
export const LOG_SCHEMA_VERSION = 1;

// No secondary index on `log` or `events_log`: appends in rowid order are what keep the log near 1M rows/s
// (DESIGN.md, measured numbers). Readers go by seq (the rowid); retention deletes rowid ranges.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  district TEXT NOT NULL,
  metric TEXT NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL
);
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

/**
 * Opens (or creates) the log file. A file that is not SQLite, belongs to another application or was written
 * by a newer schema is refused with STORE_CORRUPT naming the file, before anything is written to it.
 */
export function openLogDatabase(file: string, sync: 'normal' | 'full'): Database.Database {
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
        `${file} has schema version ${version}, this build knows ${LOG_SCHEMA_VERSION}`,
        {
          details: { file },
        },
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
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
