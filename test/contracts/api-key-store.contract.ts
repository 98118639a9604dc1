import { describe, expect, it, onTestFinished } from 'vitest';
import type { ApiKeyPersistence, ApiKeyRow } from '../../core/ports/api-key-persistence.ts';

/** How the suite gets a fresh, empty key store; `cleanup` runs after the store is closed. */
export type OpenApiKeyStore = () => Promise<{ store: ApiKeyPersistence; cleanup: () => Promise<void> }>;

const T0 = Date.parse('2026-03-02T10:00:00Z');

const key = (id: string, role = 'viewer', createdAt = T0): Omit<ApiKeyRow, 'revokedAt'> => ({
  id,
  name: `key ${id}`,
  role,
  keyHash: `hash-${id}`,
  createdAt,
});

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (err: unknown) => err,
  );

/**
 * The contract every ApiKeyPersistence passes (SQLite file, PostgreSQL). It uses the port only. What it
 * asks of `open`: a fresh, empty store per call; a resolved write is seen by the next read.
 */
export function apiKeyStoreContract(name: string, open: OpenApiKeyStore): void {
  async function fresh(): Promise<ApiKeyPersistence> {
    const { store, cleanup } = await open();
    onTestFinished(async () => {
      await store.close();
      await cleanup();
    });
    return store;
  }

  describe(`ApiKeyPersistence contract: ${name}`, () => {
    it('gives back inserted keys, listed oldest first and by id on ties', async () => {
      const store = await fresh();
      expect(await store.get('nope')).toBeUndefined();
      expect(await store.list()).toEqual([]);
      await store.insert(key('b2', 'operator', T0));
      await store.insert(key('a1', 'analyst', T0));
      await store.insert(key('c0', 'viewer', T0 - 1));
      expect(await store.get('b2')).toEqual({ ...key('b2', 'operator'), revokedAt: null });
      expect((await store.list()).map((k) => k.id)).toEqual(['c0', 'a1', 'b2']);
    });

    it('refuses a second key with the same id as API_CONFLICT, keeping the first', async () => {
      const store = await fresh();
      await store.insert(key('k1'));
      const err = await rejection(store.insert({ ...key('k1', 'admin'), keyHash: 'other' }));
      expect(err).toMatchObject({ code: 'API_CONFLICT' });
      expect(await store.get('k1')).toMatchObject({ role: 'viewer', keyHash: 'hash-k1' });
    });

    it('refuses a role it does not know', async () => {
      const store = await fresh();
      expect(await rejection(store.insert(key('k1', 'superuser')))).toBeTruthy();
      expect(await store.list()).toEqual([]);
    });

    it('revokes a valid key once; unknown or revoked keys are not found', async () => {
      const store = await fresh();
      await store.insert(key('k1'));
      expect(await store.revoke('nope', T0)).toEqual({ outcome: 'not-found' });
      expect(await store.revoke('k1', T0 + 5)).toEqual({
        outcome: 'revoked',
        row: { ...key('k1'), revokedAt: T0 + 5 },
      });
      expect(await store.revoke('k1', T0 + 9)).toEqual({ outcome: 'not-found' });
      expect((await store.get('k1'))?.revokedAt).toBe(T0 + 5);
    });

    it('never revokes the last valid admin key, even when two are revoked at once', async () => {
      const store = await fresh();
      expect(await store.hasValidAdmin()).toBe(false);
      await store.insert(key('v1', 'viewer'));
      expect(await store.hasValidAdmin()).toBe(false);
      await store.insert(key('a1', 'admin'));
      await store.insert(key('a2', 'admin'));
      expect(await store.hasValidAdmin()).toBe(true);
      const outcomes = await Promise.all([store.revoke('a1', T0), store.revoke('a2', T0)]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['last-admin', 'revoked']);
      expect(await store.hasValidAdmin()).toBe(true);
      const left = (await store.list()).filter((k) => k.role === 'admin' && k.revokedAt === null);
      expect(left).toHaveLength(1);
      expect((await store.revoke(left[0]!.id, T0)).outcome).toBe('last-admin');
    });

    it('putAdmin creates the admin key, and re-validates it with a new hash and the admin role', async () => {
      const store = await fresh();
      await store.putAdmin('admin', 'first', T0);
      expect(await store.get('admin')).toEqual({
        id: 'admin',
        name: 'admin',
        role: 'admin',
        keyHash: 'first',
        createdAt: T0,
        revokedAt: null,
      });
      await store.insert(key('a2', 'admin'));
      expect((await store.revoke('admin', T0 + 1)).outcome).toBe('revoked');
      expect(await store.revoke('a2', T0 + 2)).toEqual({ outcome: 'last-admin' });
      await store.putAdmin('admin', 'second', T0 + 3);
      expect(await store.get('admin')).toMatchObject({ keyHash: 'second', role: 'admin', revokedAt: null });
      expect((await store.revoke('a2', T0 + 4)).outcome).toBe('revoked');
    });

    it('keeps one tile layout per role, replaced whole, in order, and deletable', async () => {
      const store = await fresh();
      expect(await store.getTileLayout('viewer')).toBeUndefined();
      const first = {
        role: 'viewer',
        codes: ['EN: EN: AQ: 1C', 'EN: EN: EQ: 2A'],
        updatedBy: 'a',
        updatedAt: T0,
      };
      await store.putTileLayout(first);
      await store.putTileLayout({ ...first, role: 'operator', codes: ['EC: I: T: 5A'] });
      expect(await store.getTileLayout('viewer')).toEqual(first);
      const second = {
        ...first,
        codes: ['EN: EN: EQ: 2A', 'EC: I: WS: 3C', 'EN: EN: AQ: 1C'],
        updatedAt: T0 + 1,
      };
      await store.putTileLayout(second);
      expect(await store.getTileLayout('viewer')).toEqual(second);
      expect((await store.getTileLayout('operator'))?.codes).toEqual(['EC: I: T: 5A']);
      expect(await store.deleteTileLayout('viewer')).toBe(true);
      expect(await store.deleteTileLayout('viewer')).toBe(false);
      expect(await store.getTileLayout('viewer')).toBeUndefined();
    });

    it('refuses a tile layout for a role it does not know', async () => {
      const store = await fresh();
      const bad = { role: 'superuser', codes: [], updatedBy: 'a', updatedAt: T0 };
      expect(await rejection(store.putTileLayout(bad))).toBeTruthy();
      expect(await store.getTileLayout('superuser')).toBeUndefined();
    });
  });
}
