import Database from 'better-sqlite3';
import { CityError } from './errors.ts';

/**
 * Every embedded database of citymetrics (registry, access keys, KPIs, alerts, durable log, series) is a
 * SQLite file that says what it is: `PRAGMA application_id` marks whose file it is and `user_version` its
 * schema. Opening checks both before anything is written, so a damaged file, another application's file
 * or one from a newer release stops the platform with STORE_CORRUPT naming the file, and is left
 * byte-for-byte untouched: re-creating it silently would throw away a city's data.
 */
export interface CitymetricsDbSpec {
  file: string;
  /** What the file is, for messages: "device registry", "KPI database"... */
  what: string;
  applicationId: number;
  schemaVersion: number;
  /** Brings the schema from `fromVersion` (0 = a new, empty file) to `schemaVersion`; runs in one transaction. */
  migrate(db: Database.Database, fromVersion: number): void;
  /** NORMAL survives a process crash (WAL); FULL also a power cut. */
  synchronous?: 'NORMAL' | 'FULL';
}

// SQLite result codes meaning "this file is not (a healthy) SQLite database"; others (busy, permissions)
// are not corruption and keep their own error.
const DAMAGED_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

export const storeCorrupt = (file: string, why: string, cause?: unknown): CityError =>
  new CityError('STORE_CORRUPT', `${file}: ${why}`, { details: { file }, cause });

export function openCitymetricsDb(spec: CitymetricsDbSpec): Database.Database {
  const { file, what, applicationId, schemaVersion } = spec;
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const objects = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
    const fresh = appId === 0 && version === 0 && objects === 0;
    if (!fresh && appId !== applicationId) {
      throw storeCorrupt(
        file,
        `not a citymetrics ${what} (application_id ${appId}, ${objects} schema objects)`,
      );
    }
    if (version > schemaVersion) {
      throw storeCorrupt(
        file,
        `schema version ${version} is newer than this release supports (${schemaVersion}): run the ` +
          'citymetrics release that wrote it (files are never downgraded), or restore a backup taken by this one',
      );
    }
    if (version < schemaVersion) {
      const target = db;
      // Schema changes and the header pragmas commit together: a crash leaves the old version or the new.
      target
        .transaction(() => {
          spec.migrate(target, version);
          target.pragma(`application_id = ${applicationId}`);
          target.pragma(`user_version = ${schemaVersion}`);
        })
        .immediate();
    }
    // Only once the file is known to be ours: switching a foreign file to WAL would rewrite its header.
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${spec.synchronous ?? 'NORMAL'}`);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof CityError) throw err;
    const code = (err as { code?: string }).code;
    if (code !== undefined && DAMAGED_CODES.has(code)) {
      throw storeCorrupt(file, `cannot be read as SQLite (${(err as Error).message})`, err);
    }
    throw err;
  }
}
