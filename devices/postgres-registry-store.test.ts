import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { registryStoreContract } from '../test/contracts/registry-store.contract.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../test/servers/postgres.ts';
import { KindCatalogue } from './kind-catalogue.ts';
import { buildPostgresRegistryStore, PG_REGISTRY_SCHEMA_VERSION } from './postgres-registry-store.ts';
import { DeviceRegistry } from './registry.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;
const kinds = new KindCatalogue();
const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
/**
 * Another node's change arrives by LISTEN/NOTIFY in milliseconds; the deadline is generous so that a loaded
 * machine cannot make the test fail: what is asserted is that it arrives without a restart or a poll.
 */
const WITHIN = { timeout: 10_000, interval: 10 };

beforeAll(async () => {
  if (binDir !== null) server = await startPostgres(binDir);
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

async function freshDatabase(): Promise<string> {
  const url = await server.createDatabase();
  onTestFinished(() => server.dropDatabase(url));
  return url;
}

/** One node's registry on the database; closed (before the database is dropped) when the test ends. */
async function node(url: string): Promise<DeviceRegistry> {
  const store = await buildPostgresRegistryStore({ url, logger: silentLogger(), connectTimeoutMs: 2_000 });
  const registry = await DeviceRegistry.openOn(store, {
    kinds,
    clock,
    logger: silentLogger(),
    scryptCost: 1024,
  });
  onTestFinished(() => registry.close());
  return registry;
}

async function refusal(run: () => Promise<unknown>): Promise<CityError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(CityError);
    return err as CityError;
  }
  throw new Error('expected a CityError');
}

describe.skipIf(binDir === null)('PostgresRegistryStore on PostgreSQL 15', () => {
  registryStoreContract('postgres', async () => {
    const url = await server.createDatabase();
    const store = await buildPostgresRegistryStore({ url, logger: silentLogger() });
    return { store, cleanup: () => server.dropDatabase(url) };
  });

  it('refuses a schema of another version, and tables without a version table, as STORE_CORRUPT', async () => {
    const url = await freshDatabase();
    await (await buildPostgresRegistryStore({ url, logger: silentLogger() })).close();
    await server.query(
      `UPDATE citymetrics_registry_schema SET version = ${PG_REGISTRY_SCHEMA_VERSION + 1}`,
      url,
    );
    const newer = await refusal(() => buildPostgresRegistryStore({ url, logger: silentLogger() }));
    expect(newer.code).toBe('STORE_CORRUPT');
    expect(newer.message).toContain(`schema version ${PG_REGISTRY_SCHEMA_VERSION + 1}`);

    const foreign = await freshDatabase();
    await server.query('CREATE TABLE devices (serial text)', foreign);
    const err = await refusal(() => buildPostgresRegistryStore({ url: foreign, logger: silentLogger() }));
    expect(err.code).toBe('STORE_CORRUPT');
    const untouched = await server.query(
      'SELECT column_name FROM information_schema.columns WHERE table_name = $$devices$$',
      foreign,
    );
    expect(untouched.rows).toEqual([{ column_name: 'serial' }]);
  });

  it('migrates a version 1 schema to the current version, keeping every device, with no DevEUI, installed when provisioned', async () => {
    const url = await freshDatabase();
    // The schema as the release before DevEUIs created it, with one device.
    await server.query(
      `CREATE TABLE citymetrics_registry_schema (version integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO citymetrics_registry_schema (version) VALUES (1);
       CREATE TABLE devices (id text PRIMARY KEY, kind text NOT NULL, name text NOT NULL, district text NOT NULL,
         lat double precision, lon double precision, attributes jsonb NOT NULL DEFAULT '{}',
         status text NOT NULL CHECK (status IN ('active', 'disabled')), created_at bigint NOT NULL,
         last_seen_at bigint, credential_hash text NOT NULL);
       CREATE INDEX devices_kind ON devices (kind);
       CREATE INDEX devices_district ON devices (district);
       INSERT INTO devices VALUES ('aq-old', 'air-quality-station', 'Old station', 'North', 48.1, 11.5,
         '{"note":"kept"}', 'disabled', 1700000000000, 1700000005000, 'scrypt$old');`,
      url,
    );
    const store = await buildPostgresRegistryStore({ url, logger: silentLogger() });
    onTestFinished(() => store.close());
    const loaded = await store.load();
    expect(loaded).toMatchObject([
      {
        credentialHash: 'scrypt$old',
        record: {
          id: 'aq-old',
          attributes: { note: 'kept' },
          status: 'disabled',
          devEui: null,
          installedAt: 1700000000000,
          removedAt: null,
          // disabled before the registry kept when: out of every period, as the KPIs left it
          disabledAt: 1700000000000,
        },
      },
    ]);
    expect(await store.lifeHistory('aq-old')).toEqual([]);
    await store.setDetails({ ...loaded[0]!.record, devEui: '70b3d57ed0000abc' });
    expect((await store.load())[0]?.record.devEui).toBe('70b3d57ed0000abc');
    const version = await server.query('SELECT version FROM citymetrics_registry_schema', url);
    expect(version.rows).toEqual([{ version: PG_REGISTRY_SCHEMA_VERSION }]);
    expect(PG_REGISTRY_SCHEMA_VERSION).toBe(4);
  });

  it('keeps devices across a reopen, as the registry sees them', async () => {
    const url = await freshDatabase();
    const first = await node(url);
    const { device, password } = await first.provision({ kind: 'noise-monitor', district: 'Old Town' });
    first.markSeen(device.id, clock.now() + 5);
    await first.close();
    const again = await node(url);
    expect(again.get(device.id)).toMatchObject({ district: 'Old Town', lastSeenAt: clock.now() + 5 });
    expect(await again.verifyCredentials(device.id, password)).toBe('ok');
    const taken = await refusal(() =>
      again.provision({ kind: 'noise-monitor', district: 'X', id: device.id }),
    );
    expect(taken).toMatchObject({ code: 'API_CONFLICT', field: 'id' });
  });

  describe('two nodes on one database', () => {
    it('a device provisioned on A logs in on B, and A\u2019s changes of details reach B', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      const { device, password } = await a.provision({ kind: 'heat-meter', district: 'East', id: 'heat-1' });
      await vi.waitFor(() => expect(b.get('heat-1')).toBeDefined(), WITHIN);
      expect(await b.verifyCredentials(device.id, password)).toBe('ok');
      expect(b.list().items.map((d) => d.id)).toEqual(['heat-1']);
      await a.update('heat-1', { name: 'Boiler room', location: { lat: 1, lon: 2 } });
      await vi.waitFor(() => expect(b.get('heat-1')?.name).toBe('Boiler room'), WITHIN);
      expect(b.get('heat-1')?.location).toEqual({ lat: 1, lon: 2 });
    });

    it('a device disabled or given a new password on A is revoked on B', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      const { device, password } = await a.provision({ kind: 'emf-probe', district: 'C' });
      await vi.waitFor(() => expect(b.get(device.id)).toBeDefined(), WITHIN);
      expect(await b.verifyCredentials(device.id, password)).toBe('ok'); // now in B's login cache
      const revokedOnB: string[] = [];
      const revokedOnA: string[] = [];
      b.onCredentialsRevoked((id) => revokedOnB.push(id));
      a.onCredentialsRevoked((id) => revokedOnA.push(id));

      const fresh = await a.rotatePassword(device.id);
      await vi.waitFor(() => expect(revokedOnB).toEqual([device.id]), WITHIN);
      expect(await b.verifyCredentials(device.id, password)).toBe('bad-password');
      expect(await b.verifyCredentials(device.id, fresh)).toBe('ok');

      await a.disable(device.id);
      await vi.waitFor(() => expect(revokedOnB).toEqual([device.id, device.id]), WITHIN);
      expect(await b.verifyCredentials(device.id, fresh)).toBe('disabled');
      // A told its own listeners once per change, not again when its own announcement came back.
      expect(revokedOnA).toEqual([device.id, device.id]);

      await a.enable(device.id);
      await vi.waitFor(() => expect(b.get(device.id)?.status).toBe('active'), WITHIN);
      expect(revokedOnB).toHaveLength(2);
    });

    it('a device decommissioned on A is revoked on B and B is told its new interval', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      const installedAt = Date.parse('2026-01-01T00:00:00Z');
      const { device, password } = await a.provision({
        kind: 'noise-monitor',
        district: 'C',
        installedAt: '2026-01-01T00:00:00Z',
      });
      await vi.waitFor(() => expect(b.get(device.id)).toBeDefined(), WITHIN);
      expect(b.get(device.id)).toMatchObject({ installedAt, removedAt: null });
      expect(await b.verifyCredentials(device.id, password)).toBe('ok');
      const revokedOnB: string[] = [];
      const lifeOnB: unknown[] = [];
      b.onCredentialsRevoked((id) => revokedOnB.push(id));
      b.onLifeChanged((c) => lifeOnB.push(c));
      const removedAt = clock.now() - 3_600_000;
      await a.decommission(device.id, { at: removedAt }, { by: 'ops (k1)' });
      await vi.waitFor(() => expect(revokedOnB).toEqual([device.id]), WITHIN);
      expect(await b.verifyCredentials(device.id, password)).toBe('disabled');
      expect(lifeOnB).toEqual([
        {
          deviceId: device.id,
          kind: 'noise-monitor',
          before: { installedAt, removedAt: null },
          after: { installedAt, removedAt },
        },
      ]);
      expect(await b.lifeHistory(device.id)).toMatchObject([
        { by: 'ops (k1)', action: 'decommission', after: { installedAt, removedAt } },
      ]);
    });

    it('B catches up on changes made while its change feed was cut', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      const { device, password } = await a.provision({ kind: 'emf-probe', district: 'C' });
      await vi.waitFor(() => expect(b.get(device.id)).toBeDefined(), WITHIN);
      const revokedOnB: string[] = [];
      b.onCredentialsRevoked((id) => revokedOnB.push(id));
      const database = new URL(url).pathname.slice(1);
      const cut = await server.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'citymetrics-feed' AND datname = '${database}'`,
      );
      expect(cut.rowCount).toBe(2);
      // Gone before the write below, and back only after its reconnect delay.
      await vi.waitFor(async () => {
        const left = await server.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE application_name = 'citymetrics-feed' AND datname = '${database}'`,
        );
        expect(left.rows[0]).toEqual({ n: 0 });
      }, WITHIN);
      // Announced while nobody listens: lost, and found again by the re-read after reconnecting.
      await a.disable(device.id);
      await vi.waitFor(() => expect(revokedOnB).toEqual([device.id]), { timeout: 10_000, interval: 20 });
      expect(await b.verifyCredentials(device.id, password)).toBe('disabled');
    });
  });
});
