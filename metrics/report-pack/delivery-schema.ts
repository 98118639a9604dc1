import type Database from 'better-sqlite3';
import { openCitymetricsDb } from '../../core/sqlite-file.ts';

/** 'CMRP': marks `<dataDir>/reports.db` as ours, so a foreign SQLite file is refused rather than written to. */
export const REPORTS_APPLICATION_ID = 0x434d5250;
export const REPORTS_SCHEMA_VERSION = 1;
export const REPORTS_FILE_NAME = 'reports.db';

/**
 * The delivery record. `owed` holds the packs a close or a restatement asked for and not yet built (a crash
 * between the two builds them at the next start); a pack's files are kept as built, so a retry, even after
 * a restart, sends the bytes whose hashes the manifest and the record give; one delivery row per pack and
 * target (and per send on demand), never deleted.
 */
const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE owed (
    month TEXT NOT NULL,
    version INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (month, version)
  ) STRICT;
  CREATE TABLE packs (
    month TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    built_at INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    PRIMARY KEY (month, version)
  ) STRICT;
  CREATE TABLE pack_files (
    month TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (month, version, name)
  ) STRICT;
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    version INTEGER NOT NULL,
    target TEXT NOT NULL CHECK (target IN ('folder', 'webhook')),
    destination TEXT NOT NULL,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_code TEXT,
    created_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    delivered_at INTEGER,
    file_hashes TEXT NOT NULL
  ) STRICT;
  CREATE INDEX deliveries_state ON deliveries (state);
  CREATE INDEX deliveries_month ON deliveries (month, version);
`;

export function openReportsDb(file: string, now: number): Database.Database {
  return openCitymetricsDb({
    file,
    what: 'report delivery record',
    applicationId: REPORTS_APPLICATION_ID,
    schemaVersion: REPORTS_SCHEMA_VERSION,
    migrate(db, from) {
      if (from < 1) {
        db.exec(SCHEMA);
        db.prepare("INSERT INTO meta (key, value) VALUES ('created_at', ?)").run(String(now));
      }
    },
  });
}
