import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNatsLink } from '../../cluster/cluster-links.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { natsServerBinary } from '../servers/nats.ts';
import { freePort, ProcessServer } from '../servers/process-server.ts';

/**
 * A nats-server that requires a user and password, as production's should (the log carries every reading):
 * credentials in NATS_URL connect, wrong or missing ones stop the start with the setting to fix.
 */

const binary = natsServerBinary();
let server: ProcessServer;
let dir: string;
let port: number;

beforeAll(async () => {
  if (binary === null) return;
  dir = mkdtempSync(join(tmpdir(), 'citymetrics-nats-auth-'));
  port = await freePort();
  const monitor = await freePort();
  const conf = join(dir, 'nats.conf');
  writeFileSync(
    conf,
    `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${monitor}\nauthorization { user: cm, password: "s@cret" }\n`,
  );
  server = new ProcessServer({
    name: 'nats-server with a password',
    command: binary,
    args: ['-c', conf],
    readyUrl: `http://127.0.0.1:${monitor}/healthz`,
  });
  await server.start();
}, 30_000);
afterAll(async () => {
  await server?.stop('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const open = (natsUrl: string) =>
  openNatsLink(testConfig({ dataDir: dir, natsUrl }), silentLogger(), 'citymetrics auth test');

describe.skipIf(binary === null)('NATS credentials', () => {
  it('connects with the user and password in NATS_URL', async () => {
    const link = await open(`nats://cm:s%40cret@127.0.0.1:${port}`);
    expect(link.connected()).toBe(true);
    await link.close();
  });

  it('a wrong password or none is CONFIG_INVALID on NATS_URL, the password never printed', async () => {
    const wrong = await open(`nats://cm:guess@127.0.0.1:${port}`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(wrong).toMatchObject({ code: 'CONFIG_INVALID', field: 'NATS_URL' });
    expect((wrong as Error).message).toContain('refused the credentials');
    expect((wrong as Error).message).not.toContain('guess');
    const none = await open(`nats://127.0.0.1:${port}`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(none).toMatchObject({ code: 'CONFIG_INVALID', field: 'NATS_URL' });
    expect((none as Error).message).toContain('without credentials');
  });
});
