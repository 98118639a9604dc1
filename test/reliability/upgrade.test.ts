import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../core/secret-hash.ts';
import { REGISTRY_SCHEMA_VERSION } from '../../devices/registry-store.ts';
import { LOG_SCHEMA_VERSION } from '../../ingest/log-schema.ts';
import {
  IdentityIndex,
  INDEX_APPLICATION_ID,
  INDEX_SCHEMA_VERSION,
} from '../../ingest/store/influx/identity-index.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * Upgrades from the files of the previous schema versions, made here with the SQL those versions ran
 * (copied from the repository's history, commit named at each), opened by today's code: the data is
 * intact and each file carries today's schema version.
 */

// ingest/log-schema.ts at 452a2fe^ (durable log schema 1: one row per value).
const LOG_V1 = `
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL,
  district TEXT NOT NULL, metric TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events_log (
  seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL,
  district TEXT NOT NULL, type TEXT NOT NULL, ts INTEGER NOT NULL, data TEXT
);
CREATE TABLE IF NOT EXISTS device_events (
  device_id TEXT NOT NULL, type TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, district TEXT NOT NULL,
  data TEXT, received_at INTEGER NOT NULL, PRIMARY KEY (device_id, type, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS device_events_ts ON device_events (ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('materialized_seq', 0);
PRAGMA application_id = ${0x434d4c47};
PRAGMA user_version = 1;
`;

// devices/registry-store.ts at 93641e7 (registry schema 1, before the DevEUI).
const REGISTRY_V1 = `
CREATE TABLE devices (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, district TEXT NOT NULL, lat REAL, lon REAL,
  attributes TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  created_at INTEGER NOT NULL, last_seen_at INTEGER, credential_hash TEXT NOT NULL
) STRICT;
CREATE INDEX devices_kind ON devices (kind);
CREATE INDEX devices_district ON devices (district);
PRAGMA application_id = ${0x434d4452};
PRAGMA user_version = 1;
`;

// dashboards/http/sqlite-api-key-store.ts at 93641e7 (access schema 1).
const ACCESS_V1 = `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
  key_hash TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER
) STRICT;
PRAGMA application_id = ${0x434d414b};
PRAGMA user_version = 1;
`;

// ingest/store/influx/identity-index.ts at 6519a8c (the index as first released: no id, no version).
const INDEX_V0 = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY, device TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (device, metric));
CREATE TABLE IF NOT EXISTS tagsets (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, district TEXT NOT NULL, UNIQUE (kind, district));
CREATE TABLE IF NOT EXISTS points (
  series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, tagset_id INTEGER NOT NULL,
  PRIMARY KEY (series_id, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL);
`;

function makeDb(file: string, sql: string, fill?: (db: Database.Database) => void): void {
  const db = new Database(file);
  db.exec(sql);
  fill?.(db);
  db.close();
}

const header = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return {
      applicationId: db.pragma('application_id', { simple: true }) as number,
      version: db.pragma('user_version', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
};

describe('upgrade from the previous schema versions', () => {
  const dir = makeTempDir('citymetrics-upgrade-');
  let platform: PlatformProcess | null = null;
  afterAll(async () => {
    await platform?.kill('SIGKILL');
    dir.remove();
  });

  it('starts on a data directory of registry 1, access 1 and durable log 1 with every record intact', {
    timeout: 90_000,
  }, async () => {
    const dataDir = dir.file('data');
    mkdirSync(dataDir);
    const ports = await freePorts();
    platform = new PlatformProcess(dataDir, ports, {}, { adminToken: false });
    const p = platform;
    const device = { id: 'noise-old-1', password: 'an-old-device-password-1234' };
    const firstTs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const READINGS = 50;
    const createdAt = Date.now() - 86_400_000;
    const credentialHash = await hashSecret(device.password);
    const adminHash = await hashSecret(p.adminToken);
    makeDb(join(dataDir, 'registry.db'), REGISTRY_V1, (db) =>
      db
        .prepare(
          `INSERT INTO devices (id, kind, name, district, lat, lon, attributes, status, created_at, credential_hash)
           VALUES (?, 'noise-monitor', 'Old monitor', 'Centre', 52.1, 4.3, '{"mast":"A7"}', 'active', ?, ?)`,
        )
        .run(device.id, createdAt, credentialHash),
    );
    makeDb(join(dataDir, 'access.db'), ACCESS_V1, (db) =>
      db
        .prepare(
          "INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES ('admin', 'admin', 'admin', ?, ?)",
        )
        .run(adminHash, createdAt),
    );
    makeDb(join(dataDir, 'log.db'), LOG_V1, (db) => {
      const insert = db.prepare(
        `INSERT INTO log (seq, received_at, device_id, kind, district, metric, ts, value)
         VALUES (?, ?, ?, 'noise-monitor', 'Centre', 'laeq', ?, ?)`,
      );
      for (let i = 0; i < READINGS; i++)
        insert.run(i + 1, firstTs + i * 1_000, device.id, firstTs + i * 1_000, 40 + i);
    });

    await p.start();
    // The stored admin key, not a configured one, lets the API in: the access file was kept.
    const res = await p.api<{
      id: string;
      name: string;
      district: string;
      attributes: unknown;
      location: unknown;
    }>('GET', `/api/devices/${device.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: device.id,
      name: 'Old monitor',
      district: 'Centre',
      attributes: { mast: 'A7' },
      location: { lat: 52.1, lon: 4.3 },
    });
    // Its credential still logs it in, and a new reading is acknowledged after the old ones.
    const client = await mqtt.connectAsync(p.mqttUrl, {
      username: device.id,
      password: device.password,
      reconnectPeriod: 0,
    });
    await client.publishAsync(
      `devices/${device.id}/telemetry`,
      JSON.stringify({ ts: firstTs + READINGS * 1_000, values: { laeq: 90 } }),
      { qos: 1 },
    );
    await client.endAsync();
    for (;;) {
      const stats = await p.api<{ backlog: number }>('GET', '/api/ingest/stats');
      expect(stats.status).toBe(200);
      if (stats.body.backlog === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await p.kill('SIGTERM')).code).toBe(0);
    platform = null;

    expect(header(join(dataDir, 'log.db')).version).toBe(LOG_SCHEMA_VERSION);
    expect(header(join(dataDir, 'registry.db')).version).toBe(REGISTRY_SCHEMA_VERSION);
    // The version-1 log became messages of one value with the same seqs, all replayed into the series store.
    const stored = readStored(dataDir, 'laeq');
    expect(stored.points.get(device.id)).toEqual(
      Array.from({ length: READINGS + 1 }, (_, i) => firstTs + i * 1_000),
    );
    const log = new Database(join(dataDir, 'log.db'), { readonly: true });
    const old = log
      .prepare('SELECT seq, value FROM log_values WHERE seq <= ? ORDER BY seq')
      .all(READINGS) as Array<{
      seq: number;
      value: number;
    }>;
    log.close();
    expect(old).toEqual(Array.from({ length: READINGS }, (_, i) => ({ seq: i + 1, value: 40 + i })));
    const registry = new Database(join(dataDir, 'registry.db'), { readonly: true });
    const row = registry.prepare('SELECT dev_eui, credential_hash FROM devices WHERE id = ?').get(device.id);
    registry.close();
    expect(row).toEqual({ dev_eui: null, credential_hash: credentialHash });
  });

  it('adopts the InfluxDB identity index of the first release and marks it with its id and version', () => {
    const file = dir.file('influx-index.db');
    makeDb(file, INDEX_V0, (db) => {
      db.prepare("INSERT INTO series (id, device, metric) VALUES (1, 'dev-1', 'laeq')").run();
      db.prepare("INSERT INTO tagsets (id, kind, district) VALUES (1, 'noise-monitor', 'Centre')").run();
      db.prepare('INSERT INTO points (series_id, ts, value, tagset_id) VALUES (1, 1000, 55.5, 1)').run();
    });
    const index = IdentityIndex.open(file);
    const again = index.classify([
      { deviceId: 'dev-1', kind: 'noise-monitor', district: 'Centre', metric: 'laeq', ts: 1000, value: 55.5 },
    ]);
    index.close();
    // The point of the old file is known: the same value again is a duplicate, not a new point.
    expect(again.outcome).toEqual({ inserted: 0, duplicates: 1, revisions: [] });
    expect(header(file)).toEqual({ applicationId: INDEX_APPLICATION_ID, version: INDEX_SCHEMA_VERSION });
  });

  it('refuses an identity index of a newer schema, naming the fix', () => {
    const file = dir.file('newer-index.db');
    makeDb(
      file,
      `${INDEX_V0} PRAGMA application_id = ${INDEX_APPLICATION_ID}; PRAGMA user_version = ${INDEX_SCHEMA_VERSION + 1};`,
    );
    let error: unknown;
    try {
      IdentityIndex.open(file).close();
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).toBe('STORE_CORRUPT');
    expect((error as Error).message).toContain('run the citymetrics release that wrote it');
  });
});
