import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { Simulation } from '../../simulators/simulation.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { freePort } from '../servers/process-server.ts';
import { readStored } from './stored-readings.ts';

/**
 * Broker restart: simulated devices with persistent sessions lose the broker (the platform stops and comes
 * back on the same ports and data), reconnect with back-off, and back-fill what they buffered meanwhile.
 * No gap in the stored series: every reading each device generated is stored.
 */
const DEVICES = 12;

/** Polls a condition (each poll yields to the event loop); fails after `ms`. */
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('broker restart with simulated devices', () => {
  const dir = makeTempDir('citymetrics-restart-');
  let t: TestPlatform | null = null;
  let sim: Simulation | null = null;
  afterAll(async () => {
    await sim?.stop();
    await t?.close();
    dir.remove();
  });

  it('devices reconnect with back-off and back-fill: no gap in any stored series', {
    timeout: 90_000,
  }, async () => {
    const ports = { httpPort: await freePort(), mqttPort: await freePort() };
    const overrides = { ...ports, deviceRateLimitPerSec: 1_000 };
    t = await startTestPlatform(overrides, undefined, dir.path);
    const devices = [];
    for (let i = 0; i < DEVICES; i++) {
      const d = await t.provision('noise-monitor', `D${i % 3}`);
      devices.push({ ...d, kind: 'noise-monitor' });
    }
    sim = new Simulation({
      url: t.addresses.mqttUrl,
      devices,
      logger: silentLogger(),
      qos: 1,
      minIntervalMs: 50,
      ratePerSec: DEVICES * 20,
      backoff: { initialMs: 100, maxMs: 1_000 },
      bufferLimit: 10_000,
      progressIntervalMs: 0,
    });
    const s = sim;
    await s.start();
    await until('every device acknowledged', () => s.fleet.every((d) => d.snapshot().acknowledged >= 5));

    await t.platform.stop();
    // While the broker is away, every device buffers readings.
    await until('every device buffering', () => s.fleet.every((d) => d.snapshot().buffered >= 5));
    const bufferedAtRestart = s.fleet.reduce((n, d) => n + d.snapshot().buffered, 0);

    t = await startTestPlatform(overrides, undefined, dir.path);
    await until('every device reconnected and back-filled', () =>
      s.fleet.every((d) => d.connected && d.snapshot().backfilled > 0 && d.snapshot().buffered === 0),
    );
    const report = await s.stop();
    sim = null;
    await t.platform.ingest.drain();

    const stored = readStored(dir.path, 'laeq');
    let gaps = 0;
    let storedTotal = 0;
    for (const d of s.fleet) {
      const stats = d.snapshot();
      const n = stored.points.get(d.id)?.length ?? 0;
      storedTotal += n;
      gaps += stats.generated - n;
      expect(stats.dropped).toBe(0);
    }
    console.info(
      `broker restart: ${report.generated} readings generated, ${bufferedAtRestart} buffered during the outage, ` +
        `${report.backfilled} back-filled in ${report.backfillMessages} messages, ${storedTotal} stored, missing ${gaps}`,
    );
    expect(report.connects).toBeGreaterThanOrEqual(2 * DEVICES);
    expect(report.refused).toEqual({});
    expect(gaps).toBe(0);
    expect(storedTotal).toBe(report.generated);
  });
});
