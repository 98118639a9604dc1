import type Database from 'better-sqlite3';
import { openCitymetricsDb } from '../core/sqlite-file.ts';

/** 'CMKP': marks `<dataDir>/kpi.db` as ours, so a foreign SQLite file is refused rather than written to. */
export const KPI_APPLICATION_ID = 0x434d4b50;
export const KPI_SCHEMA_VERSION = 3;
export const KPI_FILE_NAME = 'kpi.db';

/**
 * The KPI store's tables. History is kept everywhere a person or a close decided something: a manual value
 * is never updated in place (a newer entry supersedes it), a closed roll-up is never changed (a restatement
 * adds a version), the city profile is effective-dated.
 */
const SCHEMA = `
  CREATE TABLE manual_values (
    id INTEGER PRIMARY KEY,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('kpi', 'input')),
    subject TEXT NOT NULL,
    data_point TEXT NOT NULL DEFAULT '',
    period TEXT NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    data_quality TEXT NOT NULL,
    source TEXT NOT NULL,
    evidence TEXT,
    override INTEGER NOT NULL DEFAULT 0,
    entered_by TEXT NOT NULL,
    entered_at INTEGER NOT NULL,
    superseded_by INTEGER
  ) STRICT;
  CREATE INDEX manual_values_subject ON manual_values (subject_type, subject, data_point, period);
  CREATE TABLE city_profile (
    id INTEGER PRIMARY KEY,
    field TEXT NOT NULL,
    value_num REAL,
    value_text TEXT,
    effective_from TEXT NOT NULL,
    effective_from_ms INTEGER NOT NULL,
    data_quality TEXT,
    source TEXT,
    entered_by TEXT NOT NULL,
    entered_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX city_profile_field ON city_profile (field, effective_from_ms);
  CREATE TABLE targets (
    code TEXT NOT NULL,
    data_point TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    source TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (code, data_point)
  ) STRICT;
  CREATE TABLE rollups (
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    closed_at INTEGER NOT NULL,
    closed_by TEXT NOT NULL,
    cause TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (period, version)
  ) STRICT;
  CREATE TABLE restatements (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    data_point TEXT NOT NULL DEFAULT '',
    old_value REAL,
    new_value REAL,
    cause TEXT NOT NULL,
    at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX restatements_period ON restatements (period, version);
`;

/**
 * migrations[v] takes the file from schema version v to v + 1, in the opener's one transaction. Append only:
 * a released step is never edited, a change of schema is a new step and a new KPI_SCHEMA_VERSION.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => db.exec(SCHEMA),
  // 2: the structured causes of a version and of each restatement (JSON array of RestatementCause)
  (db) =>
    db.exec(`
      ALTER TABLE rollups ADD COLUMN causes TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE restatements ADD COLUMN causes TEXT NOT NULL DEFAULT '[]';
    `),
  // 3: each restatement row keeps the entry's status and completeness before and after (null on older rows)
  (db) =>
    db.exec(`
      ALTER TABLE restatements ADD COLUMN old_status TEXT;
      ALTER TABLE restatements ADD COLUMN new_status TEXT;
      ALTER TABLE restatements ADD COLUMN old_completeness REAL;
      ALTER TABLE restatements ADD COLUMN new_completeness REAL;
    `),
];

/**
 * Opens (or creates) the KPI database. A file that is not SQLite, SQLite that is not ours, or ours from a
 * newer release stops the platform with STORE_CORRUPT: re-creating it would drop closed roll-ups and every
 * manual value.
 */
export function openKpiDb(file: string): Database.Database {
  return openCitymetricsDb({
    file,
    what: 'KPI database',
    applicationId: KPI_APPLICATION_ID,
    schemaVersion: KPI_SCHEMA_VERSION,
    migrate(db, fromVersion) {
      for (let v = fromVersion; v < KPI_SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    },
  });
}
