import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { AckedFleet, type FleetDevice } from './acked-fleet.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * Crash: QoS 1 readings from many devices; the platform process is killed with SIGKILL in the middle; it
 * restarts on the same data directory and ports; the devices reconnect and resend what was not
 * acknowledged. Every acknowledged reading is stored exactly once, nothing is stored twice, and the
 * roll-ups equal those recomputed from the raw points and from the durable log.
 */
const DEVICES = 24;
const PER_DEVICE = 500;
const STEP_MS = 1_000;

describe('crash (SIGKILL mid-stream) and restart', () => {
  const dir = makeTempDir('citymetrics-crash-');
  let platform: PlatformProcess | null = null;
  let fleet: AckedFleet | null = null;
  afterAll(async () => {
    await fleet?.close();
    await platform?.kill('SIGKILL');
    dir.remove();
  });

  it('stores every acknowledged reading exactly once', { timeout: 120_000 }, async () => {
    // The per-device rate limit would refuse (and acknowledge) part of this deliberate burst.
    platform = new PlatformProcess(dir.path, await freePorts(), { DEVICE_RATE_LIMIT_PER_SEC: '100000' });
    await platform.start();
    const devices: FleetDevice[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const res = await platform.api<FleetDevice>('POST', '/api/devices', {
        installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
        kind: 'noise-monitor',
        district: `D${i % 4}`,
      });
      expect(res.status).toBe(201);
      devices.push(res.body);
    }
    // Whole minutes, well inside the late window: minute buckets can be recomputed exactly.
    const firstTs = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    fleet = new AckedFleet({
      url: platform.mqttUrl,
      devices,
      perDevice: PER_DEVICE,
      firstTs,
      stepMs: STEP_MS,
      metric: 'laeq',
      valueOf: (i) => 30 + (i % 90),
      window: 25,
    });
    fleet.start();

    // Kill it while readings are streaming: after a third has been acknowledged.
    const f = fleet;
    await f.when(() => f.acked >= f.total / 3);
    const killed = await platform.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const ackedAtKill = f.acked;
    expect(ackedAtKill).toBeLessThan(f.total);

    await platform.start();
    await f.allAcked();
    // Everything acknowledged is in the durable log; wait until the series store has all of it.
    const p = platform;
    for (;;) {
      const stats = await p.api<{ backlog: number }>('GET', '/api/ingest/stats');
      if (stats.body.backlog === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const stopped = await platform.kill('SIGTERM');
    expect(stopped.code).toBe(0);

    const stored = readStored(dir.path, 'laeq');
    let lost = 0;
    let duplicated = 0;
    let storedTotal = 0;
    for (const d of devices) {
      const ts = stored.points.get(d.id) ?? [];
      const have = new Set(ts);
      storedTotal += ts.length;
      for (const i of f.ackedOf(d.id)) if (!have.has(f.tsOf(i))) lost++;
      // Nothing stored that was never sent.
      for (const t of ts)
        expect((t - firstTs) % STEP_MS === 0 && t >= firstTs && t < f.tsOf(PER_DEVICE)).toBe(true);
      // A reading counted twice would show as roll-up counts above the distinct points.
      const counts = stored.rollupCount.get(d.id)!;
      duplicated += counts.minute - ts.length;
      expect(counts).toEqual({ minute: ts.length, hour: ts.length, day: ts.length });
      // Minute by minute, the roll-up equals a recount of the raw points...
      const recount = new Map<number, number>();
      for (const t of ts)
        recount.set(Math.floor(t / 60_000) * 60_000, (recount.get(Math.floor(t / 60_000) * 60_000) ?? 0) + 1);
      expect(stored.minuteBuckets.get(d.id)).toEqual(recount);
      // ...and the points equal the distinct identities in the durable log.
      expect(stored.logDistinct.get(d.id)).toBe(ts.length);
    }
    console.info(
      `crash test: ${f.total} readings sent by ${DEVICES} devices, ${ackedAtKill} acknowledged before SIGKILL, ` +
        `${f.acked} acknowledged in all, ${storedTotal} stored, ${stored.logRows - storedTotal} resent copies ` +
        `in the log, lost ${lost}, duplicated ${duplicated}, ${f.failedPublishes} publishes resent by the devices`,
    );
    expect(Object.fromEntries(f.refused)).toEqual({});
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(storedTotal).toBe(f.total);
  });
});
