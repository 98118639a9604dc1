import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';

/**
 * A first start that cannot listen (a port taken) says which setting to change, and does not lock the
 * admin out: no admin key is generated until the platform listens, so the start that succeeds prints one.
 */

const KEY_LINE = /Admin API key \(shown only now, stored hashed\): (\S+)/;

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

function adminKeysStored(dataDir: string): number {
  const db = new Database(join(dataDir, 'access.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT count(*) FROM api_keys WHERE role = 'admin'").pluck().get() as number;
  } finally {
    db.close();
  }
}

async function devicesWith(platform: PlatformProcess, token: string): Promise<number> {
  const res = await fetch(`${platform.httpUrl}/api/devices`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

describe('a first start that fails to listen', () => {
  const dirs: TempDir[] = [];
  const running: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.kill('SIGKILL');
    for (const d of dirs) d.remove();
  });
  const tempDir = () => {
    const dir = makeTempDir('citymetrics-first-start-');
    dirs.push(dir);
    return dir;
  };

  for (const [setting, portOf] of [
    ['HTTP_PORT', (p: { http: number }) => p.http],
    ['MQTT_PORT', (p: { mqtt: number }) => p.mqtt],
  ] as const) {
    it(`names ${setting} when it is in use, and the next start prints the admin key`, {
      timeout: 60_000,
    }, async () => {
      const dir = tempDir();
      const ports = await freePorts();
      const taken = await occupy(portOf(ports));
      const failed = new PlatformProcess(dir.path, ports, {}, { adminToken: false });
      running.push(failed);
      failed.spawn();
      const exit = await failed.whenExited();
      await close(taken);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(failed.output).toContain(`PLATFORM_PORT_IN_USE: ${setting}: 127.0.0.1:${portOf(ports)}`);
      expect(failed.output).toContain(`set ${setting} to a free port`);
      expect(failed.output).not.toMatch(/^\s+at /m);
      expect(failed.output).not.toMatch(KEY_LINE);
      expect(adminKeysStored(dir.path)).toBe(0);

      const next = new PlatformProcess(dir.path, ports, {}, { adminToken: false });
      running.push(next);
      await next.start();
      await next.whenOutput('Admin API key');
      const token = KEY_LINE.exec(next.output)?.[1];
      expect(token).toMatch(/^cmk_admin_/);
      expect(await devicesWith(next, token!)).toBe(200);
      expect(await next.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    });
  }

  it('an admin key that was lost is replaced by starting once with ADMIN_TOKEN', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir();
    const ports = await freePorts();
    const first = new PlatformProcess(dir.path, ports, {}, { adminToken: false });
    running.push(first);
    await first.start();
    await first.whenOutput('Admin API key');
    const lost = KEY_LINE.exec(first.output)?.[1];
    expect(lost).toMatch(/^cmk_admin_/);
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    // The printed key is forgotten; its owner restarts with a token of their own (24+ characters).
    const recovered = new PlatformProcess(dir.path, ports);
    running.push(recovered);
    await recovered.start();
    expect(recovered.output).not.toMatch(KEY_LINE);
    expect(await devicesWith(recovered, recovered.adminToken)).toBe(200);
    // The admin key is replaced, not added to: whoever found the lost one cannot use it.
    expect(await devicesWith(recovered, lost!)).toBe(401);
    expect(await recovered.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
