import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CityCalendar } from './core/city-calendar.ts';
import { type Clock, systemClock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import type { Logger } from './core/logger.ts';
import { PlatformEvents } from './core/platform-events.ts';
import { createTelemetry, type Telemetry } from './core/telemetry.ts';
import { ApiKeyStore } from './dashboards/http/api-key-store.ts';
import { buildHttpApp } from './dashboards/http/build-http-app.ts';
import { KindCatalogue } from './devices/kind-catalogue.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { buildGateway, type Gateway } from './gateway/build-gateway.ts';
import { type GatewayListeners, listenGateway } from './gateway/listeners.ts';
import { IngestService } from './ingest/ingest-service.ts';
import { SqliteSeriesStore } from './ingest/store/sqlite-series-store.ts';

export interface PlatformDeps {
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export interface PlatformAddresses {
  httpPort: number;
  mqttPort: number;
  mqttWsPort: number | null;
  httpUrl: string;
  mqttUrl: string;
}

/**
 * The composition root: every part built and wired in one process (DESIGN.md, "Data flow"). `buildPlatform`
 * opens the databases and builds the parts; `start()` listens; `stop()` drains and closes in dependency
 * order (stop taking messages → flush ingest → close stores).
 */
export async function buildPlatform(deps: PlatformDeps) {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const telemetry: Telemetry = createTelemetry();
  const events = new PlatformEvents();
  const calendar = new CityCalendar(config.cityTimezone);
  const kinds = new KindCatalogue();

  const registry = DeviceRegistry.open({ dataDir: config.dataDir, kinds, clock, logger });
  const apiKeys = ApiKeyStore.open({ dataDir: config.dataDir, clock, logger });
  const store = SqliteSeriesStore.open({
    file: join(config.dataDir, 'series.db'),
    calendar,
    retention: {
      rawDays: config.retentionRawDays,
      minuteDays: config.retentionMinuteDays,
      hourDays: config.retentionHourDays,
      dayDays: config.retentionDayDays,
    },
    logger,
  });
  const ingest = await IngestService.open({
    config,
    directory: registry,
    store,
    events,
    telemetry,
    logger,
    clock,
  });
  const gateway: Gateway = await buildGateway({
    config,
    directory: registry,
    ingest,
    telemetry,
    events,
    logger,
    clock,
  });

  let listeners: GatewayListeners | null = null;
  let httpServer: Server | null = null;
  let live: { close(): Promise<void> } | null = null;
  let stopping: Promise<void> | null = null;
  let started = false;

  const readiness = () => {
    const storeHealth = store.health();
    const checks = {
      listening: started && listeners !== null,
      store: storeHealth.ok,
      accepting: stopping === null,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  const { app, attachLive } = buildHttpApp({
    config,
    registry,
    kinds,
    store,
    ingest,
    telemetry,
    events,
    apiKeys,
    logger,
    clock,
    readiness,
  });

  return {
    config,
    clock,
    telemetry,
    events,
    calendar,
    kinds,
    registry,
    apiKeys,
    store,
    ingest,
    gateway,
    app,

    async start(): Promise<PlatformAddresses> {
      listeners = await listenGateway(gateway, {
        host: config.mqttHost,
        tcpPort: config.mqttPort,
        wsPort: config.mqttWsPort,
        maxConnections: config.mqttMaxConnections,
        maxPayloadBytes: config.mqttMaxPayloadBytes,
      });
      httpServer = createServer(app);
      live = attachLive(httpServer);
      const server = httpServer;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.httpPort, config.httpHost, () => resolve());
      });
      started = true;
      const httpPort = (server.address() as AddressInfo).port;
      const host = config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost;
      return {
        httpPort,
        mqttPort: listeners.tcpPort,
        mqttWsPort: listeners.wsPort,
        httpUrl: `http://${host}:${httpPort}`,
        mqttUrl: `mqtt://${config.mqttHost === '0.0.0.0' ? 'localhost' : config.mqttHost}:${listeners.tcpPort}`,
      };
    },

    /** Graceful stop: no new messages, everything acknowledged flushed, databases closed. Idempotent. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        await gateway.close();
        await listeners?.close();
        const { unsaved } = await ingest.close();
        if (unsaved > 0)
          logger.error({ unsaved }, 'values could not be saved at shutdown (they stay in the durable log)');
        await live?.close();
        if (httpServer !== null) {
          httpServer.closeAllConnections();
          await new Promise<void>((r) => httpServer!.close(() => r()));
        }
        await store.close();
        registry.close();
        apiKeys.close();
      })();
      return stopping;
    },
  };
}

export type Platform = Awaited<ReturnType<typeof buildPlatform>>;
