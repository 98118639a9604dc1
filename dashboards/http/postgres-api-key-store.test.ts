import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { buildPostgresRegistryStore } from '../../devices/postgres-registry-store.ts';
import { apiKeyStoreContract } from '../../test/contracts/api-key-store.contract.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../../test/servers/postgres.ts';
import { ApiKeyStore } from './api-key-store.ts';
import { buildPostgresApiKeyStore, PG_ACCESS_SCHEMA_VERSION } from './postgres-api-key-store.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;
const clock = new ManualClock(Date.parse('2026-03-02T10:00:00Z'));
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

/** One node's key store on the database; closed (before the database is dropped) when the test ends. */
async function node(url: string): Promise<ApiKeyStore> {
  const store = await buildPostgresApiKeyStore({ url, logger: silentLogger(), connectTimeoutMs: 2_000 });
  const keys = ApiKeyStore.openOn(store, { clock, logger: silentLogger(), hashCost: 1024 });
  onTestFinished(() => keys.close());
  return keys;
}

describe.skipIf(binDir === null)('PostgresApiKeyStore on PostgreSQL 15', () => {
  apiKeyStoreContract('postgres', async () => {
    const url = await server.createDatabase();
    const store = await buildPostgresApiKeyStore({ url, logger: silentLogger() });
    return { store, cleanup: () => server.dropDatabase(url) };
  });

  it('refuses a schema of another version as STORE_CORRUPT', async () => {
    const url = await freshDatabase();
    await (await buildPostgresApiKeyStore({ url, logger: silentLogger() })).close();
    await server.query(`UPDATE citymetrics_access_schema SET version = ${PG_ACCESS_SCHEMA_VERSION + 1}`, url);
    const err = await buildPostgresApiKeyStore({ url, logger: silentLogger() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CityError);
    expect((err as CityError).code).toBe('STORE_CORRUPT');
  });

  it('shares one database with the device registry: each part has its own version table', async () => {
    const url = await freshDatabase();
    const registry = await buildPostgresRegistryStore({ url, logger: silentLogger() });
    onTestFinished(() => registry.close());
    const keys = await node(url);
    expect(await keys.ensureAdmin()).toMatchObject({ created: true });
    const tables = await server.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      url,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'api_keys',
      'citymetrics_access_schema',
      'citymetrics_registry_schema',
      'device_life_changes',
      'devices',
      'tile_layouts',
    ]);
  });

  it('brings a version-1 schema (keys only) forward to tile layouts, keeping the keys', async () => {
    const url = await freshDatabase();
    const first = await node(url);
    await first.ensureAdmin('a-configured-admin-token-1234');
    await first.close();
    await server.query('DROP TABLE tile_layouts; UPDATE citymetrics_access_schema SET version = 1', url);
    const keys = await node(url);
    expect(await keys.authenticate('a-configured-admin-token-1234')).toMatchObject({ role: 'admin' });
    await keys.setTileLayout('viewer', ['EN: EN: AQ: 1C'], { keyId: 'admin', name: 'admin' });
    expect((await keys.tileLayout('viewer'))?.codes).toEqual(['EN: EN: AQ: 1C']);
    const version = await server.query('SELECT version FROM citymetrics_access_schema', url);
    expect(version.rows).toEqual([{ version: PG_ACCESS_SCHEMA_VERSION }]);
  });

  describe('two nodes on one database', () => {
    it('a key created on A works on B; revoked on A, B refuses it and tells its listeners', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      await a.ensureAdmin();
      const { key, token } = await a.create({ name: 'wall screen', role: 'viewer' });
      expect(await b.authenticate(token)).toEqual({ keyId: key.id, name: 'wall screen', role: 'viewer' });
      expect((await b.list()).map((k) => k.id)).toContain(key.id);
      const revokedOnB: string[] = [];
      const revokedOnA: string[] = [];
      b.onRevoked((id) => revokedOnB.push(id));
      a.onRevoked((id) => revokedOnA.push(id));
      await a.revoke(key.id);
      await vi.waitFor(() => expect(revokedOnB).toEqual([key.id]), WITHIN);
      // B had it cached as valid: the announcement dropped that.
      expect(await b.authenticate(token)).toBeNull();
      expect(revokedOnA).toEqual([key.id]);
      await expect(b.revoke(key.id)).rejects.toMatchObject({ code: 'API_NOT_FOUND' });
    });

    it('a configured admin token replaced on A stops working on B', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      const first = 'first-configured-admin-token-0123456789';
      await a.ensureAdmin(first);
      expect((await b.authenticate(first))?.role).toBe('admin'); // cached on B
      await a.ensureAdmin('second-configured-admin-token-9876543210');
      await vi.waitFor(async () => expect(await b.authenticate(first)).toBeNull(), WITHIN);
    });

    it('two nodes revoking the two admin keys at once leave one', async () => {
      const url = await freshDatabase();
      const a = await node(url);
      const b = await node(url);
      await a.ensureAdmin();
      const second = await a.create({ name: 'second admin', role: 'admin' });
      const results = await Promise.allSettled([a.revoke('admin'), b.revoke(second.key.id)]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'API_CONFLICT' });
      expect((await a.list()).filter((k) => k.role === 'admin' && k.revokedAt === null)).toHaveLength(1);
    });
  });
});
