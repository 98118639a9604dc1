import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { registryStoreContract } from '../test/contracts/registry-store.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { REGISTRY_APPLICATION_ID, REGISTRY_SCHEMA_VERSION, RegistryStore } from './registry-store.ts';

registryStoreContract('sqlite', async () => {
  const dir = makeTempDir('registry-store-');
  return { store: RegistryStore.open(join(dir.path, 'registry.db')), cleanup: async () => dir.remove() };
});

describe('registry.db schema versions', () => {
  it('migrates a version 1 file to the current version, keeping every device, with no DevEUI, installed when provisioned', async () => {
    const dir = makeTempDir('registry-v1-');
    onTestFinished(() => dir.remove());
    const file = join(dir.path, 'registry.db');
    // A file as the release before DevEUIs wrote it: the version 1 table, one device.
    const v1 = new Database(file);
    v1.pragma(`application_id = ${REGISTRY_APPLICATION_ID}`);
    v1.exec(`
      CREATE TABLE devices (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, district TEXT NOT NULL, lat REAL, lon REAL,
        attributes TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at INTEGER NOT NULL, last_seen_at INTEGER, credential_hash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX devices_kind ON devices (kind);
      CREATE INDEX devices_district ON devices (district);
      INSERT INTO devices VALUES ('aq-old', 'air-quality-station', 'Old station', 'North', 48.1, 11.5,
        '{"note":"kept"}', 'disabled', 1700000000000, 1700000005000, 'scrypt$old');
    `);
    v1.pragma('user_version = 1');
    v1.close();

    const store = RegistryStore.open(file);
    const loaded = store.loadAll();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({
      credentialHash: 'scrypt$old',
      record: {
        id: 'aq-old',
        name: 'Old station',
        location: { lat: 48.1, lon: 11.5 },
        attributes: { note: 'kept' },
        status: 'disabled',
        createdAt: 1700000000000,
        lastSeenAt: 1700000005000,
        devEui: null,
        installedAt: 1700000000000,
        removedAt: null,
        // disabled before the registry kept when: out of every period, as the KPIs left it
        disabledAt: 1700000000000,
      },
    });
    expect(await store.lifeHistory('aq-old')).toEqual([]);
    await store.setDetails({ ...loaded[0]!.record, devEui: '70b3d57ed0000abc' });
    await store.close();

    const check = new Database(file, { readonly: true });
    onTestFinished(() => {
      check.close();
    });
    expect(check.pragma('user_version', { simple: true })).toBe(REGISTRY_SCHEMA_VERSION);
    expect(REGISTRY_SCHEMA_VERSION).toBe(4);
    const reopened = RegistryStore.open(file);
    onTestFinished(() => reopened.close());
    expect(reopened.loadAll()[0]?.record.devEui).toBe('70b3d57ed0000abc');
  });
});
