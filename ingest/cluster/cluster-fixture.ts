import { connect, type NatsConnection } from 'nats';
import { ManualClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { PlatformEvents } from '../../core/platform-events.ts';
import type { SeriesStore } from '../../core/ports/series-store.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { admissionRulesOf } from '../admit.ts';
import { buildJetStreamIngestSink, type JetStreamIngestSink } from './jetstream-ingest-sink.ts';
import { jetStreamLogOptions } from './log-options.ts';

/** Test helpers for the JetStream log: a registry with devices, an edge sink, readings payloads. */

export const T0 = Date.UTC(2026, 2, 15, 12, 0, 0);
export const AIR = 'air-quality-station';
/** The devices were installed a month before T0: the readings, stamped before T0, fall inside. */
export const INSTALLED = T0 - 31 * 86_400_000;

/** One reading of two values; `i` makes it distinct (ts) and `value` overrides both values (a revision). */
export const reading = (i: number, value: number = i): Buffer =>
  Buffer.from(JSON.stringify({ ts: T0 - (i + 1) * 1000, values: { pm25: value, pm10: value } }));

let made = 0;
/** Stream and subjects of their own per test, on a shared server, with `shards` and `replicas`. */
export const testLog = (replicas = 1, shards = 4) => {
  const n = `${process.pid}_${++made}`;
  return jetStreamLogOptions({
    stream: `T${n}`,
    subjectPrefix: `t${n}`,
    shards,
    replicas,
    duplicateWindowMs: 120_000,
  });
};

/** A connection that keeps reconnecting (a server restart is part of the tests), closed by the caller. */
export const connectNats = (servers: string[]): Promise<NatsConnection> =>
  connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100, timeout: 5_000 });

export interface EdgeFixture {
  dir: TempDir;
  clock: ManualClock;
  registry: DeviceRegistry;
  sink: JetStreamIngestSink;
  events: PlatformEvents;
  devices(n: number): Promise<string[]>;
  close(): Promise<void>;
}

export function edgeFixture(
  nc: NatsConnection,
  log: ReturnType<typeof testLog>,
  extra: { publishTimeoutMs?: number } = {},
): EdgeFixture {
  const dir = makeTempDir('cm-cluster-');
  const clock = new ManualClock(T0);
  const logger = silentLogger();
  const registry = DeviceRegistry.open({
    dataDir: dir.path,
    kinds: new KindCatalogue(),
    clock,
    logger,
    scryptCost: 1024,
  });
  const events = new PlatformEvents();
  const sink = buildJetStreamIngestSink(
    { nc, directory: registry, events, telemetry: createTelemetry(), logger, clock },
    { log, rules: admissionRulesOf(testConfig({ dataDir: dir.path })), ...extra },
  );
  return {
    dir,
    clock,
    registry,
    sink,
    events,
    async devices(n) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++)
        ids.push(
          (
            await registry.provision({
              kind: AIR,
              district: `D${i % 3}`,
              attributes: {},
              installedAt: INSTALLED,
            })
          ).device.id,
        );
      return ids;
    },
    async close() {
      await sink.close();
      registry.close();
      dir.remove();
    },
  };
}

/** Points of one metric in the store, city-wide, over the readings' range. */
export async function pointCount(store: SeriesStore, metric = 'pm25'): Promise<number> {
  const bucket = await store.aggregate({ scope: { city: true }, metric, from: T0 - 86_400_000, to: T0 + 1 });
  return bucket?.count ?? 0;
}

/** Polls until `check` holds (bounded: throws after `timeoutMs`, naming what it waited for). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
