import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CityError } from '../../core/errors.ts';
import type { Step } from '../../core/ports/series-store.ts';

/** 'CMSS' (citymetrics series store): marks the file as ours, so a foreign SQLite file is never written to. */
export const APPLICATION_ID = 0x434d5353;
export const SCHEMA_VERSION = 2;

/**
 * The roll-up tiers: the query steps, and the local month, which only the store reads (aggregates over
 * whole months: a year is 12 rows per series, not 365).
 */
export type Tier = Step | 'month';
export const TIERS: readonly Tier[] = ['minute', 'hour', 'day', 'month'];

/** meta key of the first month not yet sealed into the month tier (sqlite-series-store.ts) */
export const MONTHS_SEALED_KEY = 'months.sealed_before';

export const ROLLUP_TABLE: Record<Tier, string> = {
  minute: 'rollup_minute',
  hour: 'rollup_hour',
  day: 'rollup_day',
  month: 'rollup_month',
};

const rollupDdl = (table: string): string => `
  CREATE TABLE ${table} (
    series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
    cnt INTEGER NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
    first_ts INTEGER NOT NULL, first_val REAL NOT NULL, last_ts INTEGER NOT NULL, last_val REAL NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;`;

// WITHOUT ROWID tables keyed by (series, time): the primary key is the identity index itself, so there is
// no second B-tree to maintain per row.
const DDL = `
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('device', 'district', 'city')),
    key TEXT NOT NULL,
    metric TEXT NOT NULL,
    district TEXT,
    kind TEXT,
    UNIQUE (scope, key, metric)
  );
  CREATE TABLE points (
    series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
  ) WITHOUT ROWID;
  CREATE TABLE revisions (
    series_id INTEGER NOT NULL, ts INTEGER NOT NULL, previous REAL NOT NULL, value REAL NOT NULL,
    revised_at INTEGER NOT NULL
  );
  CREATE INDEX revisions_by_series ON revisions (series_id, ts);
  ${rollupDdl(ROLLUP_TABLE.minute)}
  ${rollupDdl(ROLLUP_TABLE.hour)}
  ${rollupDdl(ROLLUP_TABLE.day)}
  CREATE TABLE meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
`;

/**
 * migrations[v] takes a file at schema version v to v + 1, inside the transaction that also writes the new
 * version: a crash leaves the old schema or the new. Append only; a released step is never edited.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => db.exec(DDL),
  // 2: the month tier; the store fills it from the day buckets when it first seals (at its next write or
  // retention pass), and reads days until then.
  (db) => {
    db.exec(rollupDdl(ROLLUP_TABLE.month));
    // An empty tier has sealed nothing, whatever a file says (one restored over a newer release's).
    db.prepare('DELETE FROM meta WHERE key = ?').run(MONTHS_SEALED_KEY);
  },
];
if (MIGRATIONS.length !== SCHEMA_VERSION) throw new Error('series store: one migration per schema version');

const EXPECTED_TABLES = ['series', 'points', 'revisions', ...Object.values(ROLLUP_TABLE), 'meta'];

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

export function isCorruptionError(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && CORRUPT_CODES.has(String((err as { code?: unknown }).code))
  );
}

function corrupt(file: string, why: string, cause?: unknown): CityError {
  return new CityError('STORE_CORRUPT', `${file}: ${why}`, { details: { file }, cause });
}

/**
 * Opens (or creates) the series store file. A file that is not ours (another application id, a SQLite file
 * with tables but no id, unreadable pages, an unknown schema version) fails with STORE_CORRUPT naming the
 * file: it is never reset silently, because that would throw away a city's history.
 */
export function openSeriesDatabase(file: string): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A locked file fails fast instead of freezing the process for better-sqlite3's default 5 s: the
  // materializer retries with back-off, and the durable log keeps everything meanwhile.
  const db = new Database(file, { timeout: 100 });
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (appId === 0 && version === 0) {
      const objects = db.prepare('SELECT COUNT(*) FROM sqlite_master').pluck().get() as number;
      if (objects !== 0) throw corrupt(file, 'a SQLite file of another application (no citymetrics id)');
    } else if (appId !== APPLICATION_ID) {
      throw corrupt(file, `a SQLite file of another application (application_id ${appId})`);
    }
    if (version > SCHEMA_VERSION) {
      throw corrupt(
        file,
        `schema version ${version} is newer than this release supports (${SCHEMA_VERSION}): run the ` +
          'citymetrics release that wrote it (files are never downgraded), or restore a backup taken by this one',
      );
    }
    if (version < SCHEMA_VERSION) {
      db.pragma('journal_mode = WAL');
      db.transaction(() => {
        for (let v = version; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    const tables = new Set(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
    );
    const missing = EXPECTED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) throw corrupt(file, `tables missing: ${missing.join(', ')}`);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; a power cut may lose the last commits, which
    // the durable log (the acknowledgement boundary) replays.
    db.pragma('synchronous = NORMAL');
    // Checkpoint every 64 MB of WAL rather than SQLite's 4 MB: consecutive batches dirty the same tail page
    // of each series, and a longer WAL writes each back once per checkpoint (measured 1.5-1.9x the write
    // rate for 500 series in arrival order). The WAL file is cut back to 64 MB after a checkpoint.
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma('journal_size_limit = 67108864');
    return db;
  } catch (err) {
    db.close();
    if (err instanceof CityError) throw err;
    if (isCorruptionError(err)) throw corrupt(file, (err as Error).message, err);
    throw err;
  }
}
