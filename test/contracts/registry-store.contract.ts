import { describe, expect, it, onTestFinished } from 'vitest';
import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type {
  DeviceLifeChange,
  RegistryPersistence,
  StoredDevice,
} from '../../core/ports/registry-persistence.ts';

/** How the suite gets a fresh, empty registry store; `cleanup` runs after the store is closed. */
export type OpenRegistryStore = () => Promise<{ store: RegistryPersistence; cleanup: () => Promise<void> }>;

const T0 = Date.parse('2026-03-01T10:00:00Z');

export function device(id: string, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    kind: 'traffic-counter',
    name: `Counter ${id}`,
    district: 'North',
    location: { lat: 48.137154, lon: 11.576124 },
    attributes: { segmentLengthKm: 1.25, freeFlowSpeedKmh: 50, majorStreet: true, note: 'ring road' },
    devEui: null,
    status: 'active',
    createdAt: T0,
    installedAt: T0,
    removedAt: null,
    disabledAt: null,
    lastSeenAt: null,
    online: false,
    ...extra,
  };
}

const HASH = 'scrypt$1024$8$1$c2FsdA$aGFzaA';

/** Plain data, so records compare by value whatever freezing or prototypes a backend uses. */
const plain = (devices: StoredDevice[]): StoredDevice[] =>
  JSON.parse(JSON.stringify([...devices].sort((a, b) => a.record.id.localeCompare(b.record.id))));

/**
 * The contract every RegistryPersistence passes (SQLite file, PostgreSQL). It uses the port only. What it
 * asks of `open`: a fresh, empty store per call; a resolved write is seen by the next `load`.
 */
export function registryStoreContract(name: string, open: OpenRegistryStore): void {
  async function fresh(): Promise<RegistryPersistence> {
    const { store, cleanup } = await open();
    onTestFinished(async () => {
      await store.close();
      await cleanup();
    });
    return store;
  }

  describe(`RegistryPersistence contract: ${name}`, () => {
    it('starts empty and gives back what was inserted, field for field', async () => {
      const store = await fresh();
      expect(await store.load()).toEqual([]);
      const a = device('tc-1');
      const b = device('aq-2', {
        kind: 'air-quality-station',
        location: null,
        attributes: {},
        status: 'disabled',
        disabledAt: T0 + 3_600_000,
        lastSeenAt: T0 + 5,
        // back-filled from two months before provisioning, removed since
        installedAt: T0 - 61 * 86_400_000,
        removedAt: T0 + 86_400_000,
      });
      await store.insert(a, HASH);
      await store.insert(b, `${HASH}b`);
      expect(plain(await store.load())).toEqual(
        plain([
          { record: b, credentialHash: `${HASH}b` },
          { record: a, credentialHash: HASH },
        ]),
      );
      const loaded = (await store.load()).find((d) => d.record.id === 'tc-1');
      expect(loaded?.record.online).toBe(false);
      expect(typeof loaded?.record.attributes.majorStreet).toBe('boolean');
    });

    it('refuses a second device with the same id as API_CONFLICT on id, keeping the first', async () => {
      const store = await fresh();
      await store.insert(device('tc-1'), HASH);
      const refused = await store.insert(device('tc-1', { name: 'other' }), 'other-hash').then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).toMatchObject({ code: 'API_CONFLICT', field: 'id' });
      const all = await store.load();
      expect(all.map((d) => [d.record.name, d.credentialHash])).toEqual([['Counter tc-1', HASH]]);
    });

    it('stores a new credential, a status and new details', async () => {
      const store = await fresh();
      await store.insert(device('tc-1'), HASH);
      await store.insert(device('tc-2'), HASH);
      await store.setCredential('tc-1', 'rotated');
      await store.setStatus('tc-1', 'disabled', T0 + 60_000);
      await store.setDetails(
        device('tc-1', {
          name: 'Loop 4',
          district: 'South',
          location: null,
          attributes: { segmentLengthKm: 2, freeFlowSpeedKmh: 30 },
          // Not details: these stay as stored.
          status: 'active',
          createdAt: 1,
          installedAt: 2,
          removedAt: 3,
        }),
      );
      const byId = new Map((await store.load()).map((d) => [d.record.id, d]));
      expect(byId.get('tc-1')).toMatchObject({
        credentialHash: 'rotated',
        record: {
          name: 'Loop 4',
          district: 'South',
          location: null,
          status: 'disabled',
          disabledAt: T0 + 60_000,
          createdAt: T0,
          installedAt: T0,
          removedAt: null,
        },
      });
      expect(byId.get('tc-1')?.record.attributes).toEqual({ segmentLengthKm: 2, freeFlowSpeedKmh: 30 });
      expect(plain([byId.get('tc-2')!])).toEqual(plain([{ record: device('tc-2'), credentialHash: HASH }]));
      await store.setStatus('tc-1', 'active', T0 + 120_000);
      expect((await store.load()).find((d) => d.record.id === 'tc-1')?.record).toMatchObject({
        status: 'active',
        disabledAt: null,
      });
    });

    it('writes last-seen times in a batch, never backwards, ignoring unknown ids', async () => {
      const store = await fresh();
      await store.insert(device('tc-1'), HASH);
      await store.insert(device('tc-2', { lastSeenAt: T0 + 10_000 }), HASH);
      await store.writeLastSeen([
        ['tc-1', T0 + 1_000],
        ['tc-2', T0 + 2_000],
        ['nope', T0],
      ]);
      await store.writeLastSeen([['tc-1', T0 + 3_000]]);
      await store.writeLastSeen([]);
      const seen = new Map((await store.load()).map((d) => [d.record.id, d.record.lastSeenAt]));
      expect(Object.fromEntries(seen)).toEqual({ 'tc-1': T0 + 3_000, 'tc-2': T0 + 10_000 });
    });

    it('changes nothing, and does not fail, when an update names an unknown id', async () => {
      const store = await fresh();
      await store.setCredential('nope', HASH);
      await store.setStatus('nope', 'disabled', T0);
      await store.setDetails(device('nope'));
      expect(await store.load()).toEqual([]);
    });

    it('keeps DevEUIs, many devices without one, and refuses a DevEUI twice as API_CONFLICT on devEui', async () => {
      const store = await fresh();
      await store.insert(device('aq-1', { devEui: '70b3d57ed0000001' }), HASH);
      await store.insert(device('aq-2'), HASH);
      await store.insert(device('aq-3'), HASH);
      const twice = await store.insert(device('aq-4', { devEui: '70b3d57ed0000001' }), HASH).then(
        () => null,
        (err: unknown) => err,
      );
      expect(twice).toMatchObject({ code: 'API_CONFLICT', field: 'devEui' });
      await store.setDetails(device('aq-2', { devEui: '70b3d57ed0000002' }));
      const taken = await store.setDetails(device('aq-3', { devEui: '70b3d57ed0000002' })).then(
        () => null,
        (err: unknown) => err,
      );
      expect(taken).toMatchObject({ code: 'API_CONFLICT', field: 'devEui' });
      const euis = async () =>
        Object.fromEntries((await store.load()).map((d) => [d.record.id, d.record.devEui]));
      expect(await euis()).toEqual({
        'aq-1': '70b3d57ed0000001',
        'aq-2': '70b3d57ed0000002',
        'aq-3': null,
      });
      // Taken away, a DevEUI is free for another device.
      await store.setDetails(device('aq-1', { devEui: null }));
      await store.setDetails(device('aq-3', { devEui: '70b3d57ed0000001' }));
      expect(await euis()).toEqual({
        'aq-1': null,
        'aq-2': '70b3d57ed0000002',
        'aq-3': '70b3d57ed0000001',
      });
    });

    it('sets the installed interval and keeps every change, oldest first, with who, when, before and after', async () => {
      const store = await fresh();
      await store.insert(device('aq-1'), HASH);
      await store.insert(device('aq-2'), HASH);
      const oct1 = Date.parse('2026-01-01T00:00:00Z');
      const first = {
        deviceId: 'aq-1',
        at: T0 + 1_000,
        by: 'ops (key-1)',
        action: 'update' as const,
        before: { installedAt: T0, removedAt: null },
        after: { installedAt: oct1, removedAt: null },
        forced: false,
      };
      const second = {
        deviceId: 'aq-1',
        at: T0 + 2_000,
        by: 'ops (key-2)',
        action: 'decommission' as const,
        before: { installedAt: oct1, removedAt: null },
        after: { installedAt: oct1, removedAt: T0 + 2_000 },
        forced: true,
      };
      await store.setLife(first);
      await store.setLife(second);
      const byId = new Map((await store.load()).map((d) => [d.record.id, d.record]));
      expect(byId.get('aq-1')).toMatchObject({ installedAt: oct1, removedAt: T0 + 2_000, createdAt: T0 });
      expect(byId.get('aq-2')).toMatchObject({ installedAt: T0, removedAt: null });
      expect(await store.lifeHistory('aq-1')).toEqual([first, second]);
      expect(await store.lifeHistory('aq-2')).toEqual([]);
      // Installed again, with no end.
      const third: DeviceLifeChange = {
        ...second,
        at: T0 + 3_000,
        action: 'update',
        forced: false,
        before: second.after,
        after: { installedAt: oct1, removedAt: null },
      };
      await store.setLife(third);
      expect((await store.load()).find((d) => d.record.id === 'aq-1')?.record.removedAt).toBeNull();
      expect(await store.lifeHistory('aq-1')).toHaveLength(3);
    });

    it('records no interval change for an unknown id', async () => {
      const store = await fresh();
      await store.setLife({
        deviceId: 'nope',
        at: T0,
        by: 'ops',
        action: 'update',
        before: { installedAt: T0, removedAt: null },
        after: { installedAt: 1, removedAt: null },
        forced: false,
      });
      expect(await store.load()).toEqual([]);
      expect(await store.lifeHistory('nope')).toEqual([]);
    });

    it('keeps many devices and large epoch times exactly', async () => {
      const store = await fresh();
      const far = Date.parse('2099-12-31T23:59:59.999Z');
      for (let i = 0; i < 50; i++)
        await store.insert(device(`d-${i}`, { createdAt: far - i, district: `D${i % 5}` }), `${HASH}${i}`);
      const all = await store.load();
      expect(all).toHaveLength(50);
      expect(all.find((d) => d.record.id === 'd-7')).toMatchObject({
        credentialHash: `${HASH}7`,
        record: { createdAt: far - 7, district: 'D2' },
      });
    });
  });
}
