import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityCalendar } from '../../../core/city-calendar.ts';
import { type Clock, systemClock } from '../../../core/clock.ts';
import { testConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { PlatformEvents } from '../../../core/platform-events.ts';
import { createTelemetry } from '../../../core/telemetry.ts';
import { KindCatalogue } from '../../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../../devices/registry.ts';
import { makeTempDir } from '../../../test/helpers/temp-dir.ts';
import { type InfluxTestServer, influxdBinary, startInfluxd } from '../../../test/servers/influxdb.ts';
import { IngestService } from '../../ingest-service.ts';
import { buildInfluxSeriesStore } from './influx-series-store.ts';

const T0 = Date.UTC(2026, 2, 15, 12, 0, 0);
const binary = influxdBinary();
let server: InfluxTestServer;

beforeAll(async () => {
  if (binary !== null) server = await startInfluxd(binary);
});
afterAll(async () => {
  await server?.destroy();
});

/** Resolves when the store has counted at least `n` failed write attempts (an event, not a sleep). */
function failureCounter() {
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    get count() {
      return count;
    },
    hook: () => {
      count++;
      for (const w of waiters.splice(0)) {
        if (count >= w.n) w.resolve();
        else waiters.push(w);
      }
    },
    reach: (n: number) =>
      new Promise<void>((resolve) => {
        if (count >= n) resolve();
        else waiters.push({ n, resolve });
      }),
  };
}

describe.skipIf(binary === null)(
  'InfluxDB outage under the real ingest pipeline (influxd 1.x, v1 /write)',
  () => {
    it('keeps every acknowledged reading through a stop and restart, bounded, with failures counted', async () => {
      const dir = makeTempDir('citymetrics-influx-outage-');
      // Readings are stamped around T0, while the outage and the restart take real time: the group commit
      // and the store retries run on real timers, as against a server in production.
      const clock: Clock = { ...systemClock, now: () => T0 };
      const logger = silentLogger();
      const failures = failureCounter();
      const maxPendingPoints = 2_000;
      const store = await buildInfluxSeriesStore(
        { logger, clock, calendar: new CityCalendar('Europe/Paris'), onWriteAttemptFailed: failures.hook },
        {
          url: server.url,
          writeTransport: 'v1',
          database: 'outage',
          createDatabase: true,
          indexFile: dir.file('influx-index.db'),
          batchSize: 500,
          maxRetries: 3,
          minRetryDelayMs: 5,
          maxRetryDelayMs: 40,
          retryJitterMs: 0,
          maxPendingPoints,
        },
      );
      const config = testConfig({ dataDir: dir.path, logFlushIntervalMs: 1, ingestMaxBacklogValues: 4_000 });
      const registry = DeviceRegistry.open({
        dataDir: dir.path,
        kinds: new KindCatalogue(),
        clock,
        logger,
        scryptCost: 1024,
      });
      const telemetry = createTelemetry();
      const ingest = await IngestService.open(
        { config, directory: registry, store, events: new PlatformEvents(), telemetry, logger, clock },
        { pruneIntervalMs: 0, retry: { baseMs: 5, maxMs: 50 }, storeBatchMaxValues: 1_000 },
      );
      try {
        const devices: string[] = [];
        for (let i = 0; i < 4; i++)
          devices.push(
            (
              await registry.provision({
                kind: 'air-quality-station',
                district: i < 2 ? 'north' : 'south',
                attributes: {},
                // the readings go back 10 hours from T0
                installedAt: T0 - 86_400_000,
              })
            ).device.id,
          );
        // One reading (pm25 and no2) per device and minute, over the last 10 hours: 600 per device.
        const acknowledged = new Map<string, number>();
        let pendingPeak = 0;
        const send = async (from: number, to: number) => {
          const submits: Promise<void>[] = [];
          for (let m = from; m < to; m++)
            for (const id of devices) {
              const ts = T0 - 600 * 60_000 + m * 60_000;
              const payload = Buffer.from(JSON.stringify({ ts, values: { pm25: (m % 50) + 1, no2: m % 7 } }));
              submits.push(
                ingest.submit(id, 'telemetry', payload).then((r) => {
                  expect(r).toEqual({ ok: true, accepted: 2 });
                  acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
                  pendingPeak = Math.max(pendingPeak, store.health().pending);
                }),
              );
            }
          await Promise.all(submits);
        };

        await send(0, 200);
        await ingest.drain();
        await server.stop(); // mid-stream
        await send(200, 400); // still acknowledged: the durable log holds them (below the backlog bound)
        await failures.reach(2);
        expect(store.health().ok).toBe(false);
        expect(ingest.stats().backlog).toBeGreaterThan(0);
        await server.start(); // same port, same data
        await send(400, 600);
        await ingest.drain();

        expect(failures.count).toBeGreaterThan(0);
        expect(store.health()).toMatchObject({ ok: true, pending: 0 });
        expect(store.health().writeFailures).toBe(failures.count);
        expect(pendingPeak).toBeLessThanOrEqual(maxPendingPoints);
        const day = { from: T0 - 86_400_000, to: T0 + 60_000 };
        for (const id of devices) {
          expect(acknowledged.get(id)).toBe(600);
          for (const metric of ['pm25', 'no2']) {
            const agg = await store.aggregate({ scope: { device: id }, metric, ...day });
            expect(agg?.count).toBe(600);
          }
        }
        const city = await store.aggregate({ scope: { city: true }, metric: 'pm25', ...day });
        expect(city?.count).toBe(2_400);
        expect(city?.sum).toBe(4 * [...Array(600).keys()].reduce((s, m) => s + (m % 50) + 1, 0));
      } finally {
        await ingest.close();
        await store.close();
        registry.close();
        dir.remove();
      }
    });
  },
);
