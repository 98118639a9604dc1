import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { AlertEngine } from './alerts/alert-engine.ts';
import { buildLorawanBridges } from './bridges/lorawan/bridges-from-config.ts';
import { CityCalendar } from './core/city-calendar.ts';
import { type Clock, systemClock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import { lockDataDir } from './core/instance-lock.ts';
import type { Logger } from './core/logger.ts';
import { PlatformEvents } from './core/platform-events.ts';
import type { SeriesStore, WriteOutcome } from './core/ports/series-store.ts';
import { createTelemetry, type Telemetry } from './core/telemetry.ts';
import { ApiKeyStore } from './dashboards/http/api-key-store.ts';
import { buildHttpApp } from './dashboards/http/build-http-app.ts';
import { KindCatalogue } from './devices/kind-catalogue.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { buildGateway, type Gateway } from './gateway/build-gateway.ts';
import type { GatewayListeners } from './gateway/listeners.ts';
import { IngestService } from './ingest/ingest-service.ts';
import type { MigrationProgress } from './ingest/log-schema.ts';
import { openSeriesStore } from './ingest/store/open-series-store.ts';
import { buildKpis } from './metrics/build-kpis.ts';
import { buildReportPacks } from './metrics/report-pack/build-report-packs.ts';
import {
  assembleTracked,
  type Closable,
  closeHttp,
  createHttpServer,
  listenHttp,
  listenMqtt,
  mqttUrlOf,
  tlsOf,
} from './platform-listen.ts';

/** How often the series store drops what its retention has expired. */
export const RETENTION_INTERVAL_MS = 3_600_000;

export interface PlatformDeps {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Progress of a database migration at start (the durable log's takes seconds for millions of rows). */
  onMigrationProgress?: MigrationProgress;
}

export interface PlatformAddresses {
  httpPort: number;
  mqttPort: number;
  mqttWsPort: number | null;
  /** null unless MQTT over TLS is configured */
  mqttTlsPort: number | null;
  httpUrl: string;
  mqttUrl: string;
}

/**
 * Watches series-store writes: `failing` while the last write failed. SQLite keeps answering health()
 * ok while its file is locked or the disk is full; readiness must show the outage all the same.
 */
export function watchStore<S extends SeriesStore>(store: S): { store: S; failing(): boolean } {
  let failing = false;
  const watch = (writing: Promise<WriteOutcome>): Promise<WriteOutcome> =>
    writing.then(
      (outcome) => {
        failing = false;
        return outcome;
      },
      (err: unknown) => {
        failing = true;
        throw err;
      },
    );
  const write: SeriesStore['write'] = (points) => watch(store.write(points));
  const writePacked = store.writePacked?.bind(store);
  const watchedPacked: SeriesStore['writePacked'] =
    writePacked === undefined ? undefined : (packed) => watch(writePacked(packed));
  // Everything but the writes reaches the store itself (methods bound to it: its state stays its own).
  const watched = new Proxy(store, {
    get(target, prop) {
      if (prop === 'write') return write;
      if (prop === 'writePacked') return watchedPacked;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: watched, failing: () => failing };
}

export function buildPlatform(deps: PlatformDeps) {
  return assembleTracked((track) => assemblePlatform(deps, track));
}

async function assemblePlatform(deps: PlatformDeps, track: <T extends Closable>(part: T) => T) {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  // Taken before any database opens: a second process on these files must not replay the log too.
  const lock = track(lockDataDir(config.dataDir));
  const telemetry: Telemetry = createTelemetry();
  const events = new PlatformEvents();
  const calendar = new CityCalendar(config.cityTimezone);
  const kinds = new KindCatalogue();

  const registry = track(DeviceRegistry.open({ dataDir: config.dataDir, kinds, clock, logger }));
  const apiKeys = track(ApiKeyStore.open({ dataDir: config.dataDir, clock, logger }));
  const store = track(await openSeriesStore({ config, calendar, clock, logger, telemetry }));
  const storeWatch = watchStore(store);
  const ingest = track(
    await IngestService.open(
      {
        config,
        directory: registry,
        store: storeWatch.store,
        events,
        telemetry,
        logger,
        clock,
      },
      { onMigrationProgress: deps.onMigrationProgress },
    ),
  );
  const gateway: Gateway = track(
    await buildGateway({ config, directory: registry, ingest, telemetry, events, logger, clock }),
  );
  // LoRaWAN network servers (CHIRPSTACK_MQTT_URL, TTS_MQTT_URL): uplinks into the same ingest and rate.
  const bridges = buildLorawanBridges(
    { sink: ingest, devices: registry, rate: gateway.rateLimiter, logger },
    config,
  );

  // Retention (RETENTION_*_DAYS): the series store drops expired raw points and roll-ups once an hour, on
  // the platform's clock (unref'd on the real one: it never keeps a stopped process alive).
  const retentionTimer = clock.setInterval(() => {
    store.prune(clock.now()).then(
      (removed) => removed > 0 && logger.info({ removed }, 'retention: expired series data removed'),
      (err: unknown) => logger.error({ err }, 'retention: prune failed'),
    );
  }, RETENTION_INTERVAL_MS);

  let listeners: GatewayListeners | null = null;
  let httpServer: Server | null = null;
  let live: { close(): Promise<void> } | null = null;
  let stopping: Promise<void> | null = null;
  let started = false;

  const readiness = () => {
    const storeHealth = store.health();
    const checks = {
      listening: started && listeners !== null,
      store: storeHealth.ok && !storeWatch.failing(),
      accepting: stopping === null,
      // Past the backlog bound acknowledgements wait: the platform is up but slowed by its store.
      backlog: ingest.stats().backlog <= config.ingestMaxBacklogValues,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };

  // Alert rules engine (alerts/): evaluates on ingest events, state in <dataDir>/alerts.db.
  const alerts = track(
    await AlertEngine.open({
      dataDir: config.dataDir,
      cityName: config.cityName,
      events,
      registry,
      kinds,
      ingest,
      clock,
      logger,
    }),
  );

  // KPI engine (metrics): continuous values, manual inputs, month close; state in <dataDir>/kpi.db.
  const kpis = track(
    buildKpis({ config, store, devices: registry, ingest, calendar, events, clock, logger }),
  );

  // Monthly report packs (REPORT_DIR, REPORT_WEBHOOK_URL): built as months close, record in <dataDir>/reports.db.
  const reports = track(buildReportPacks({ config, kpis, events, clock, logger }));

  const { app, attachLive, routes } = buildHttpApp({
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
    deviceIngest: { sink: ingest, rate: gateway.rateLimiter },
    alerts,
    kpis: kpis.service,
    reports,
    mqttListening: () => listeners,
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
    bridges,
    alerts,
    kpis,
    reports,
    app,
    /** Every HTTP route as declared (path, method, access): the security matrix is derived from it. */
    routes,

    async start(): Promise<PlatformAddresses> {
      // listening before the scheduler's first close, so no close goes unpacked
      await reports.start();
      await kpis.start();
      const tls = tlsOf(config);
      listeners = await listenMqtt(gateway, config, tls.mqtt);
      httpServer = createHttpServer(app, tls.http);
      live = attachLive(httpServer);
      const http = await listenHttp(httpServer, config);
      for (const bridge of bridges) bridge.start();
      started = true;
      return {
        httpPort: http.port,
        mqttPort: listeners.tcpPort,
        mqttWsPort: listeners.wsPort,
        mqttTlsPort: listeners.tlsPort,
        httpUrl: http.url,
        mqttUrl: mqttUrlOf(config, listeners.tcpPort),
      };
    },

    /**
     * Graceful stop: no new messages, everything acknowledged flushed, databases closed, the data directory
     * released. Idempotent; also the way out of a start() that failed (a port in use).
     */
    stop(): Promise<void> {
      stopping ??= (async () => {
        retentionTimer.cancel();
        await gateway.close();
        await Promise.all(bridges.map((b) => b.close()));
        await listeners?.close();
        const { unsaved } = await ingest.close();
        if (unsaved > 0)
          logger.error({ unsaved }, 'values could not be saved at shutdown (they stay in the durable log)');
        await live?.close();
        await alerts.close();
        // before kpi.db closes: a pack being built reads its roll-up
        await reports.close();
        await kpis.close();
        await closeHttp(httpServer);
        await store.close();
        registry.close();
        apiKeys.close();
        lock.close();
      })();
      return stopping;
    },
  };
}

export type Platform = Awaited<ReturnType<typeof buildPlatform>>;
