import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, ClockTimer } from '../core/clock.ts';
import type { DeviceKind, MetricSpec } from '../core/device-kind.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type {
  AttributeValue,
  CredentialCheck,
  DeviceDirectory,
  DeviceRecord,
  DeviceStatus,
} from '../core/ports/device-directory.ts';
import type {
  DeviceLife,
  DeviceLifeChange,
  RegistryPersistence,
  StoredDevice,
} from '../core/ports/registry-persistence.ts';
import {
  DEFAULT_SCRYPT_COST,
  decoyHash,
  generateSecret,
  hashSecret,
  verifySecret,
} from '../core/secret-hash.ts';
import { CredentialCache } from './credential-cache.ts';
import { checkLife, describeLife, excludedRanges } from './device-life.ts';
import { countDevices, type ListResult, pageDevices, snapshot } from './device-query.ts';
import type { KindCatalogue } from './kind-catalogue.ts';
import {
  checkAttributes,
  type DecommissionInput,
  decommissionInputSchema,
  defaultDeviceName,
  generateDeviceId,
  type ListFilter,
  type ProvisionInput,
  parseOrThrow,
  provisionInputSchema,
  type UpdateInput,
  updateInputSchema,
} from './registry-schema.ts';

export type { ListResult } from './device-query.ts';

import { RegistryStore } from './registry-store.ts';
import { SeenWriter } from './seen-writer.ts';
import { mergeStored } from './stored-merge.ts';

export const REGISTRY_FILE_NAME = 'registry.db';

export interface DeviceRegistryOptions extends DeviceRegistryStoreOptions {
  /** Directory of the embedded databases; the registry is `<dataDir>/registry.db`. */
  dataDir: string;
}

/** The registry's options apart from where it is stored (for `openOn`). */
export interface DeviceRegistryStoreOptions {
  kinds: KindCatalogue;
  clock: Clock;
  logger: Logger;
  /** How often last-seen times are written to the database, in ms. Default 10 000. */
  seenFlushIntervalMs?: number;
  /** scrypt N for new password hashes. Lower it only in tests and benchmarks. Default 16384. */
  scryptCost?: number;
  /** Successful logins remembered to keep reconnect storms cheap (credential-cache.ts). 0 turns it off. */
  credentialCacheSize?: number;
}

/** A device's installed interval changed (here or on another node): `before` and `after`. */
export interface DeviceLifeChanged {
  deviceId: string;
  kind: string;
  before: DeviceLife;
  after: DeviceLife;
  /** the history row, when the change was made on this node */
  change?: DeviceLifeChange;
}

/** How an interval change is made: who makes it, and how stored readings it would exclude are counted. */
export interface LifeChangeOptions {
  /** who, for the history: an API key's name and id */
  by?: string;
  /**
   * Stored readings of the device in the stretches the change leaves out of its interval. When they are
   * more than none the change is refused (DEVICES_LIFE_EXCLUDES_READINGS) unless forced. Absent: not
   * checked (a caller that has no series store).
   */
  storedReadings?: (
    deviceId: string,
    ranges: ReadonlyArray<{ from: number; to: number | null }>,
  ) => Promise<number>;
}

export interface ProvisionResult {
  device: DeviceRecord;
  /** The device's MQTT password. Returned only here: the registry keeps only its salted hash. */
  password: string;
}

/**
 * The device registry: devices, their kinds and credentials. Every device is held in memory so that the
 * per-message lookups of the gateway and ingest (`get`, `markSeen`) are synchronous and cost no I/O; the
 * store (core/ports/registry-persistence.ts: the SQLite file, or PostgreSQL) is read once at open, written
 * on provisioning and admin changes (awaited: what the API confirms is stored), and last-seen times in
 * batches.
 *
 * On a store shared by several nodes, another node's changes reach this one through the store's change
 * feed (`watch`) and are applied to the in-memory copy: a device provisioned elsewhere can log in here,
 * and a device disabled or given a new password elsewhere is revoked here too (onCredentialsRevoked).
 * Last-seen times are not fed across: each node keeps the newest it saw and writes it, never backwards.
 */
export class DeviceRegistry implements DeviceDirectory {
  private readonly devices = new Map<string, StoredDevice>();
  /** DevEUI → device id, for the LoRaWAN bridges' per-uplink lookup. */
  private readonly byEui = new Map<string, string>();
  /** Ids sorted for listing; rebuilt lazily after a device is added. */
  private sortedIds: string[] | null = null;
  /** Ids being provisioned (their hash is computing): reserved so two requests cannot take the same one. */
  private readonly pendingIds = new Set<string>();
  /** Last-seen times changed since the last flush, written in batches. */
  private readonly seen: SeenWriter;
  private readonly revokedListeners = new Set<(id: string) => void>();
  private readonly lifeListeners = new Set<(change: DeviceLifeChanged) => void>();
  private readonly cache: CredentialCache | null;
  private readonly scryptCost: number;
  private readonly decoy: string;
  private readonly timer: ClockTimer;
  private readonly log: Logger;
  private unwatch: (() => void) | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly store: RegistryPersistence,
    loaded: readonly StoredDevice[],
    private readonly kinds: KindCatalogue,
    private readonly clock: Clock,
    logger: Logger,
    options: DeviceRegistryStoreOptions,
  ) {
    this.log = logger.child({ component: 'device-registry' });
    this.scryptCost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    this.decoy = decoyHash({ cost: this.scryptCost });
    const cacheSize = options.credentialCacheSize ?? 10_000;
    this.cache = cacheSize > 0 ? new CredentialCache(cacheSize) : null;
    for (const stored of loaded) {
      if (!kinds.get(stored.record.kind)) {
        // Kept, not dropped: its readings will be refused, but an operator can still see and fix it.
        this.log.warn({ deviceId: stored.record.id, kind: stored.record.kind }, 'device of an unknown kind');
      }
      this.devices.set(stored.record.id, stored);
      this.indexEui(stored.record.id, null, stored.record.devEui);
    }
    this.seen = new SeenWriter(
      (batch) => store.writeLastSeen(batch),
      (id) => this.devices.get(id)?.record.lastSeenAt,
    );
    const interval = options.seenFlushIntervalMs ?? 10_000;
    // On the clock's timers, which never keep a finished process alive; close() flushes what is left.
    this.timer = clock.setInterval(() => this.flushSeenSafely(), interval);
    if (store.watch) this.unwatch = store.watch((devices, full) => this.applyStored(devices, full));
    this.log.debug({ store: store.location, devices: this.devices.size }, 'device registry open');
  }

  /**
   * Opens `<dataDir>/registry.db`, creating it if absent. STORE_CORRUPT if the file is damaged or not ours.
   * Synchronous, as it always was: the SQLite store reads its file without waiting.
   */
  static open(options: DeviceRegistryOptions): DeviceRegistry {
    mkdirSync(options.dataDir, { recursive: true });
    const store = RegistryStore.open(join(options.dataDir, REGISTRY_FILE_NAME));
    try {
      return new DeviceRegistry(
        store,
        store.loadAll(),
        options.kinds,
        options.clock,
        options.logger,
        options,
      );
    } catch (err) {
      void store.close();
      throw err;
    }
  }

  /**
   * A registry over any store (PostgreSQL for cluster mode): loads every device, then serves from memory.
   * The registry owns the store from here on and closes it on close(), or at once if opening fails.
   */
  static async openOn(
    store: RegistryPersistence,
    options: DeviceRegistryStoreOptions,
  ): Promise<DeviceRegistry> {
    try {
      const loaded = await store.load();
      return new DeviceRegistry(store, loaded, options.kinds, options.clock, options.logger, options);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  // ---- DeviceDirectory: the hot path ----

  /** The live record (not a copy, for speed on every message): read it, do not modify it. */
  get(id: string): Readonly<DeviceRecord> | undefined {
    return this.devices.get(id)?.record;
  }

  kind(kindId: string): DeviceKind | undefined {
    return this.kinds.get(kindId);
  }

  metric(kindId: string, metric: string): MetricSpec | undefined {
    return this.kinds.metric(kindId, metric);
  }

  /** The device with this LoRaWAN DevEUI (any case), from memory; the live record, as `get`. */
  byDevEui(devEui: string): Readonly<DeviceRecord> | undefined {
    const id = this.byEui.get(devEui.toLowerCase());
    return id === undefined ? undefined : this.devices.get(id)?.record;
  }

  async verifyCredentials(id: string, password: string): Promise<CredentialCheck> {
    const entry = typeof id === 'string' ? this.devices.get(id) : undefined;
    if (!entry) {
      // Same scrypt work as a real check, so response time does not reveal which ids exist.
      await verifySecret(password, this.decoy);
      return 'unknown-device';
    }
    const hash = entry.credentialHash;
    let ok = this.cache?.has(id, password, hash) ?? false;
    if (!ok) {
      ok = await verifySecret(password, hash);
      // The password may have been rotated while scrypt ran: the one we checked is then no longer valid.
      if (entry.credentialHash !== hash) ok = false;
      if (ok && this.mayConnect(entry.record)) this.cache?.remember(id, password, hash);
    }
    if (!ok) return 'bad-password';
    // 'disabled' only for the right password: without it, a caller learns nothing about the device.
    return this.mayConnect(entry.record) ? 'ok' : 'disabled';
  }

  setOnline(id: string, online: boolean, at: number): void {
    const entry = this.devices.get(id);
    if (!entry) return;
    entry.record.online = online;
    if (online) this.markSeen(id, at);
  }

  markSeen(id: string, at: number): void {
    const record = this.devices.get(id)?.record;
    if (!record) return;
    if (record.lastSeenAt === null || at > record.lastSeenAt) {
      record.lastSeenAt = at;
      this.seen.mark(id);
    }
  }

  onCredentialsRevoked(listener: (id: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => {
      this.revokedListeners.delete(listener);
    };
  }

  /** Called after a device's installed interval changed, here or on another node sharing the store. */
  onLifeChanged(listener: (change: DeviceLifeChanged) => void): () => void {
    this.lifeListeners.add(listener);
    return () => {
      this.lifeListeners.delete(listener);
    };
  }

  // ---- administration ----

  async provision(input: ProvisionInput): Promise<ProvisionResult> {
    this.assertOpen();
    const parsed = parseOrThrow(provisionInputSchema, input);
    const kind = this.kinds.get(parsed.kind);
    if (!kind) {
      throw new CityError('DEVICES_UNKNOWN_KIND', `device kind "${parsed.kind}" is not known`, {
        field: 'kind',
      });
    }
    const attributes = parsed.attributes ?? {};
    checkAttributes(kind, attributes);
    let id: string;
    if (parsed.id !== undefined) {
      id = parsed.id;
      if (this.isTaken(id))
        throw new CityError('API_CONFLICT', `device ${id} already exists`, { field: 'id' });
    } else {
      do id = generateDeviceId(kind.id);
      while (this.isTaken(id));
    }
    const devEui = parsed.devEui ?? null;
    if (devEui !== null) this.assertEuiFree(devEui, id);
    const createdAt = this.clock.now();
    const life: DeviceLife = {
      installedAt: parsed.installedAt ?? createdAt,
      removedAt: parsed.removedAt ?? null,
    };
    checkLife(life);
    this.pendingIds.add(id);
    try {
      const password = generateSecret();
      const credentialHash = await hashSecret(password, { cost: this.scryptCost });
      this.assertOpen();
      const record: DeviceRecord = {
        id,
        kind: kind.id,
        name: parsed.name ?? defaultDeviceName(kind, id),
        district: parsed.district,
        location: parsed.location ? Object.freeze({ ...parsed.location }) : null,
        attributes: Object.freeze({ ...attributes }),
        devEui,
        status: 'active',
        createdAt,
        installedAt: life.installedAt,
        removedAt: life.removedAt,
        disabledAt: null,
        lastSeenAt: null,
        online: false,
      };
      // A taken id (another node's device) is refused by the store as API_CONFLICT on `id`.
      await this.store.insert(record, credentialHash);
      this.assertOpen();
      this.devices.set(id, { record, credentialHash });
      this.indexEui(id, null, devEui);
      this.sortedIds = null;
      this.log.info({ deviceId: id, kind: kind.id, district: record.district }, 'device provisioned');
      return { device: snapshot(record), password };
    } finally {
      this.pendingIds.delete(id);
    }
  }

  /** Issues a new password; the old one stops working at once and connected sessions are revoked. */
  async rotatePassword(id: string): Promise<string> {
    this.require(id);
    const password = generateSecret();
    const credentialHash = await hashSecret(password, { cost: this.scryptCost });
    this.require(id);
    await this.store.setCredential(id, credentialHash);
    const entry = this.require(id);
    entry.credentialHash = credentialHash;
    this.cache?.forget(id);
    this.log.info({ deviceId: id }, 'device password rotated');
    this.emitRevoked(id);
    return password;
  }

  async disable(id: string): Promise<DeviceRecord> {
    const entry = this.require(id);
    if (entry.record.status !== 'disabled') {
      await this.setStatus(entry, 'disabled');
      this.cache?.forget(id);
      this.emitRevoked(id);
    }
    return snapshot(entry.record);
  }

  async enable(id: string): Promise<DeviceRecord> {
    const entry = this.require(id);
    if (entry.record.status !== 'active') await this.setStatus(entry, 'active');
    return snapshot(entry.record);
  }

  /**
   * Changes name, district, location, attributes or the installed interval. `attributes` is merged into
   * the current set (null removes one) and the result is checked against the kind. An interval change is
   * checked (and recorded) first: when it is refused, nothing else is changed either.
   */
  async update(id: string, patch: UpdateInput, options: LifeChangeOptions = {}): Promise<DeviceRecord> {
    const entry = this.require(id);
    const { installedAt, removedAt, force, ...details } = parseOrThrow(updateInputSchema, patch);
    if (installedAt !== undefined || removedAt !== undefined) {
      const next = {
        installedAt: installedAt ?? entry.record.installedAt,
        removedAt: removedAt === undefined ? entry.record.removedAt : removedAt,
      };
      await this.changeLife(entry, next, 'update', force === true, options);
    }
    if (Object.keys(details).length === 0) return snapshot(entry.record);
    return this.updateDetails(entry, details);
  }

  /**
   * Decommissions a device at `at` (default now; not later than now): its interval ends there, its
   * credentials stop working and connected sessions are cut. The device, its readings and its history
   * stay: it still counts in the periods it was installed for. Again on a removed device: API_CONFLICT.
   */
  async decommission(
    id: string,
    input: DecommissionInput = {},
    options: LifeChangeOptions = {},
  ): Promise<DeviceRecord> {
    const entry = this.require(id);
    const p = parseOrThrow(decommissionInputSchema, input);
    const now = this.clock.now();
    const at = p.at ?? now;
    if (at > now)
      throw new CityError('API_VALIDATION', 'a device is decommissioned now or in the past', { field: 'at' });
    const { installedAt, removedAt } = entry.record;
    if (removedAt !== null && removedAt <= now)
      throw new CityError(
        'API_CONFLICT',
        `device ${id} was removed at ${new Date(removedAt).toISOString()}; change removedAt to correct it`,
        { field: 'id' },
      );
    await this.changeLife(entry, { installedAt, removedAt: at }, 'decommission', p.force === true, options);
    return snapshot(entry.record);
  }

  /**
   * Deletes a device that has stored no reading: a provisioning made by mistake. One with readings is
   * refused (DEVICES_HAS_READINGS), since the KPIs of its periods count it: it is decommissioned instead.
   * A connected session is cut at once. Refused (API_CONFLICT) on a store shared by several nodes.
   */
  async remove(id: string, options: { hasReadings?: (id: string) => Promise<boolean> } = {}): Promise<void> {
    this.require(id);
    if (this.store.remove === undefined || this.store.watch !== undefined)
      throw new CityError(
        'API_CONFLICT',
        `devices cannot be deleted on the shared registry of a cluster (${this.store.location}): decommission ${id} instead`,
        { field: 'id' },
      );
    if (options.hasReadings !== undefined && (await options.hasReadings(id)))
      throw new CityError(
        'DEVICES_HAS_READINGS',
        `device ${id} has stored readings: decommission it instead`,
        {
          field: 'id',
        },
      );
    const entry = this.require(id);
    await this.store.remove(id);
    this.devices.delete(id);
    this.indexEui(id, entry.record.devEui, null);
    this.sortedIds = null;
    this.cache?.forget(id);
    this.log.info({ deviceId: id, kind: entry.record.kind }, 'device deleted');
    this.emitRevoked(id);
  }

  /** The changes of a device's installed interval, oldest first. */
  async lifeHistory(id: string): Promise<DeviceLifeChange[]> {
    this.require(id);
    return this.store.lifeHistory(id);
  }

  private async updateDetails(
    entry: StoredDevice,
    p: Omit<ReturnType<typeof updateInputSchema.parse>, 'installedAt' | 'removedAt' | 'force'>,
  ): Promise<DeviceRecord> {
    const id = entry.record.id;
    const current = entry.record;
    let attributes = current.attributes;
    if (p.attributes !== undefined) {
      const kind = this.kinds.get(current.kind);
      if (!kind) throw new CityError('DEVICES_UNKNOWN_KIND', `device kind "${current.kind}" is not known`);
      const merged: Record<string, AttributeValue> = { ...current.attributes };
      for (const [key, value] of Object.entries(p.attributes)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      checkAttributes(kind, merged);
      attributes = Object.freeze(merged);
    }
    const devEui = p.devEui === undefined ? (current.devEui ?? null) : p.devEui;
    if (devEui !== null) this.assertEuiFree(devEui, id);
    const next: DeviceRecord = {
      ...current,
      devEui,
      name: p.name ?? current.name,
      district: p.district ?? current.district,
      location: p.location === undefined ? current.location : p.location && Object.freeze({ ...p.location }),
      attributes,
    };
    await this.store.setDetails(next);
    // Mutated in place: holders of the live record (gateway sessions) see the change.
    this.indexEui(id, current.devEui ?? null, devEui);
    Object.assign(current, {
      name: next.name,
      district: next.district,
      location: next.location,
      attributes,
      devEui,
    });
    this.log.info({ deviceId: id, fields: Object.keys(p) }, 'device updated');
    return snapshot(current);
  }

  /**
   * Sets the installed interval, recording the change. Refused (DEVICES_LIFE_EXCLUDES_READINGS, with how
   * many) when it would leave stored readings outside the interval, unless forced: those readings would
   * stop counting in the KPIs of their periods. An end that has passed revokes the device's credentials.
   */
  private async changeLife(
    entry: StoredDevice,
    after: DeviceLife,
    action: DeviceLifeChange['action'],
    force: boolean,
    options: LifeChangeOptions,
  ): Promise<void> {
    const record = entry.record;
    const before: DeviceLife = { installedAt: record.installedAt, removedAt: record.removedAt };
    checkLife(after);
    if (before.installedAt === after.installedAt && before.removedAt === after.removedAt) return;
    const excluded = excludedRanges(before, after);
    if (excluded.length > 0 && options.storedReadings !== undefined) {
      const readings = await options.storedReadings(record.id, excluded);
      if (readings > 0 && !force)
        throw new CityError(
          'DEVICES_LIFE_EXCLUDES_READINGS',
          `${readings} stored readings of ${record.id} would fall outside ${describeLife(after)}: ` +
            'correct the interval, or force the change (the readings stay stored but stop counting)',
          {
            field: after.installedAt !== before.installedAt ? 'installedAt' : 'removedAt',
            details: { readings },
          },
        );
    }
    const change: DeviceLifeChange = {
      deviceId: record.id,
      at: this.clock.now(),
      by: options.by ?? 'unknown',
      action,
      before,
      after,
      forced: force && excluded.length > 0,
    };
    this.assertOpen();
    await this.store.setLife(change);
    record.installedAt = after.installedAt;
    record.removedAt = after.removedAt;
    this.log.info({ deviceId: record.id, action, before, after, by: change.by }, 'device interval changed');
    if (!this.mayConnect(record)) {
      this.cache?.forget(record.id);
      this.emitRevoked(record.id);
    }
    this.emitLife({ deviceId: record.id, kind: record.kind, before, after, change });
  }

  /** A page of devices sorted by id, filtered in memory (a few ms for tens of thousands of devices). */
  list(filter: ListFilter = {}): ListResult {
    return pageDevices(
      this.sorted().map((id) => this.devices.get(id)!.record),
      filter,
    );
  }

  /** Every device sorted by id, as copies, in one pass: for whole-city readers (KPIs, stale checks). */
  all(): DeviceRecord[] {
    return this.sorted().map((id) => snapshot(this.devices.get(id)!.record));
  }

  count(filter: Omit<ListFilter, 'limit' | 'offset'> = {}): number {
    return countDevices(this.devices.values(), filter);
  }

  /** Districts that have at least one device, sorted. */
  districts(): string[] {
    const set = new Set<string>();
    for (const { record } of this.devices.values()) set.add(record.district);
    return [...set].sort();
  }

  /** Writes pending last-seen times now; resolves to how many devices were written. */
  flushSeen(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.seen.flush();
  }

  /**
   * Flushes last-seen times and closes the store. Idempotent. On the SQLite store the flush and the close
   * are done when this returns (callers that do not await it still find everything on disk); on a server
   * the promise settles once both are done.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.timer.cancel();
    this.unwatch?.();
    const previous = this.seen.inFlight;
    const last = this.seen.flush().catch((err: unknown) => {
      this.log.error({ err, unsaved: this.seen.pending }, 'last-seen times could not be saved on close');
    });
    this.closed = true;
    this.revokedListeners.clear();
    this.lifeListeners.clear();
    this.cache?.clear();
    // Called now, not after the flush settles: the SQLite file is then closed when this returns. The
    // store's close waits for its writes in progress, these last ones included.
    const closed = this.store.close();
    this.closing = Promise.all([previous?.catch(() => undefined), last, closed]).then(() => undefined);
    return this.closing;
  }

  /**
   * Another node's changes, or every stored device after the change feed was cut: applied in place so
   * holders of a live record see them. A new password or a disabling revokes the device's sessions here.
   */
  private applyStored(devices: readonly StoredDevice[], full: boolean): void {
    if (this.closed) return;
    let added = 0;
    for (const stored of devices) {
      const id = stored.record.id;
      const entry = this.devices.get(id);
      if (!entry) {
        if (!this.kinds.get(stored.record.kind))
          this.log.warn({ deviceId: id, kind: stored.record.kind }, 'device of an unknown kind');
        this.devices.set(id, stored);
        this.indexEui(id, null, stored.record.devEui);
        this.sortedIds = null;
        added++;
        continue;
      }
      const previousEui = entry.record.devEui ?? null;
      const { rotated, disabled, life } = mergeStored(entry, stored);
      this.indexEui(id, previousEui, entry.record.devEui);
      if (rotated || disabled || (life !== null && !this.mayConnect(entry.record))) {
        this.cache?.forget(id);
        this.emitRevoked(id);
      }
      if (life !== null)
        this.emitLife({
          deviceId: id,
          kind: entry.record.kind,
          before: life,
          after: { installedAt: entry.record.installedAt, removedAt: entry.record.removedAt },
        });
    }
    this.log.debug({ changed: devices.length, added, full }, 'registry changes from another node applied');
  }

  // ---- internals ----

  private flushSeenSafely(): void {
    // One write at a time on a slow server; the next tick takes what piled up (at most one per device).
    if (this.seen.inFlight) return;
    this.flushSeen().catch((err: unknown) => {
      // Never throw from a timer; the dirty set is kept (bounded by the number of devices) and retried.
      this.log.error({ err, pending: this.seen.pending }, 'last-seen flush failed');
    });
  }

  private async setStatus(entry: StoredDevice, status: DeviceStatus): Promise<void> {
    const at = this.clock.now();
    await this.store.setStatus(entry.record.id, status, at);
    entry.record.status = status;
    entry.record.disabledAt = status === 'disabled' ? at : null;
    this.log.info({ deviceId: entry.record.id, status }, 'device status changed');
  }

  /** Active and not removed: whether a device may log in and publish now. */
  private mayConnect(record: DeviceRecord): boolean {
    return record.status === 'active' && (record.removedAt === null || record.removedAt > this.clock.now());
  }

  private emitLife(change: DeviceLifeChanged): void {
    for (const listener of [...this.lifeListeners]) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err, deviceId: change.deviceId }, 'device-life listener threw');
      }
    }
  }

  private emitRevoked(id: string): void {
    for (const listener of [...this.revokedListeners]) {
      try {
        listener(id);
      } catch (err) {
        // One failing listener must not stop the others from disconnecting the device.
        this.log.error({ err, deviceId: id }, 'credentials-revoked listener threw');
      }
    }
  }

  private require(id: string): StoredDevice {
    this.assertOpen();
    const entry = this.devices.get(id);
    if (!entry) throw new CityError('DEVICES_NOT_FOUND', `device ${id} is not registered`, { field: 'id' });
    return entry;
  }

  /** Moves a device's entry in the DevEUI index from `before` to `after` (either may be none). */
  private indexEui(id: string, before: string | null | undefined, after: string | null | undefined): void {
    if (before && this.byEui.get(before) === id) this.byEui.delete(before);
    if (after) this.byEui.set(after, id);
  }

  /** API_CONFLICT on devEui when another device has it (the store's unique index says so for other nodes). */
  private assertEuiFree(devEui: string, id: string): void {
    const holder = this.byEui.get(devEui);
    if (holder !== undefined && holder !== id)
      throw new CityError('API_CONFLICT', `DevEUI ${devEui} belongs to device ${holder}`, {
        field: 'devEui',
      });
  }

  private isTaken(id: string): boolean {
    return this.devices.has(id) || this.pendingIds.has(id);
  }

  private sorted(): string[] {
    if (!this.sortedIds) this.sortedIds = [...this.devices.keys()].sort();
    return this.sortedIds;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the device registry is closed');
  }
}
