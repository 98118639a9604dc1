import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CityError } from '../../core/errors.ts';
import { apiKeyStoreContract } from '../../test/contracts/api-key-store.contract.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteApiKeyStore } from './sqlite-api-key-store.ts';

apiKeyStoreContract('sqlite', async () => {
  const dir = makeTempDir('api-key-store-');
  return { store: SqliteApiKeyStore.open(dir.path), cleanup: async () => dir.remove() };
});

describe('tile layouts read back: damaged codes', () => {
  it('stop the read with STORE_CORRUPT naming the file, the role and the field', async () => {
    const dir = makeTempDir('api-key-store-damaged-');
    try {
      const store = SqliteApiKeyStore.open(dir.path);
      await store.putTileLayout({
        role: 'viewer',
        codes: ['EN: EN: AQ: 1C'],
        updatedBy: 'admin',
        updatedAt: 1,
      });
      const db = new Database(store.location);
      db.prepare('UPDATE tile_layouts SET codes = ?').run('["EN: EN: AQ: 1C", 3]');
      db.close();
      const err = await store.getTileLayout('viewer').then(
        () => null,
        (e: unknown) => e as CityError,
      );
      await store.close();
      expect(err?.code).toBe('STORE_CORRUPT');
      expect(err?.message).toContain(store.location);
      expect(err?.message).toContain('tile layout viewer, codes at 1');
    } finally {
      dir.remove();
    }
  });
});
