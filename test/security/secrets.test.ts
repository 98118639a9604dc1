import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess } from '../reliability/platform-process.ts';

/**
 * Secrets over a full run of the real process at LOG_LEVEL=trace: device passwords and API keys appear in
 * no log line and in no byte of the data directory (stored only as salted hashes), wrong ones are refused,
 * and rotation and revocation take effect at once (a connected device is cut off, a revoked key gets 401,
 * a live page on a revoked key is told and disconnected).
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('secrets in a full run', () => {
  const dir = makeTempDir('citymetrics-secrets-');
  let p: PlatformProcess | null = null;
  afterAll(async () => {
    await p?.kill('SIGKILL');
    dir.remove();
  });

  it('are never logged nor stored in clear; rotation and revocation act at once', {
    timeout: 90_000,
  }, async () => {
    p = new PlatformProcess(dir.path, await freePorts(), { LOG_LEVEL: 'trace' });
    const platform = p;
    await platform.start();
    const secrets: string[] = [platform.adminToken];

    // Devices: provisioned, connected, one refused with a near-miss password, one rotated while connected.
    const devices: Array<{ id: string; password: string }> = [];
    for (let i = 0; i < 3; i++) {
      const res = await platform.api<{ id: string; password: string }>('POST', '/api/devices', {
        kind: 'noise-monitor',
        district: 'Old Town',
      });
      devices.push(res.body);
      secrets.push(res.body.password);
    }
    const [a, b] = devices as [{ id: string; password: string }, { id: string; password: string }];
    const clientA = await mqtt.connectAsync(platform.mqttUrl, {
      username: a.id,
      password: a.password,
      reconnectPeriod: 0,
    });
    await clientA.publishAsync(
      `devices/${a.id}/telemetry`,
      JSON.stringify({ ts: Date.now() - 1_000, values: { laeq: 50 } }),
      { qos: 1 },
    );
    const nearMiss = `${b.password.slice(0, -1)}${b.password.endsWith('x') ? 'y' : 'x'}`;
    secrets.push(nearMiss);
    const refused = await mqtt
      .connectAsync(platform.mqttUrl, { username: b.id, password: nearMiss, reconnectPeriod: 0 })
      .then(
        (c) => c.endAsync().then(() => null),
        (e: Error & { code?: number }) => e,
      );
    expect(refused?.code).toBe(4);

    const cutOff = new Promise<void>((resolve) => clientA.once('close', () => resolve()));
    const rotated = await platform.api<{ password: string }>('POST', `/api/devices/${a.id}/rotate-password`);
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.password);
    await cutOff; // the connected device is disconnected at once
    const old = await mqtt
      .connectAsync(platform.mqttUrl, { username: a.id, password: a.password, reconnectPeriod: 0 })
      .then(
        (c) => c.endAsync().then(() => null),
        (e: Error & { code?: number }) => e,
      );
    expect(old?.code).toBe(4);
    const fresh = await mqtt.connectAsync(platform.mqttUrl, {
      username: a.id,
      password: rotated.body.password,
      reconnectPeriod: 0,
    });
    await fresh.endAsync();

    // API keys: created, used, a near miss refused, revoked while a live page uses it.
    const created = await platform.api<{ id: string; key: string }>('POST', '/api/keys', {
      name: 'ops',
      role: 'operator',
    });
    secrets.push(created.body.key);
    const asKey = (key: string) =>
      fetch(`${platform.httpUrl}/api/devices`, { headers: { authorization: `Bearer ${key}` } });
    expect((await asKey(created.body.key)).status).toBe(200);
    const wrongKey = `${created.body.key.slice(0, -2)}zz`;
    secrets.push(wrongKey);
    expect((await asKey(wrongKey)).status).toBe(401);
    const live = io(platform.httpUrl, {
      auth: { token: created.body.key },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve) => live.once('hello', () => resolve()));
    const told = new Promise<{ code: string }>((resolve) => live.once('revoked', resolve));
    const dropped = new Promise<void>((resolve) => live.once('disconnect', () => resolve()));
    expect((await platform.api('DELETE', `/api/keys/${created.body.id}`)).status).toBeLessThan(300);
    expect((await told).code).toBe('API_UNAUTHENTICATED');
    await dropped;
    expect((await asKey(created.body.key)).status).toBe(401);

    expect((await platform.kill('SIGTERM')).code).toBe(0);

    // The logs of the whole run (trace level) hold none of the secrets, nor a recognisable piece of one.
    expect(platform.output.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(platform.output.includes(secret), 'a secret in the logs').toBe(false);
      expect(platform.output.includes(secret.slice(-16)), 'the tail of a secret in the logs').toBe(false);
    }
    // Nor does any byte of any file in the data directory (databases, WAL files): hashes only.
    for (const name of readdirSync(dir.path)) {
      const bytes = readFileSync(join(dir.path, name));
      for (const secret of secrets)
        expect(bytes.includes(Buffer.from(secret)), `${name} holds a secret`).toBe(false);
    }
  });

  it('secrets are compared in constant time and hashed with a per-secret salt', () => {
    const hashing = readFileSync(join(ROOT, 'core/secret-hash.ts'), 'utf8');
    expect(hashing).toMatch(/timingSafeEqual\(/);
    expect(hashing).toMatch(/randomBytes\(/);
    // Both stores verify through it (or through an HMAC cache compared with timingSafeEqual), never with ===.
    for (const file of ['devices/registry.ts', 'dashboards/http/api-key-store.ts']) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      expect(source, file).toMatch(/verifySecret\(/);
      expect(source, file).not.toMatch(/(password|token|secret)\s*===\s*/i);
    }
  });
});
