import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { KindCatalogue } from './kind-catalogue.ts';
import { DeviceRegistry, REGISTRY_FILE_NAME } from './registry.ts';
import { provisionInputSchema } from './registry-schema.ts';
import { REGISTRY_APPLICATION_ID } from './registry-store.ts';

const T0 = Date.parse('2025-03-01T10:00:00Z');
const kinds = new KindCatalogue();

let dataDir: string;
let clock: ManualClock;
const open: DeviceRegistry[] = [];

function openRegistry(extra: { credentialCacheSize?: number } = {}): DeviceRegistry {
  // Low scrypt cost keeps the suite fast; the default cost is covered by core/secret-hash.test.ts.
  const registry = DeviceRegistry.open({
    dataDir,
    kinds,
    clock,
    logger: silentLogger(),
    scryptCost: 1024,
    ...extra,
  });
  open.push(registry);
  return registry;
}

/** Runs `fn` and returns the CityError it throws (sync or async). */
async function cityError(fn: () => unknown): Promise<CityError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CityError);
    return err as CityError;
  }
  throw new Error('expected a CityError, nothing was thrown');
}

const traffic = { segmentLengthKm: 1.2, freeFlowSpeedKmh: 50 };

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'citymetrics-registry-'));
  clock = new ManualClock(T0);
});

afterEach(() => {
  for (const r of open.splice(0)) r.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('provisioning', () => {
  it('provisions a device with a generated id, default name and a working password', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({
      kind: 'air-quality-station',
      district: ' Centre ',
    });
    expect(device.id).toMatch(/^aq-[0-9a-hjkmnp-tv-z]{8}$/);
    expect(device).toMatchObject({
      kind: 'air-quality-station',
      district: 'Centre',
      name: `Air-quality station ${device.id}`,
      location: null,
      attributes: {},
      status: 'active',
      createdAt: T0,
      lastSeenAt: null,
      online: false,
    });
    expect(registry.get(device.id)?.district).toBe('Centre');
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    expect(await registry.verifyCredentials(device.id, `${password}x`)).toBe('bad-password');
    expect(await registry.verifyCredentials('aq-nosuchid', password)).toBe('unknown-device');
  });

  it('uses the kind prefix for every kind, and a given id when free', async () => {
    const registry = openRegistry();
    const feeder = await registry.provision({
      kind: 'electricity-feeder-meter',
      district: 'North',
      attributes: { customersServed: 1200 },
    });
    expect(feeder.device.id.startsWith('feeder-')).toBe(true);
    const t = await registry.provision({
      kind: 'traffic-counter',
      district: 'North',
      attributes: traffic,
      id: 'tc-1',
    });
    expect(t.device.id).toBe('tc-1');
    expect(t.device.attributes).toEqual(traffic);
  });

  it('does not store the password, only its hash', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({ kind: 'noise-monitor', district: 'Old Town' });
    registry.close();
    const bytes = [REGISTRY_FILE_NAME, `${REGISTRY_FILE_NAME}-wal`]
      .map((f) => {
        try {
          return readFileSync(join(dataDir, f)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    expect(bytes).toContain(device.id);
    expect(bytes).not.toContain(password);
    const db = new Database(join(dataDir, REGISTRY_FILE_NAME), { readonly: true });
    const row = db.prepare('SELECT credential_hash FROM devices WHERE id = ?').get(device.id) as {
      credential_hash: string;
    };
    db.close();
    expect(row.credential_hash).toMatch(/^scrypt\$1024\$8\$1\$/);
  });

  it.each([
    [{ kind: 'air-quality-station', district: '' }, 'API_VALIDATION', 'district'],
    [{ kind: 'air-quality-station', district: '   ' }, 'API_VALIDATION', 'district'],
    [{ kind: 'air-quality-station', district: 'x'.repeat(65) }, 'API_VALIDATION', 'district'],
    [{ kind: 'air-quality-station', district: 'bad\u0007bell' }, 'API_VALIDATION', 'district'],
    [
      { kind: 'air-quality-station', district: 'C', location: { lat: 91, lon: 0 } },
      'API_VALIDATION',
      'location.lat',
    ],
    [
      { kind: 'air-quality-station', district: 'C', location: { lat: 0, lon: -181 } },
      'API_VALIDATION',
      'location.lon',
    ],
    [{ kind: 'air-quality-station', district: 'C', id: 'Has Space' }, 'API_VALIDATION', 'id'],
    [{ kind: 'air-quality-station', district: 'C', id: 'a/b' }, 'API_VALIDATION', 'id'],
    [{ kind: 'air-quality-station', district: 'C', colour: 'red' }, 'API_VALIDATION', undefined],
    [{ kind: 'toaster', district: 'C' }, 'DEVICES_UNKNOWN_KIND', 'kind'],
    [
      { kind: 'air-quality-station', district: 'C', attributes: { foo: 1 } },
      'API_VALIDATION',
      'attributes.foo',
    ],
    [
      { kind: 'traffic-counter', district: 'C', attributes: { ...traffic, segmentLengthKm: '1.2' } },
      'API_VALIDATION',
      'attributes.segmentLengthKm',
    ],
    [
      { kind: 'traffic-counter', district: 'C', attributes: { freeFlowSpeedKmh: 50 } },
      'API_VALIDATION',
      'attributes.segmentLengthKm',
    ],
  ])('refuses %j with %s at %s', async (input, code, field) => {
    const registry = openRegistry();
    const err = await cityError(() => registry.provision(input as never));
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    expect(registry.count()).toBe(0);
  });

  it('refuses a taken id with API_CONFLICT, also while the first is still hashing', async () => {
    const registry = openRegistry();
    const first = registry.provision({ kind: 'emf-probe', district: 'C', id: 'emf-1' });
    const racing = await cityError(() =>
      registry.provision({ kind: 'emf-probe', district: 'C', id: 'emf-1' }),
    );
    expect(racing.code).toBe('API_CONFLICT');
    await first;
    const err = await cityError(() => registry.provision({ kind: 'emf-probe', district: 'C', id: 'emf-1' }));
    expect(err).toMatchObject({ code: 'API_CONFLICT', field: 'id' });
    expect(registry.count()).toBe(1);
  });

  it('exports the provisioning schema for the HTTP layer', () => {
    expect(provisionInputSchema.safeParse({ kind: 'heat-meter', district: 'C' }).success).toBe(true);
    expect(provisionInputSchema.safeParse({ kind: 'heat-meter' }).success).toBe(false);
  });
});

describe('credentials', () => {
  it('rotating revokes the old password and tells listeners', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({ kind: 'heat-meter', district: 'East' });
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok'); // now in the login cache
    const revoked: string[] = [];
    const unsubscribe = registry.onCredentialsRevoked((id) => revoked.push(id));
    const fresh = await registry.rotatePassword(device.id);
    expect(revoked).toEqual([device.id]);
    expect(fresh).not.toBe(password);
    expect(await registry.verifyCredentials(device.id, password)).toBe('bad-password');
    expect(await registry.verifyCredentials(device.id, fresh)).toBe('ok');
    unsubscribe();
    await registry.rotatePassword(device.id);
    expect(revoked).toHaveLength(1);
  });

  it('disabling answers "disabled" for the right password only, tells listeners, and enable restores', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({ kind: 'heat-meter', district: 'East' });
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    const revoked: string[] = [];
    registry.onCredentialsRevoked((id) => revoked.push(id));
    registry.onCredentialsRevoked(() => {
      throw new Error('a broken listener must not stop the others');
    });
    expect((await registry.disable(device.id)).status).toBe('disabled');
    expect(revoked).toEqual([device.id]);
    await registry.disable(device.id); // already disabled: no second revocation
    expect(revoked).toHaveLength(1);
    expect(await registry.verifyCredentials(device.id, password)).toBe('disabled');
    expect(await registry.verifyCredentials(device.id, 'wrong')).toBe('bad-password');
    expect((await registry.enable(device.id)).status).toBe('active');
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
  });

  it('gives the same answers with the login cache turned off', async () => {
    const registry = openRegistry({ credentialCacheSize: 0 });
    const { device, password } = await registry.provision({ kind: 'emf-probe', district: 'C' });
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    expect(await registry.verifyCredentials(device.id, 'nope')).toBe('bad-password');
  });

  it('throws DEVICES_NOT_FOUND for unknown ids in admin operations', async () => {
    const registry = openRegistry();
    expect((await cityError(() => registry.rotatePassword('nope'))).code).toBe('DEVICES_NOT_FOUND');
    expect((await cityError(() => registry.disable('nope'))).code).toBe('DEVICES_NOT_FOUND');
    expect((await cityError(() => registry.enable('nope'))).code).toBe('DEVICES_NOT_FOUND');
    expect((await cityError(() => registry.update('nope', { name: 'x' }))).code).toBe('DEVICES_NOT_FOUND');
    expect(registry.get('nope')).toBeUndefined();
  });
});

describe('updates', () => {
  it('merges attributes, checks them against the kind, and persists', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({
      kind: 'traffic-counter',
      district: 'C',
      attributes: traffic,
    });
    const updated = await registry.update(device.id, {
      name: 'Ring road loop 4',
      location: { lat: 48.1, lon: 11.5 },
      attributes: { majorStreet: true, segmentLengthKm: 2 },
    });
    expect(updated).toMatchObject({ name: 'Ring road loop 4', location: { lat: 48.1, lon: 11.5 } });
    expect(updated.attributes).toEqual({ segmentLengthKm: 2, freeFlowSpeedKmh: 50, majorStreet: true });
    const missing = await cityError(() =>
      registry.update(device.id, { attributes: { freeFlowSpeedKmh: null } }),
    );
    expect(missing).toMatchObject({ code: 'API_VALIDATION', field: 'attributes.freeFlowSpeedKmh' });
    const badDistrict = await cityError(() => registry.update(device.id, { district: '' }));
    expect(badDistrict).toMatchObject({ code: 'API_VALIDATION', field: 'district' });
    await registry.update(device.id, { location: null, attributes: { majorStreet: null } });
    registry.close();
    const reopened = openRegistry();
    expect(reopened.get(device.id)).toMatchObject({
      name: 'Ring road loop 4',
      location: null,
      attributes: { segmentLengthKm: 2, freeFlowSpeedKmh: 50 },
    });
  });
});

describe('persistence', () => {
  it('keeps devices, status and credentials across a reopen', async () => {
    const registry = openRegistry();
    const a = await registry.provision({
      kind: 'water-smart-meter',
      district: 'West',
      location: { lat: 1, lon: 2 },
    });
    const b = await registry.provision({ kind: 'water-quality-sonde', district: 'West' });
    await registry.disable(b.device.id);
    registry.close();
    const reopened = openRegistry();
    expect(reopened.count()).toBe(2);
    expect(reopened.get(a.device.id)).toMatchObject({ ...a.device, online: false });
    expect(reopened.get(b.device.id)?.status).toBe('disabled');
    expect(await reopened.verifyCredentials(a.device.id, a.password)).toBe('ok');
  });

  it('writes last-seen in batches and on close, never backwards', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({ kind: 'noise-monitor', district: 'C' });
    registry.setOnline(device.id, true, T0 + 1_000);
    expect(registry.get(device.id)).toMatchObject({ online: true, lastSeenAt: T0 + 1_000 });
    registry.markSeen(device.id, T0 + 5_000);
    registry.markSeen(device.id, T0 + 3_000); // late, out-of-order message: does not move it back
    registry.markSeen('nope', T0); // unknown: ignored
    expect(registry.get(device.id)?.lastSeenAt).toBe(T0 + 5_000);
    expect(await registry.flushSeen()).toBe(1);
    expect(await registry.flushSeen()).toBe(0); // nothing new
    registry.markSeen(device.id, T0 + 9_000);
    registry.setOnline(device.id, false, T0 + 9_500);
    expect(registry.get(device.id)).toMatchObject({ online: false, lastSeenAt: T0 + 9_000 });
    registry.close();
    const reopened = openRegistry();
    expect(reopened.get(device.id)).toMatchObject({ lastSeenAt: T0 + 9_000, online: false });
  });

  it('flushes last-seen times when the clock passes the flush interval, and not before', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({ kind: 'noise-monitor', district: 'C' });
    const onDisk = () => {
      const db = new Database(join(dataDir, REGISTRY_FILE_NAME), { readonly: true });
      try {
        return (
          db.prepare('SELECT last_seen_at FROM devices WHERE id = ?').get(device.id) as {
            last_seen_at: number | null;
          }
        ).last_seen_at;
      } finally {
        db.close();
      }
    };
    registry.markSeen(device.id, T0 + 5);
    clock.advance(9_999); // the default interval is 10 s
    expect(onDisk()).toBeNull();
    // SQLite writes within the flush the timer starts: on disk when the move returns
    clock.advance(1);
    expect(onDisk()).toBe(T0 + 5);
    expect(await registry.flushSeen()).toBe(0);
  });
});

describe('refusing files that are not ours', () => {
  it('a file of garbage bytes is STORE_CORRUPT, and is left untouched', async () => {
    const file = join(dataDir, REGISTRY_FILE_NAME);
    const garbage = Buffer.alloc(8192, 0);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
    writeFileSync(file, garbage);
    const err = await cityError(() => openRegistry());
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain(file);
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('a foreign SQLite database is STORE_CORRUPT, and is left untouched', async () => {
    const file = join(dataDir, REGISTRY_FILE_NAME);
    const foreign = new Database(file);
    foreign.exec("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup')");
    foreign.close();
    const err = await cityError(() => openRegistry());
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain(file);
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT name FROM recipes').get()).toEqual({ name: 'soup' });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('a SQLite file with another application_id or a newer schema is STORE_CORRUPT', async () => {
    const file = join(dataDir, REGISTRY_FILE_NAME);
    const other = new Database(file);
    other.pragma('application_id = 12345');
    other.close();
    expect((await cityError(() => openRegistry())).code).toBe('STORE_CORRUPT');
    rmSync(file);
    openRegistry().close();
    const newer = new Database(file);
    expect(newer.pragma('application_id', { simple: true })).toBe(REGISTRY_APPLICATION_ID);
    newer.pragma('user_version = 99');
    newer.close();
    const err = await cityError(() => openRegistry());
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain('99');
  });

  it('creates the data directory when it is missing', () => {
    dataDir = join(dataDir, 'nested', 'deeper');
    const registry = openRegistry();
    expect(registry.count()).toBe(0);
    mkdirSync(dataDir, { recursive: true }); // exists now: no error
  });
});

describe('listing', () => {
  async function populate(registry: DeviceRegistry): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { device } = await registry.provision({
        kind: i % 3 === 0 ? 'noise-monitor' : 'air-quality-station',
        district: i % 2 === 0 ? 'North' : 'South',
        id: `dev-${String(i).padStart(2, '0')}`,
        name: i === 7 ? 'Station by the Market' : undefined,
      });
      ids.push(device.id);
    }
    return ids;
  }

  it('filters, searches and pages, sorted by id', async () => {
    const registry = openRegistry();
    const ids = await populate(registry);
    await registry.disable('dev-03');
    registry.setOnline('dev-04', true, T0);
    registry.setOnline('dev-05', true, T0);

    const all = registry.list();
    expect(all.total).toBe(12);
    expect(all.items.map((d) => d.id)).toEqual(ids);

    const page = registry.list({ limit: 5, offset: 10 });
    expect(page).toMatchObject({ total: 12 });
    expect(page.items.map((d) => d.id)).toEqual(['dev-10', 'dev-11']);

    const noise = registry.list({ kind: 'noise-monitor' });
    expect(noise.items.map((d) => d.id)).toEqual(['dev-00', 'dev-03', 'dev-06', 'dev-09']);
    expect(registry.list({ kind: 'noise-monitor', district: 'North' }).total).toBe(2);
    expect(registry.list({ status: 'disabled' }).items.map((d) => d.id)).toEqual(['dev-03']);
    expect(registry.list({ online: true }).items.map((d) => d.id)).toEqual(['dev-04', 'dev-05']);
    expect(registry.list({ online: false }).total).toBe(10);
    expect(registry.list({ q: 'market' }).items.map((d) => d.id)).toEqual(['dev-07']);
    expect(registry.list({ q: 'DEV-1' }).total).toBe(2);
    expect(registry.count({ district: 'South' })).toBe(6);
    expect(registry.districts()).toEqual(['North', 'South']);
  });

  it('bounds the page size', async () => {
    const registry = openRegistry();
    expect((await cityError(() => registry.list({ limit: 1001 }))).field).toBe('limit');
    expect((await cityError(() => registry.list({ offset: -1 }))).field).toBe('offset');
    expect(registry.list({ limit: 1000 }).items).toEqual([]);
  });

  it('hands out copies from list, so callers cannot change the registry', async () => {
    const registry = openRegistry();
    await populate(registry);
    const [first] = registry.list({ limit: 1 }).items;
    first!.status = 'disabled';
    expect(registry.get('dev-00')?.status).toBe('active');
  });
});

describe('DevEUI', () => {
  it('is stored lower-case, found in any case, unique (API_CONFLICT on devEui), changed and removed by update', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({
      kind: 'noise-monitor',
      district: 'Old Town',
      devEui: '70B3D57ED0001A2B',
    });
    expect(device.devEui).toBe('70b3d57ed0001a2b');
    expect(registry.byDevEui('70B3D57ED0001A2B')?.id).toBe(device.id);
    const twice = await cityError(() =>
      registry.provision({ kind: 'noise-monitor', district: 'X', devEui: '70b3d57ed0001a2b' }),
    );
    expect(twice).toMatchObject({ code: 'API_CONFLICT', field: 'devEui' });
    const bad = await cityError(() =>
      registry.provision({ kind: 'noise-monitor', district: 'X', devEui: '70b3d57ed0001a2' }),
    );
    expect(bad).toMatchObject({ code: 'API_VALIDATION', field: 'devEui' });

    const other = (await registry.provision({ kind: 'noise-monitor', district: 'X' })).device;
    expect(other.devEui).toBeNull();
    const taken = await cityError(() => registry.update(other.id, { devEui: '70B3D57ED0001A2B' }));
    expect(taken).toMatchObject({ code: 'API_CONFLICT', field: 'devEui' });
    await registry.update(device.id, { devEui: null });
    expect(registry.byDevEui('70b3d57ed0001a2b')).toBeUndefined();
    await registry.update(other.id, { devEui: '70B3D57ED0001A2B' });
    expect(registry.byDevEui('70b3d57ed0001a2b')?.id).toBe(other.id);
    await registry.close();

    const reopened = openRegistry();
    expect(reopened.byDevEui('70b3d57ed0001a2b')?.id).toBe(other.id);
    expect(reopened.get(device.id)?.devEui).toBeNull();
  });
});
