import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALERTS_APPLICATION_ID, ALERTS_SCHEMA_VERSION } from '../alerts/sqlite-alert-records.ts';
import {
  ACCESS_APPLICATION_ID,
  ACCESS_FILE_NAME,
  ACCESS_SCHEMA_VERSION,
} from '../dashboards/http/sqlite-api-key-store.ts';
import { REGISTRY_FILE_NAME } from '../devices/registry.ts';
import { REGISTRY_APPLICATION_ID, REGISTRY_SCHEMA_VERSION } from '../devices/registry-store.ts';
import { LOG_APPLICATION_ID, LOG_SCHEMA_VERSION } from '../ingest/log-schema.ts';
import { INDEX_APPLICATION_ID, INDEX_SCHEMA_VERSION } from '../ingest/store/influx/identity-index.ts';
import {
  APPLICATION_ID as SERIES_APPLICATION_ID,
  SCHEMA_VERSION as SERIES_SCHEMA_VERSION,
} from '../ingest/store/sqlite-schema.ts';
import { KPI_APPLICATION_ID, KPI_FILE_NAME, KPI_SCHEMA_VERSION } from '../metrics/kpi-store-schema.ts';
import {
  REPORTS_APPLICATION_ID,
  REPORTS_FILE_NAME,
  REPORTS_SCHEMA_VERSION,
} from '../metrics/report-pack/delivery-schema.ts';

/** One embedded database of the data directory, as this release writes it. */
export interface DataFile {
  name: string;
  what: string;
  applicationId: number;
  /** The schema version this release writes (and the newest it can open). */
  schemaVersion: number;
}

/**
 * Every SQLite file the single process keeps in DATA_DIR, in the order a backup copies them.
 *
 * The durable log comes first. Its `materialized_seq` says "the series store holds every value up to here",
 * and the series store only grows past what the log says (a batch is written to the store before the seq
 * moves). A series copy taken after the log copy therefore holds at least everything up to the copied
 * `materialized_seq`; on the first start after a restore the log replays from there, and the store's
 * writes are idempotent by identity (device, metric, ts), so values the series copy already has are
 * counted as duplicates, not stored twice. The other order would be wrong: a log copied later could claim
 * values materialized that the earlier series copy never saw, and they would never be replayed.
 *
 * The other files depend on no exact moment of each other: each copy is one consistent snapshot of its
 * own file (the online backup API reading under one read transaction).
 */
export const DATA_FILES: readonly DataFile[] = [
  {
    name: 'log.db',
    what: 'durable log',
    applicationId: LOG_APPLICATION_ID,
    schemaVersion: LOG_SCHEMA_VERSION,
  },
  {
    name: 'series.db',
    what: 'series store',
    applicationId: SERIES_APPLICATION_ID,
    schemaVersion: SERIES_SCHEMA_VERSION,
  },
  {
    name: 'influx-index.db',
    what: 'InfluxDB identity index',
    applicationId: INDEX_APPLICATION_ID,
    schemaVersion: INDEX_SCHEMA_VERSION,
  },
  {
    name: REGISTRY_FILE_NAME,
    what: 'device registry',
    applicationId: REGISTRY_APPLICATION_ID,
    schemaVersion: REGISTRY_SCHEMA_VERSION,
  },
  {
    name: ACCESS_FILE_NAME,
    what: 'access database (API keys)',
    applicationId: ACCESS_APPLICATION_ID,
    schemaVersion: ACCESS_SCHEMA_VERSION,
  },
  {
    name: KPI_FILE_NAME,
    what: 'KPI database',
    applicationId: KPI_APPLICATION_ID,
    schemaVersion: KPI_SCHEMA_VERSION,
  },
  {
    name: 'alerts.db',
    what: 'alerts database',
    applicationId: ALERTS_APPLICATION_ID,
    schemaVersion: ALERTS_SCHEMA_VERSION,
  },
  {
    name: REPORTS_FILE_NAME,
    what: 'report delivery record',
    applicationId: REPORTS_APPLICATION_ID,
    schemaVersion: REPORTS_SCHEMA_VERSION,
  },
];

export function dataFileNamed(name: string): DataFile | undefined {
  return DATA_FILES.find((f) => f.name === name);
}

let version: string | undefined;

/** This release's version, from the package.json above this file (source tree or dist/). */
export function citymetricsVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'citymetrics' && typeof pkg.version === 'string') {
        version = pkg.version;
        return version;
      }
    } catch {
      // not here: look one level up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
