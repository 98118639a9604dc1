import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { PgChangeFeed } from '../core/pg-change-feed.ts';
import { isPgUniqueViolation, type PgComponentSchema } from '../core/pg-component-schema.ts';
import { openPgPart } from '../core/pg-part.ts';
import { handlePoolErrors } from '../core/pg-pool-errors.ts';
import type { AttributeValue, DeviceRecord, DeviceStatus } from '../core/ports/device-directory.ts';
import type {
  DeviceLifeChange,
  RegistryPersistence,
  StoredDevice,
} from '../core/ports/registry-persistence.ts';
import { type DeviceRow, type LifeRow, toLifeChange, toStoredDevice } from './device-rows.ts';

export const PG_REGISTRY_SCHEMA_VERSION = 4;
/** Where nodes announce committed registry changes: `<origin>:<device id>`. */
export const PG_REGISTRY_CHANNEL = 'citymetrics_registry';

const LIFE_CHANGES_DDL = `
    CREATE TABLE device_life_changes (
      seq bigserial PRIMARY KEY,
      device_id text NOT NULL,
      changed_at bigint NOT NULL,
      changed_by text NOT NULL,
      action text NOT NULL CHECK (action IN ('update', 'decommission')),
      old_installed_at bigint NOT NULL,
      old_removed_at bigint,
      new_installed_at bigint NOT NULL,
      new_removed_at bigint,
      forced boolean NOT NULL DEFAULT false
    );
    CREATE INDEX device_life_changes_device ON device_life_changes (device_id, seq);`;

const SCHEMA: PgComponentSchema = {
  what: 'device registry',
  versionTable: 'citymetrics_registry_schema',
  version: PG_REGISTRY_SCHEMA_VERSION,
  tables: ['devices', 'device_life_changes'],
  lock: 0x434d4452,
  // The SQLite registry's columns; attributes as jsonb, times as epoch ms (bigint).
  ddl: `
    CREATE TABLE devices (
      id text PRIMARY KEY,
      kind text NOT NULL,
      name text NOT NULL,
      district text NOT NULL,
      lat double precision,
      lon double precision,
      attributes jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL CHECK (status IN ('active', 'disabled')),
      created_at bigint NOT NULL,
      last_seen_at bigint,
      credential_hash text NOT NULL,
      dev_eui text,
      installed_at bigint NOT NULL,
      removed_at bigint,
      disabled_at bigint
    );
    CREATE INDEX devices_kind ON devices (kind);
    CREATE INDEX devices_district ON devices (district);
    CREATE UNIQUE INDEX devices_dev_eui ON devices (dev_eui);
    ${LIFE_CHANGES_DDL}`,
  migrations: {
    // Version 2: the LoRaWAN DevEUI; existing devices have none.
    1: `ALTER TABLE devices ADD COLUMN dev_eui text;
        CREATE UNIQUE INDEX devices_dev_eui ON devices (dev_eui);`,
    // Version 3: the installed interval and its history; existing devices were installed when provisioned.
    2: `ALTER TABLE devices ADD COLUMN installed_at bigint;
        UPDATE devices SET installed_at = created_at;
        ALTER TABLE devices ALTER COLUMN installed_at SET NOT NULL;
        ALTER TABLE devices ADD COLUMN removed_at bigint;
        ${LIFE_CHANGES_DDL}`,
    // Version 4: since when a disabled device is disabled; for one disabled before, its installation
    // (it stays out of every period, as the KPIs left it until then).
    3: `ALTER TABLE devices ADD COLUMN disabled_at bigint;
        UPDATE devices SET disabled_at = installed_at WHERE status = 'disabled';`,
  },
};

export interface PostgresRegistryStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  logger: Logger;
  /** Connections in the pool (default 2); the change feed takes one more. */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

type PgDeviceRow = DeviceRow<Record<string, AttributeValue>>;

/**
 * The registry's devices in PostgreSQL, shared by several nodes. Every change of credentials, status or
 * details is announced on PG_REGISTRY_CHANNEL in the same statement as the write, tagged with this
 * store's origin so it ignores its own; the other nodes re-read the named rows (the current row, never
 * the announcement's content, so a late announcement cannot roll a device back) and hand them to the
 * registry's `watch` listener. Last-seen writes are not announced: they come in every flush.
 */
export class PostgresRegistryStore implements RegistryPersistence {
  readonly location: string;
  private readonly origin = randomBytes(6).toString('hex');
  private readonly writes = new Set<Promise<unknown>>();
  private listener: ((devices: StoredDevice[], full: boolean) => void) | null = null;
  /** Ids announced but not yet re-read (at most one entry per device). */
  private readonly changed = new Set<string>();
  private resync = false;
  private reading = false;
  private feed: PgChangeFeed | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    database: string,
  ) {
    this.location = `postgres:${database}`;
    handlePoolErrors(pool, (err) => this.log.warn({ err: err.message }, 'PostgreSQL connection lost'));
  }

  /**
   * Connects, creates or checks the schema (STORE_CORRUPT for another version) and starts listening for
   * other nodes' changes before anything is read, so none falls between the load and the feed.
   */
  static async open(opts: PostgresRegistryStoreOptions): Promise<PostgresRegistryStore> {
    const log = opts.logger.child({ component: 'registry-store', store: 'postgres' });
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-registry' },
      (pool, database) => new PostgresRegistryStore(pool, log, database),
      async (store) => {
        store.feed = await PgChangeFeed.start({
          url: opts.url,
          channel: PG_REGISTRY_CHANNEL,
          logger: log,
          connectTimeoutMs: opts.connectTimeoutMs,
          onMessage: (payload) => store.announced(payload),
          onResync: () => store.requestResync(),
        });
      },
    );
  }

  async load(): Promise<StoredDevice[]> {
    const { rows } = await this.pool.query<PgDeviceRow>('SELECT * FROM devices');
    return rows.map(toStored);
  }

  insert(record: DeviceRecord, credentialHash: string): Promise<void> {
    return this.write(async () => {
      try {
        await this.pool.query(
          `WITH w AS (
             INSERT INTO devices (id, kind, name, district, lat, lon, attributes, status, created_at,
               last_seen_at, credential_hash, dev_eui, installed_at, removed_at, disabled_at)
             VALUES ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id)
           SELECT pg_notify($1, $2 || ':' || id) FROM w`,
          [
            PG_REGISTRY_CHANNEL,
            this.origin,
            record.id,
            record.kind,
            record.name,
            record.district,
            record.location?.lat ?? null,
            record.location?.lon ?? null,
            JSON.stringify(record.attributes),
            record.status,
            record.createdAt,
            record.lastSeenAt,
            credentialHash,
            record.devEui ?? null,
            record.installedAt,
            record.removedAt,
            record.status === 'disabled' ? (record.disabledAt ?? record.installedAt) : null,
          ],
        );
      } catch (err) {
        if (isPgUniqueViolation(err) && isDevEuiIndex(err)) throw devEuiConflict(record, err);
        if (isPgUniqueViolation(err))
          throw new CityError('API_CONFLICT', `device ${record.id} already exists`, {
            field: 'id',
            cause: err,
          });
        throw err;
      }
    });
  }

  setCredential(id: string, credentialHash: string): Promise<void> {
    return this.update('credential_hash = $4', id, [credentialHash]);
  }

  setStatus(id: string, status: DeviceStatus, at: number): Promise<void> {
    return this.update('status = $4, disabled_at = $5', id, [status, status === 'disabled' ? at : null]);
  }

  async setDetails(record: DeviceRecord): Promise<void> {
    try {
      await this.update(
        'name = $4, district = $5, lat = $6, lon = $7, attributes = $8, dev_eui = $9',
        record.id,
        [
          record.name,
          record.district,
          record.location?.lat ?? null,
          record.location?.lon ?? null,
          JSON.stringify(record.attributes),
          record.devEui ?? null,
        ],
      );
    } catch (err) {
      if (isPgUniqueViolation(err) && isDevEuiIndex(err)) throw devEuiConflict(record, err);
      throw err;
    }
  }

  /** The row and its history row in one statement (one transaction), announced like any other change. */
  setLife(change: DeviceLifeChange): Promise<void> {
    const { before, after } = change;
    return this.write(() =>
      this.pool.query(
        `WITH w AS (UPDATE devices SET installed_at = $4, removed_at = $5 WHERE id = $3 RETURNING id),
           h AS (INSERT INTO device_life_changes (device_id, changed_at, changed_by, action, old_installed_at,
               old_removed_at, new_installed_at, new_removed_at, forced)
             SELECT id, $6, $7, $8, $9, $10, $4, $5, $11 FROM w)
         SELECT pg_notify($1, $2 || ':' || id) FROM w`,
        [
          PG_REGISTRY_CHANNEL,
          this.origin,
          change.deviceId,
          after.installedAt,
          after.removedAt,
          change.at,
          change.by,
          change.action,
          before.installedAt,
          before.removedAt,
          change.forced,
        ],
      ),
    );
  }

  async lifeHistory(id: string): Promise<DeviceLifeChange[]> {
    const { rows } = await this.pool.query<LifeRow>(
      'SELECT * FROM device_life_changes WHERE device_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map(toLifeChange);
  }

  writeLastSeen(entries: Iterable<readonly [id: string, at: number]>): Promise<void> {
    const ids: string[] = [];
    const times: number[] = [];
    for (const [id, at] of entries) {
      ids.push(id);
      times.push(at);
    }
    if (ids.length === 0) return Promise.resolve();
    // One statement for the whole batch; never moves a stored time backwards (another node's is newer).
    return this.write(() =>
      this.pool.query(
        `UPDATE devices d SET last_seen_at = v.at
         FROM unnest($1::text[], $2::bigint[]) AS v(id, at)
         WHERE d.id = v.id AND (d.last_seen_at IS NULL OR d.last_seen_at < v.at)`,
        [ids, times],
      ),
    );
  }

  watch(listener: (devices: StoredDevice[], full: boolean) => void): () => void {
    this.listener = listener;
    // Announcements that came while the registry was loading are read now, after its load.
    this.drain();
    return () => {
      if (this.listener === listener) this.listener = null;
    };
  }

  /** Waits for the writes in progress, then stops the feed and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener = null;
    await Promise.allSettled([...this.writes]);
    await this.feed?.close();
    await this.pool.end();
  }

  private update(set: string, id: string, values: unknown[]): Promise<void> {
    return this.write(() =>
      this.pool.query(
        `WITH w AS (UPDATE devices SET ${set} WHERE id = $3 RETURNING id)
         SELECT pg_notify($1, $2 || ':' || id) FROM w`,
        [PG_REGISTRY_CHANNEL, this.origin, id, ...values],
      ),
    );
  }

  private async write(run: () => Promise<unknown>): Promise<void> {
    if (this.closed) throw new Error('the registry store is closed');
    const done = run();
    this.writes.add(done);
    try {
      await done;
    } finally {
      this.writes.delete(done);
    }
  }

  private announced(payload: string): void {
    const colon = payload.indexOf(':');
    if (colon < 0 || payload.slice(0, colon) === this.origin) return;
    this.changed.add(payload.slice(colon + 1));
    this.drain();
  }

  private requestResync(): void {
    this.resync = true;
    this.drain();
  }

  /** Re-reads announced devices, one query at a time; what arrives meanwhile waits for the next. */
  private drain(): void {
    if (this.reading || this.closed || !this.listener) return;
    if (!this.resync && this.changed.size === 0) return;
    const full = this.resync;
    const ids = [...this.changed];
    this.resync = false;
    this.changed.clear();
    this.reading = true;
    const read = full
      ? this.load()
      : this.pool
          .query<PgDeviceRow>('SELECT * FROM devices WHERE id = ANY($1)', [ids])
          .then((r) => r.rows.map(toStored));
    read
      .then(
        (devices) => {
          if (!this.closed) this.listener?.(devices, full);
        },
        (err: unknown) => {
          if (this.closed) return;
          // Asked again on the next announcement or reconnect; a full re-read covers what was asked.
          this.resync = true;
          this.log.warn({ err: (err as Error).message, devices: ids.length }, 'registry changes not read');
        },
      )
      .finally(() => {
        this.reading = false;
        if (!this.resync) this.drain();
      });
  }
}

function toStored(row: PgDeviceRow): StoredDevice {
  return toStoredDevice(row, { ...row.attributes }, (detail) => new CityError('STORE_CORRUPT', detail));
}

/** PostgreSQL names the index that refused the row (`constraint`): the DevEUI's, or the primary key's. */
const isDevEuiIndex = (err: unknown): boolean =>
  (err as { constraint?: unknown }).constraint === 'devices_dev_eui';

const devEuiConflict = (record: DeviceRecord, cause: unknown): CityError =>
  new CityError('API_CONFLICT', `DevEUI ${record.devEui} belongs to another device`, {
    field: 'devEui',
    cause,
  });

/** Builds the PostgreSQL registry store (connects, checks the schema, listens; reads no environment). */
export const buildPostgresRegistryStore = (
  opts: PostgresRegistryStoreOptions,
): Promise<PostgresRegistryStore> => PostgresRegistryStore.open(opts);
