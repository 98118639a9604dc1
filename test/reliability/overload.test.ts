import { afterAll, describe, expect, it } from 'vitest';
import {
  connectLoad,
  type LoadClients,
  type LoadDevice,
  runPhase,
  scrape,
  settle,
} from '../../scripts/load-phase.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess, PRODUCTION_START } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * Overload, the short version of `npm run overload` (scripts/overload.ts runs it for a minute at twice the
 * measured sustainable rate): many devices offer QoS 1 readings as fast as their windows allow, far past
 * what the platform takes. It must keep answering, keep memory under a stated bound, lose nothing it
 * acknowledged, and take a new device's reading as soon as the burst stops.
 */
const DEVICES = 40;
const WINDOW = 100;
/** The stated bound for the platform process during the burst. */
const RSS_BOUND_BYTES = 512 * 1024 * 1024;

describe('overload burst', () => {
  const dir = makeTempDir('citymetrics-overload-');
  let platform: PlatformProcess | null = null;
  let load: LoadClients | null = null;
  afterAll(async () => {
    await load?.close();
    await platform?.kill('SIGKILL');
    dir.remove();
  });

  it('levels off: answers throughout, bounded memory, nothing acknowledged lost, recovers at once', {
    timeout: 120_000,
  }, async () => {
    // The memory bound is the production build's (what `npm start` runs), not tsx's, which holds every
    // module's transpiled source and its loader in both threads (about 60 MB more).
    platform = new PlatformProcess(
      dir.path,
      await freePorts(),
      { DEVICE_RATE_LIMIT_PER_SEC: '100000', INGEST_MAX_BACKLOG_VALUES: '20000' },
      { command: PRODUCTION_START },
    );
    const p = platform;
    await p.start();
    const devices: LoadDevice[] = [];
    for (let i = 0; i < DEVICES; i++) {
      devices.push(
        (
          await p.api<LoadDevice>('POST', '/api/devices', {
            kind: 'noise-monitor',
            district: `D${i % 5}`,
            // the load is stamped from a day back
            installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(),
          })
        ).body,
      );
    }
    load = await connectLoad(p.mqttUrl, devices);
    const base = Date.now() - 24 * 3_600_000;
    const tsOf = (seq: number) => base + seq * 10;

    // The platform is watched while the burst runs: every scrape must be answered.
    const samples: Array<Awaited<ReturnType<typeof scrape>>> = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        samples.push(await scrape(p.httpUrl));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const burst = await runPhase(load, { ratePerSec: 0, durationMs: 6_000, window: WINDOW, tsOf });
    watching = false;
    await watcher;
    expect(await settle(load)).toBe(true);

    // Recovery: a device that was not part of the burst is served at once.
    const fresh = (
      await p.api<LoadDevice>('POST', '/api/devices', {
        kind: 'noise-monitor',
        district: 'D0',
        installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(),
      })
    ).body;
    const freshLoad = await connectLoad(p.mqttUrl, [fresh]);
    const after = await runPhase(freshLoad, { ratePerSec: 50, durationMs: 400, window: 10, tsOf });
    expect(await settle(freshLoad)).toBe(true);
    await freshLoad.close();
    expect(after.acked).toBe(after.published);
    expect(after.published).toBeGreaterThan(0);

    for (;;) {
      if ((await scrape(p.httpUrl)).backlog === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await p.kill('SIGTERM')).code).toBe(0);
    const stored = readStored(dir.path, 'laeq');
    let lost = 0;
    let acked = 0;
    for (const c of load.clients) {
      const have = new Set(stored.points.get(c.device.id) ?? []);
      for (const seq of c.acked) {
        acked++;
        if (!have.has(tsOf(seq))) lost++;
      }
    }
    const rssPeak = Math.max(...samples.map((s) => s.rss));
    const seconds = burst.durationMs / 1000;
    console.info(
      `overload burst: ${burst.published} readings offered in ${seconds.toFixed(1)} s by ${DEVICES} devices ` +
        `(${Math.round(burst.published / seconds)}/s, window ${WINDOW}), ${acked} acknowledged, lost ${lost}, ` +
        `${samples.length} scrapes answered, platform RSS peak ${(rssPeak / 1048576).toFixed(0)} MB, ` +
        `refused ${samples.at(-1)?.refused ?? 0}`,
    );
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(acked).toBe(burst.published);
    expect(lost).toBe(0);
    expect(rssPeak).toBeGreaterThan(0);
    expect(rssPeak).toBeLessThan(RSS_BOUND_BYTES);
  });
});
