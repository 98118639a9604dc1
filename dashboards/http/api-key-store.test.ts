import fs from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { ApiKeyStore } from './api-key-store.ts';

const clock = new ManualClock(Date.parse('2026-03-02T10:00:00Z'));

function tempDir() {
  const dir = makeTempDir('api-keys-');
  onTestFinished(() => dir.remove());
  return dir;
}

function open(dataDir: string): ApiKeyStore {
  const store = ApiKeyStore.open({ dataDir, clock, logger: silentLogger(), hashCost: 1024 });
  onTestFinished(() => store.close());
  return store;
}

function expectCorrupt(dataDir: string): void {
  let caught: unknown;
  try {
    ApiKeyStore.open({ dataDir, clock, logger: silentLogger() }).close();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CityError);
  expect((caught as CityError).code).toBe('STORE_CORRUPT');
}

describe('ApiKeyStore', () => {
  it('creates keys shown once, stores only hashes, authenticates by id and secret', async () => {
    const dir = tempDir();
    const store = open(dir.path);
    const { key, token } = await store.create({ name: 'grafana', role: 'viewer' });
    expect(token).toMatch(new RegExp(`^cmk_${key.id}_[A-Za-z0-9_-]{32}$`));
    expect(await store.authenticate(token)).toEqual({ keyId: key.id, name: 'grafana', role: 'viewer' });
    expect(await store.authenticate(`${token}x`)).toBeNull();
    expect(await store.authenticate(`cmk_${key.id}_wrong`)).toBeNull();
    expect(await store.authenticate('')).toBeNull();
    expect(await store.authenticate(42)).toBeNull();
    expect(await store.authenticate('x'.repeat(10_000))).toBeNull();
    expect(await store.list()).toEqual([{ ...key, revokedAt: null }]);
    const bytes = fs.readFileSync(dir.file('access.db'));
    expect(bytes.includes(token.slice(-20))).toBe(false);
  });

  it('revocation is effective at once, cached verification included, and survives a reopen', async () => {
    const dir = tempDir();
    const store = open(dir.path);
    const { key, token } = await store.create({ name: 'ops', role: 'operator' });
    expect(await store.authenticate(token)).not.toBeNull(); // now cached
    const revoked: string[] = [];
    store.onRevoked((id) => revoked.push(id));
    await store.revoke(key.id);
    expect(revoked).toEqual([key.id]);
    expect(await store.authenticate(token)).toBeNull();
    await expect(store.revoke(key.id)).rejects.toMatchObject({ code: 'API_NOT_FOUND' });
    store.close();
    const again = open(dir.path);
    expect(await again.authenticate(token)).toBeNull();
    expect((await again.list())[0]?.revokedAt).toBe(clock.now());
  });

  it('generates an admin key once when none is configured, and never again', async () => {
    const dir = tempDir();
    const store = open(dir.path);
    const first = await store.ensureAdmin();
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^cmk_admin_/);
    expect((await store.authenticate(first.token))?.role).toBe('admin');
    expect(await store.ensureAdmin()).toEqual({ created: false });
    store.close();
    expect(await open(dir.path).ensureAdmin()).toEqual({ created: false });
  });

  it('registers a configured admin token of any form, and replaces it when the configuration changes', async () => {
    const store = open(tempDir().path);
    const configured = 'a-long-configured-admin-token-0123456789';
    expect(await store.ensureAdmin(configured)).toEqual({ created: true });
    expect(await store.authenticate(configured)).toEqual({ keyId: 'admin', name: 'admin', role: 'admin' });
    expect(await store.ensureAdmin(configured)).toEqual({ created: false });
    const changed = 'another-configured-admin-token-9876543210';
    await store.ensureAdmin(changed);
    expect(await store.authenticate(configured)).toBeNull();
    expect((await store.authenticate(changed))?.role).toBe('admin');
  });

  it('refuses to revoke the last admin key', async () => {
    const store = open(tempDir().path);
    await store.ensureAdmin();
    await expect(store.revoke('admin')).rejects.toMatchObject({ code: 'API_CONFLICT' });
    const second = await store.create({ name: 'second admin', role: 'admin' });
    await store.revoke('admin');
    expect((await store.authenticate(second.token))?.role).toBe('admin');
  });

  it('bounds the verified-key cache and still authenticates evicted keys', async () => {
    const dir = tempDir();
    const store = ApiKeyStore.open({
      dataDir: dir.path,
      clock,
      logger: silentLogger(),
      hashCost: 1024,
      cacheSize: 2,
    });
    onTestFinished(() => store.close());
    const keys = await Promise.all([1, 2, 3].map((i) => store.create({ name: `k${i}`, role: 'viewer' })));
    for (const k of keys) expect((await store.authenticate(k.token))?.keyId).toBe(k.key.id);
    expect((await store.authenticate(keys[0]!.token))?.keyId).toBe(keys[0]!.key.id);
  });

  it('refuses foreign or damaged files with STORE_CORRUPT and leaves them untouched', () => {
    const garbageDir = tempDir();
    const garbage = Buffer.alloc(8192, 0x5a);
    fs.writeFileSync(garbageDir.file('access.db'), garbage);
    expectCorrupt(garbageDir.path);
    expect(fs.readFileSync(garbageDir.file('access.db')).equals(garbage)).toBe(true);

    const foreignDir = tempDir();
    const db = new Database(foreignDir.file('access.db'));
    db.exec('CREATE TABLE notes (x)');
    db.close();
    expectCorrupt(foreignDir.path);

    const otherAppDir = tempDir();
    const other = new Database(otherAppDir.file('access.db'));
    other.pragma('application_id = 42');
    other.close();
    expectCorrupt(otherAppDir.path);
  });
});
