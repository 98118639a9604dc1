import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { AlertEngine, type AlertEngineOptions } from '../../alerts/alert-engine.ts';
import type { Alert } from '../../alerts/alert-types.ts';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { PlatformEvents } from '../../core/platform-events.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { IngestService, type IngestServiceOptions } from '../../ingest/ingest-service.ts';
import { SqliteSeriesStore } from '../../ingest/store/sqlite-series-store.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';

/**
 * The alert engine on real parts (registry, ingest, SQLite series store, alerts.db in a temp dir) with a
 * ManualClock; readings go through ingest as a device's would. Each test file closes what it opened with
 * `closeAlertHarnesses()` in its afterEach.
 */
export const T0 = Date.UTC(2026, 10, 12, 8, 0, 0);
export const MIN = 60_000;
export const AIR = 'air-quality-station';
const logger = silentLogger();

export interface Harness {
  dir: TempDir;
  clock: ManualClock;
  events: PlatformEvents;
  kinds: KindCatalogue;
  registry: DeviceRegistry;
  store: SqliteSeriesStore;
  ingest: IngestService;
  engine: AlertEngine;
  changes: Alert[];
  device(district?: string): Promise<string>;
  send(deviceId: string, ts: number, values: Record<string, number>): Promise<void>;
  reopenEngine(): Promise<void>;
  close(): Promise<void>;
}

const open: Harness[] = [];
const servers: Server[] = [];

export async function closeAlertHarnesses(): Promise<void> {
  for (const h of open.splice(0)) await h.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
}

/** `engineOptions.checkIntervalMs` defaults to 0 here: tests call tick() unless they time it on the clock. */
export async function setup(
  ingestOptions: IngestServiceOptions = {},
  engineOptions: AlertEngineOptions = {},
): Promise<Harness> {
  const dir = makeTempDir('cm-alerts-');
  const clock = new ManualClock(T0);
  // Each message commits as it comes: the group commit's timer runs on the manual clock, which does not
  // move while a test waits for an acknowledgement.
  const config = testConfig({ dataDir: dir.path, logFlushMaxValues: 1 });
  const kinds = new KindCatalogue();
  const registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger, scryptCost: 1024 });
  const store = SqliteSeriesStore.open({
    file: dir.file('series.db'),
    calendar: new CityCalendar('UTC'),
    retention: { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays: 3660 },
    logger,
    clock,
  });
  const events = new PlatformEvents();
  const ingest = await IngestService.open(
    { config, directory: registry, store, events, telemetry: createTelemetry(), logger, clock },
    { pruneIntervalMs: 0, ...ingestOptions },
  );
  const makeEngine = async () => {
    const engine = await AlertEngine.open(
      { dataDir: dir.path, cityName: 'Test City', events, registry, kinds, ingest, clock, logger },
      { checkIntervalMs: 0, webhook: { timeoutMs: 2_000 }, ...engineOptions },
    );
    engine.onChange((a) => h.changes.push(a));
    return engine;
  };
  const h: Harness = {
    dir,
    clock,
    events,
    kinds,
    registry,
    store,
    ingest,
    engine: undefined as unknown as AlertEngine,
    changes: [],
    async device(district = 'Old Town') {
      // installed an hour before T0: the tests send readings stamped minutes before it
      return (await registry.provision({ kind: AIR, district, installedAt: T0 - 3_600_000 })).device.id;
    },
    async send(deviceId, ts, values) {
      const result = await ingest.submit(deviceId, 'telemetry', Buffer.from(JSON.stringify({ ts, values })));
      expect(result.ok).toBe(true);
    },
    async reopenEngine() {
      await h.engine.close();
      h.engine = await makeEngine();
    },
    async close() {
      await h.engine.close();
      await ingest.close();
      await store.close();
      registry.close();
      dir.remove();
    },
  };
  h.engine = await makeEngine();
  open.push(h);
  return h;
}

/** A webhook receiver on an ephemeral port; resolves each body in arrival order. */
export async function webhookReceiver(): Promise<{
  url: string;
  next(): Promise<{ event: string; alert: Alert }>;
}> {
  const queue: Array<{ event: string; alert: Alert }> = [];
  const waiting: Array<(b: { event: string; alert: Alert }) => void> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.end('ok');
      const parsed = JSON.parse(body) as { event: string; alert: Alert };
      const w = waiting.shift();
      if (w) w(parsed);
      else queue.push(parsed);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    next: () => {
      const ready = queue.shift();
      return ready ? Promise.resolve(ready) : new Promise((r) => waiting.push(r));
    },
  };
}
