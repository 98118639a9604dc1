import type Database from 'better-sqlite3';
import { CityError } from '../core/errors.ts';
import type { AttributeValue, DeviceRecord, DeviceStatus } from '../core/ports/device-directory.ts';
import type {
  DeviceLifeChange,
  RegistryPersistence,
  StoredDevice,
} from '../core/ports/registry-persistence.ts';
import { openCitymetricsDb, storeCorrupt } from '../core/sqlite-file.ts';
import { type DeviceRow, type LifeRow, toLifeChange, toStoredDevice } from './device-rows.ts';

export type { StoredDevice } from '../core/ports/registry-persistence.ts';

/**
 * The registry's SQLite file. Only this file speaks SQL; the registry above it works on records.
 *
 * The file says what it is: `PRAGMA application_id` marks it as a citymetrics registry and
 * `PRAGMA user_version` is its schema version. A file that is not SQLite, or SQLite that is not ours, or
 * ours from a newer version, stops the platform with STORE_CORRUPT naming the file: resetting it silently
 * would lose every device credential in the city.
 *
 * The port's methods are asynchronous, but here each one does its SQL synchronously when called and
 * returns a settled promise: a write is on disk when the call returns, as before the port existed, so
 * the registry's synchronous open and close keep working on this store.
 */

/** 'CMDR': citymetrics device registry. A signed 32-bit value, as SQLite stores it. */
export const REGISTRY_APPLICATION_ID = 0x434d4452;
export const REGISTRY_SCHEMA_VERSION = 4;

/** migrations[v] takes a database at schema version v to v + 1. Append only. */
const migrations: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        district TEXT NOT NULL,
        lat REAL,
        lon REAL,
        attributes TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        credential_hash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX devices_kind ON devices (kind);
      CREATE INDEX devices_district ON devices (district);
    `);
  },
  // Version 2: the LoRaWAN DevEUI. Existing devices keep their rows with none (NULL: a unique index lets
  // any number of devices have no DevEUI).
  (db) => {
    db.exec(`
      ALTER TABLE devices ADD COLUMN dev_eui TEXT;
      CREATE UNIQUE INDEX devices_dev_eui ON devices (dev_eui);
    `);
  },
  // Version 3: the installed interval, and its history. Existing devices were installed when provisioned
  // (what the KPIs assumed until then) and are still installed.
  (db) => {
    db.exec(`
      ALTER TABLE devices ADD COLUMN installed_at INTEGER NOT NULL DEFAULT 0;
      UPDATE devices SET installed_at = created_at;
      ALTER TABLE devices ADD COLUMN removed_at INTEGER;
      CREATE TABLE device_life_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        changed_at INTEGER NOT NULL,
        changed_by TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('update', 'decommission')),
        old_installed_at INTEGER NOT NULL,
        old_removed_at INTEGER,
        new_installed_at INTEGER NOT NULL,
        new_removed_at INTEGER,
        forced INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX device_life_changes_device ON device_life_changes (device_id, seq);
    `);
  },
  // Version 4: since when a disabled device is disabled. For one disabled before, the time is not known:
  // its installation is taken, so it stays out of every period, as the KPIs left it until then.
  (db) => {
    db.exec(`
      ALTER TABLE devices ADD COLUMN disabled_at INTEGER;
      UPDATE devices SET disabled_at = installed_at WHERE status = 'disabled';
    `);
  },
];

const corrupt = storeCorrupt;

type SqliteDeviceRow = DeviceRow<string>;

function toStored(row: SqliteDeviceRow, file: string): StoredDevice {
  let attributes: Record<string, AttributeValue>;
  try {
    attributes = JSON.parse(row.attributes) as Record<string, AttributeValue>;
  } catch (err) {
    throw corrupt(file, `device ${row.id}: attributes are not JSON`, err);
  }
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw corrupt(file, `device ${row.id}: attributes are not an object`);
  }
  return toStoredDevice(row, attributes, (detail) => corrupt(file, detail));
}

export class RegistryStore implements RegistryPersistence {
  private readonly statements;
  readonly location: string;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {
    this.location = file;
    this.statements = {
      all: db.prepare<[], SqliteDeviceRow>('SELECT * FROM devices'),
      insert: db.prepare(
        `INSERT INTO devices (id, kind, name, district, lat, lon, attributes, status, created_at, last_seen_at,
           credential_hash, dev_eui, installed_at, removed_at, disabled_at)
         VALUES (@id, @kind, @name, @district, @lat, @lon, @attributes, @status, @createdAt, @lastSeenAt,
           @credentialHash, @devEui, @installedAt, @removedAt, @disabledAt)`,
      ),
      life: db.prepare(
        'UPDATE devices SET installed_at = @installedAt, removed_at = @removedAt WHERE id = @id',
      ),
      lifeChange: db.prepare(
        `INSERT INTO device_life_changes (device_id, changed_at, changed_by, action, old_installed_at,
           old_removed_at, new_installed_at, new_removed_at, forced)
         VALUES (@deviceId, @at, @by, @action, @oldInstalledAt, @oldRemovedAt, @newInstalledAt, @newRemovedAt,
           @forced)`,
      ),
      lifeHistory: db.prepare<[string], LifeRow>(
        'SELECT * FROM device_life_changes WHERE device_id = ? ORDER BY seq',
      ),
      removeLife: db.prepare('DELETE FROM device_life_changes WHERE device_id = ?'),
      remove: db.prepare('DELETE FROM devices WHERE id = ?'),
      credential: db.prepare('UPDATE devices SET credential_hash = ? WHERE id = ?'),
      status: db.prepare('UPDATE devices SET status = ?, disabled_at = ? WHERE id = ?'),
      details: db.prepare(
        'UPDATE devices SET name = @name, district = @district, lat = @lat, lon = @lon, attributes = @attributes, dev_eui = @devEui WHERE id = @id',
      ),
      // Never move last_seen backwards: a late batch flush must not overwrite a newer value.
      lastSeen: db.prepare(
        'UPDATE devices SET last_seen_at = @at WHERE id = @id AND (last_seen_at IS NULL OR last_seen_at < @at)',
      ),
    };
  }

  /** Opens (creating if absent) the registry file; STORE_CORRUPT if it is damaged or not ours. */
  static open(file: string): RegistryStore {
    const db = openCitymetricsDb({
      file,
      what: 'device registry',
      applicationId: REGISTRY_APPLICATION_ID,
      schemaVersion: REGISTRY_SCHEMA_VERSION,
      migrate(target, from) {
        for (let v = from; v < REGISTRY_SCHEMA_VERSION; v++) migrations[v]!(target);
      },
    });
    db.pragma('busy_timeout = 5000');
    return new RegistryStore(db, file);
  }

  /** Every device, synchronously: what the registry's synchronous `open` reads. */
  loadAll(): StoredDevice[] {
    return this.statements.all.all().map((row) => toStored(row, this.file));
  }

  load(): Promise<StoredDevice[]> {
    return settle(() => this.loadAll());
  }

  insert(record: DeviceRecord, credentialHash: string): Promise<void> {
    return settle(() => this.insertNow(record, credentialHash));
  }

  private insertNow(record: DeviceRecord, credentialHash: string): void {
    try {
      this.insertRow(record, credentialHash);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new CityError('API_CONFLICT', `device ${record.id} already exists`, {
          field: 'id',
          cause: err,
        });
      throw devEuiConflict(err, record) ?? err;
    }
  }

  private insertRow(record: DeviceRecord, credentialHash: string): void {
    this.statements.insert.run({
      id: record.id,
      kind: record.kind,
      name: record.name,
      district: record.district,
      lat: record.location?.lat ?? null,
      lon: record.location?.lon ?? null,
      attributes: JSON.stringify(record.attributes),
      status: record.status,
      createdAt: record.createdAt,
      lastSeenAt: record.lastSeenAt,
      credentialHash,
      devEui: record.devEui ?? null,
      installedAt: record.installedAt,
      removedAt: record.removedAt,
      disabledAt: record.status === 'disabled' ? (record.disabledAt ?? record.installedAt) : null,
    });
  }

  setLife(change: DeviceLifeChange): Promise<void> {
    const { life, lifeChange } = this.statements;
    return settle(() =>
      this.db.transaction(() => {
        const { after, before } = change;
        const updated = life.run({ id: change.deviceId, ...after });
        if (updated.changes === 0) return;
        lifeChange.run({
          deviceId: change.deviceId,
          at: change.at,
          by: change.by,
          action: change.action,
          oldInstalledAt: before.installedAt,
          oldRemovedAt: before.removedAt,
          newInstalledAt: after.installedAt,
          newRemovedAt: after.removedAt,
          forced: change.forced ? 1 : 0,
        });
      })(),
    );
  }

  lifeHistory(id: string): Promise<DeviceLifeChange[]> {
    return settle(() => this.statements.lifeHistory.all(id).map(toLifeChange));
  }

  remove(id: string): Promise<void> {
    return settle(() => {
      this.db.transaction(() => {
        this.statements.removeLife.run(id);
        this.statements.remove.run(id);
      })();
    });
  }

  setCredential(id: string, credentialHash: string): Promise<void> {
    return settle(() => {
      this.statements.credential.run(credentialHash, id);
    });
  }

  setStatus(id: string, status: DeviceStatus, at: number): Promise<void> {
    return settle(() => {
      this.statements.status.run(status, status === 'disabled' ? at : null, id);
    });
  }

  setDetails(record: DeviceRecord): Promise<void> {
    return settle(() => this.detailsNow(record));
  }

  private detailsNow(record: DeviceRecord): void {
    try {
      this.detailsRow(record);
    } catch (err) {
      throw devEuiConflict(err, record) ?? err;
    }
  }

  private detailsRow(record: DeviceRecord): void {
    this.statements.details.run({
      id: record.id,
      name: record.name,
      district: record.district,
      lat: record.location?.lat ?? null,
      lon: record.location?.lon ?? null,
      attributes: JSON.stringify(record.attributes),
      devEui: record.devEui ?? null,
    });
  }

  /** Writes many last-seen times in one transaction (one fsync at most, not one per device). */
  writeLastSeen(entries: Iterable<readonly [id: string, at: number]>): Promise<void> {
    const run = this.statements.lastSeen;
    return settle(() =>
      this.db.transaction(() => {
        for (const [id, at] of entries) run.run({ id, at });
      })(),
    );
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.db.open) this.db.close();
    });
  }
}

/** Runs synchronous work now and reports its result or its error as a settled promise. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The DevEUI index refused a duplicate: API_CONFLICT on devEui, as the port says; null for other errors. */
function devEuiConflict(err: unknown, record: DeviceRecord): CityError | null {
  if ((err as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') return null;
  return new CityError('API_CONFLICT', `DevEUI ${record.devEui} belongs to another device`, {
    field: 'devEui',
    cause: err,
  });
}

/** True when the error is SQLite refusing a duplicate primary key. */
export const isUniqueViolation = (err: unknown): boolean =>
  (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
