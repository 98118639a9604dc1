import type { DeviceRecord, DeviceStatus } from './device-directory.ts';

/** A device's installed interval: [installedAt, removedAt), epoch ms; removedAt null while installed. */
export interface DeviceLife {
  installedAt: number;
  removedAt: number | null;
}

/** One change of a device's installed interval, as kept in its history (who, when, before and after). */
export interface DeviceLifeChange {
  deviceId: string;
  /** epoch ms of the change */
  at: number;
  /** who made it: the API key's name and id, or the CLI's */
  by: string;
  /** what was done: an update of the interval, or a decommissioning */
  action: 'update' | 'decommission';
  before: DeviceLife;
  after: DeviceLife;
  /** the change excluded stored readings from the interval and was forced */
  forced: boolean;
}

/** A device as persisted: its record (with `online` always false) and its salted password hash. */
export interface StoredDevice {
  record: DeviceRecord;
  credentialHash: string;
}

/**
 * Where the device registry keeps its devices: the embedded SQLite file or a PostgreSQL database shared
 * by several nodes. Both pass the contract suite in test/contracts/registry-store.contract.ts.
 *
 * Why it is asynchronous though the registry's lookups are not: the registry serves every per-message
 * lookup (`get`, `verifyCredentials`, `markSeen`) from memory, so it reads the whole store once, at open
 * (`load`), and afterwards only writes. Writes are awaited before a change is acknowledged, so an admin
 * change the API confirmed is durable, on a server as in a file; last-seen times go in batches.
 *
 * Errors: `insert` of an id already stored rejects with CityError API_CONFLICT (`field: 'id'`), whatever
 * the backend (SQLite's SQLITE_CONSTRAINT_PRIMARYKEY, PostgreSQL's 23505); `insert` or `setDetails` with a
 * DevEUI another device has rejects with API_CONFLICT (`field: 'devEui'`). Updates of an id not stored
 * change nothing and do not fail: the registry checks existence in memory first.
 */
export interface RegistryPersistence {
  /** Where it is, for logs: a file path, or a database name (never a password). */
  readonly location: string;
  /** Every stored device, in no particular order. */
  load(): Promise<StoredDevice[]>;
  insert(record: DeviceRecord, credentialHash: string): Promise<void>;
  setCredential(id: string, credentialHash: string): Promise<void>;
  /** `at`: when it was disabled (kept as disabledAt); enabling clears it. */
  setStatus(id: string, status: DeviceStatus, at: number): Promise<void>;
  /** Writes name, district, location, attributes and DevEUI of the record. */
  setDetails(record: DeviceRecord): Promise<void>;
  /**
   * Sets the installed interval to `change.after` and appends `change` to the device's history, in one
   * transaction. An unknown id changes nothing and records nothing.
   */
  setLife(change: DeviceLifeChange): Promise<void>;
  /** The changes of a device's installed interval, oldest first; empty for an unknown id. */
  lifeHistory(id: string): Promise<DeviceLifeChange[]>;
  /**
   * Deletes a device and its interval history, in one transaction; an unknown id changes nothing. Only
   * stores of one node have it: on a shared store the other nodes would keep the device in memory and
   * let it log in, so a cluster decommissions instead.
   */
  remove?(id: string): Promise<void>;
  /** Many last-seen times in one transaction; a time never moves a stored one backwards. */
  writeLastSeen(entries: Iterable<readonly [id: string, at: number]>): Promise<void>;
  /**
   * Only for stores shared by several nodes: calls `listener` with the current rows of devices another
   * node inserted or changed (credentials, status, details, installed interval; not last-seen times), within about a second
   * of its commit, and with every stored device (`full: true`) after a lost connection to the change feed,
   * when changes may have been missed. Returns the unsubscribe function.
   */
  watch?(listener: (devices: StoredDevice[], full: boolean) => void): () => void;
  close(): Promise<void>;
}
