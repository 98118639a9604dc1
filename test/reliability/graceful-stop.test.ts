import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { AckedFleet, type FleetDevice } from './acked-fleet.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * Graceful stop (SIGTERM) under load: the platform stops accepting, drains what it acknowledged into the
 * series store, closes its databases and exits 0 before the CLI's stop deadline (15 s, after which it
 * would exit 1). Nothing acknowledged is lost, and nothing is left for a replay at the next start.
 */
describe('graceful stop under load', () => {
  const dir = makeTempDir('citymetrics-sigterm-');
  let platform: PlatformProcess | null = null;
  let fleet: AckedFleet | null = null;
  afterAll(async () => {
    await fleet?.close();
    await platform?.kill('SIGKILL');
    dir.remove();
  });

  it('drains, flushes, closes and exits 0 with nothing lost', { timeout: 90_000 }, async () => {
    platform = new PlatformProcess(dir.path, await freePorts(), { DEVICE_RATE_LIMIT_PER_SEC: '100000' });
    await platform.start();
    const devices: FleetDevice[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await platform.api<FleetDevice>('POST', '/api/devices', {
        installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
        kind: 'noise-monitor',
        district: 'Old Town',
      });
      devices.push(res.body);
    }
    const firstTs = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000;
    fleet = new AckedFleet({
      url: platform.mqttUrl,
      devices,
      perDevice: 2_000,
      firstTs,
      stepMs: 1_000,
      metric: 'laeq',
      valueOf: (i) => 40 + (i % 50),
      window: 50,
      // After the stop nothing answers: no point hammering a closed port.
      reconnectPeriodMs: 60_000,
    });
    fleet.start();
    const f = fleet;
    await f.when(() => f.acked >= 3_000);

    const signalledAt = performance.now();
    const exit = await platform.kill('SIGTERM');
    console.info(
      `graceful stop: exited ${Math.round(performance.now() - signalledAt)} ms after SIGTERM, ${f.acked} readings acknowledged`,
    );
    // 0 = stopped cleanly; the CLI exits 1 when its 15 s stop deadline passes first.
    expect(exit).toEqual({ code: 0, signal: null });
    expect(platform.output).not.toContain('graceful stop timed out');
    const ackedAtStop = f.acked;
    await f.close();

    // Flushed: the series store holds everything the log committed; no replay is owed at the next start.
    const log = new Database(join(dir.path, 'log.db'), { readonly: true });
    const materialized = log.prepare("SELECT value FROM meta WHERE key = 'materialized_seq'").pluck().get();
    const committed = log.prepare('SELECT max(seq) FROM log_values').pluck().get();
    log.close();
    expect(materialized).toBe(committed);

    const stored = readStored(dir.path, 'laeq');
    let lost = 0;
    for (const d of devices) {
      const have = new Set(stored.points.get(d.id) ?? []);
      for (const i of f.ackedOf(d.id)) if (!have.has(f.tsOf(i))) lost++;
    }
    expect(ackedAtStop).toBeGreaterThanOrEqual(3_000);
    expect(lost).toBe(0);

    // Closed: the ports are free again, and a device trying to connect is refused by nobody listening.
    const refused = await mqtt
      .connectAsync(platform.mqttUrl, { reconnectPeriod: 0, connectTimeout: 2_000 })
      .then(
        (c) => c.endAsync().then(() => null),
        (e: Error) => e,
      );
    expect(refused).toBeInstanceOf(Error);
  });
});
