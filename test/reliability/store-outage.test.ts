import Database from 'better-sqlite3';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { AckedFleet, type FleetDevice } from './acked-fleet.ts';
import { readStored } from './stored-readings.ts';

/**
 * Store down: another connection holds series.db's write lock (an embedded store that is locked: a backup
 * tool, an operator's sqlite3 shell), so every series-store write fails. The durable log keeps taking what
 * it acknowledges up to the backlog bound; past it acknowledgements wait (backpressure) instead of memory
 * growing. The condition shows on /readyz, /metrics and the live page's `stats`; once the lock is released
 * everything acknowledged arrives, once.
 *
 * Slow by nature (~30 s): better-sqlite3 waits out its 5 s busy timeout, synchronously, on every write
 * attempt against the held lock, so each retry freezes the process that long.
 */
const MAX_BACKLOG = 3_000;
const DEVICES = 8;
const WINDOW = 20;
const FLUSH_MAX = 500;
/** The stated bound: heap growth during the outage, test clients included. */
const HEAP_BOUND_BYTES = 128 * 1024 * 1024;

describe('series store locked (down) under load', () => {
  let t: TestPlatform | null = null;
  let fleet: AckedFleet | null = null;
  let live: Socket | null = null;
  let locker: Database.Database | null = null;
  afterAll(async () => {
    live?.disconnect();
    if (locker?.open) locker.close();
    await fleet?.close();
    await t?.close();
  });

  it('holds acknowledgements at the backlog bound, shows it, and delivers everything once back', {
    timeout: 120_000,
  }, async () => {
    t = await startTestPlatform({
      ingestMaxBacklogValues: MAX_BACKLOG,
      deviceRateLimitPerSec: 100_000,
      logFlushMaxValues: FLUSH_MAX,
      livePushIntervalMs: 50,
    });
    const p = t;
    const devices: FleetDevice[] = [];
    for (let i = 0; i < DEVICES; i++) devices.push(await p.provision('noise-monitor', 'Old Town'));
    const firstTs = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    fleet = new AckedFleet({
      url: p.addresses.mqttUrl,
      devices,
      perDevice: 1_500,
      firstTs,
      stepMs: 1_000,
      metric: 'laeq',
      valueOf: (i) => 35 + (i % 60),
      window: WINDOW,
    });
    const f = fleet;
    f.start();
    await f.when(() => f.acked >= 1_000);

    // The outage: a second connection takes the write lock and keeps it.
    locker = new Database(`${p.dataDir}/series.db`);
    locker.exec('BEGIN EXCLUSIVE');
    const heapAtStart = process.memoryUsage().heapUsed;
    let heapPeak = heapAtStart;
    let rssPeak = process.memoryUsage().rss;
    let backlogPeak = 0;
    const sample = () => {
      const m = process.memoryUsage();
      heapPeak = Math.max(heapPeak, m.heapUsed);
      rssPeak = Math.max(rssPeak, m.rss);
      backlogPeak = Math.max(backlogPeak, p.platform.ingest.stats().backlog);
    };
    const sampler = setInterval(sample, 20);

    // Backpressure reached: the backlog is past its bound and the devices wait for their PUBACKs.
    const ackedBeforeLock = f.acked;
    for (;;) {
      sample();
      const s = p.platform.ingest.stats();
      if (s.backlog > MAX_BACKLOG && s.store.writeFailures > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ackedAtBound = f.acked;

    // Visible: readiness, metrics, the live page.
    const ready = await fetch(`${p.addresses.httpUrl}/readyz`);
    const readiness = (await ready.json()) as { failing: string[] };
    expect(ready.status).toBe(503);
    expect(readiness.failing).toEqual(expect.arrayContaining(['store', 'backlog']));
    const metrics = await (await fetch(`${p.addresses.httpUrl}/metrics`)).text();
    const gauge = (name: string) =>
      Number(/^(\S+) (\S+)$/m.exec(metrics.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);
    expect(gauge('citymetrics_store_write_failures_total')).toBeGreaterThan(0);
    expect(gauge('citymetrics_ingest_backlog_values')).toBeGreaterThan(MAX_BACKLOG);
    live = io(p.addresses.httpUrl, { auth: { token: p.adminToken }, transports: ['websocket'] });
    const liveStats = await new Promise<{ backlog: number; store: { writeFailures: number } }>((resolve) =>
      live!.on('stats', (s: { backlog: number; store: { writeFailures: number } }) => {
        if (s.backlog > MAX_BACKLOG && s.store.writeFailures > 0) resolve(s);
      }),
    );
    expect(liveStats.backlog).toBeGreaterThan(MAX_BACKLOG);

    // Held: while all that was checked, acknowledgements did not run ahead of the bound.
    sample();
    const ackedWhileDown = f.acked;
    // What passed the gate at once: every device's window, plus one group commit.
    const slack = DEVICES * WINDOW + FLUSH_MAX;
    expect(backlogPeak).toBeLessThanOrEqual(MAX_BACKLOG + slack);
    expect(ackedWhileDown - ackedAtBound).toBeLessThanOrEqual(slack);
    expect(ackedWhileDown).toBeLessThan(f.total);

    // Back: release the lock; everything acknowledged reaches the store.
    locker.exec('ROLLBACK');
    locker.close();
    await f.allAcked();
    clearInterval(sampler);
    await p.platform.ingest.drain();
    const readyAgain = await fetch(`${p.addresses.httpUrl}/readyz`);
    expect(readyAgain.status).toBe(200);

    const stored = readStored(p.dataDir, 'laeq');
    let lost = 0;
    let storedTotal = 0;
    for (const d of devices) {
      const have = new Set(stored.points.get(d.id) ?? []);
      storedTotal += have.size;
      for (const i of f.ackedOf(d.id)) if (!have.has(f.tsOf(i))) lost++;
      expect(stored.rollupCount.get(d.id)?.minute).toBe(have.size);
    }
    const heapGrowth = heapPeak - heapAtStart;
    console.info(
      `store outage: ${f.total} readings, ${ackedBeforeLock} acknowledged before the lock, backlog peak ${backlogPeak} ` +
        `(bound ${MAX_BACKLOG}), ${ackedWhileDown - ackedAtBound} acknowledged while held, heap growth peak ` +
        `${(heapGrowth / 1048576).toFixed(1)} MB (bound ${HEAP_BOUND_BYTES / 1048576} MB), RSS peak ${(rssPeak / 1048576).toFixed(0)} MB, ` +
        `${storedTotal} stored, lost ${lost}`,
    );
    expect(lost).toBe(0);
    expect(storedTotal).toBe(f.total);
    expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
    expect(Object.fromEntries(f.refused)).toEqual({});
  });
});
