import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CityCalendar } from './core/city-calendar.ts';
import { type Clock, systemClock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import { CityError } from './core/errors.ts';
import { lockDataDir } from './core/instance-lock.ts';
import { listenError } from './core/listen-error.ts';
import type { Logger } from './core/logger.ts';
import { PlatformEvents } from './core/platform-events.ts';
import type { SeriesStore, WriteOutcome } from './core/ports/series-store.ts';
import { createTelemetry, type Telemetry } from './core/telemetry.ts';
import { AlertEngine } from './dashboards/alerts/alert-engine.ts';
import { ApiKeyStore } from './dashboards/http/api-key-store.ts';
import { buildHttpApp } from './dashboards/http/build-http-app.ts';
import { KindCatalogue } from './devices/kind-catalogue.ts';
import { DeviceRegistry } from './devices/registry.ts';
import { buildGateway, type Gateway } from './gateway/build-gateway.ts';
import { type GatewayListeners, listenGateway } from './gateway/listeners.ts';
import { IngestService } from './ingest/ingest-service.ts';
import { openSeriesStore } from './ingest/store/open-series-store.ts';
import { buildKpis } from './metrics/build-kpis.ts';

export interface PlatformDeps {
  config: Config;
  logger: Logger;
  clock?: Clock;
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

/** Reads a PEM file named in the config; a missing or unreadable file is a configuration error at start. */
function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CityError('CONFIG_INVALID', `${key}: cannot read ${file}: ${(err as Error).message}`, {
      field: key,
      cause: err,
    });
  }
}

/** The PEM pair of a listener, or null when neither file is set; one without the other is an error. */
function tlsPair(
  cert: string | undefined,
  key: string | undefined,
  names: [string, string],
): { cert: Buffer; key: Buffer } | null {
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined)
    throw new CityError('CONFIG_INVALID', `${names[0]} and ${names[1]} must be set together`, {
      field: cert === undefined ? names[0] : names[1],
    });
  return { cert: readPem(cert, names[0]), key: readPem(key, names[1]) };
}

/**
 * Watches series-store writes: `failing` while the last write failed. SQLite keeps answering health()
 * ok while its file is locked or the disk is full; readiness must show the outage all the same.
 */
function watchStore<S extends SeriesStore>(store: S): { store: S; failing(): boolean } {
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

export async function buildPlatform(deps: PlatformDeps) {
  const opened: Closable[] = [];
  try {
    return await assemblePlatform(deps, (part) => {
      opened.push(part);
      return part;
    });
  } catch (err) {
    // A part failed to open (a damaged file, a port in use...): release what was already opened, newest
    // first, so that an embedding process (tests, a supervisor) is not left holding database handles.
    for (const part of opened.reverse()) await Promise.resolve(part.close()).catch(() => {});
    throw err;
  }
}

interface Closable {
  close(): unknown;
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
    await IngestService.open({
      config,
      directory: registry,
      store: storeWatch.store,
      events,
      telemetry,
      logger,
      clock,
    }),
  );
  const gateway: Gateway = track(
    await buildGateway({ config, directory: registry, ingest, telemetry, events, logger, clock }),
  );

  // Retention (RETENTION_*_DAYS): the series store drops expired raw points and roll-ups once an hour.
  const retentionTimer = setInterval(() => {
    store.prune(clock.now()).then(
      (removed) => removed > 0 && logger.info({ removed }, 'retention: expired series data removed'),
      (err: unknown) => logger.error({ err }, 'retention: prune failed'),
    );
  }, 3_600_000);
  retentionTimer.unref();

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

  // Alert rules engine (dashboards/alerts): evaluates on ingest events, state in <dataDir>/alerts.db.
  const alerts = track(
    AlertEngine.open({
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
    alerts,
    kpis,
    app,
    /** Every HTTP route as declared (path, method, access): the security matrix is derived from it. */
    routes,

    async start(): Promise<PlatformAddresses> {
      await kpis.start();
      // Read before anything listens: a bad path fails the start, it never falls back to plain text.
      const mqttTls = tlsPair(config.mqttTlsCertFile, config.mqttTlsKeyFile, [
        'MQTT_TLS_CERT_FILE',
        'MQTT_TLS_KEY_FILE',
      ]);
      const httpTls = tlsPair(config.httpTlsCertFile, config.httpTlsKeyFile, [
        'HTTP_TLS_CERT_FILE',
        'HTTP_TLS_KEY_FILE',
      ]);
      listeners = await listenGateway(gateway, {
        host: config.mqttHost,
        tcpPort: config.mqttPort,
        wsPort: config.mqttWsPort,
        maxConnections: config.mqttMaxConnections,
        maxPayloadBytes: config.mqttMaxPayloadBytes,
        handshakeTimeoutMs: config.mqttConnectTimeoutMs,
        tls: mqttTls === null ? null : { port: config.mqttTlsPort, ...mqttTls },
      }).catch((err: unknown) => {
        const port = (err as { port?: number }).port;
        const setting =
          port === config.mqttWsPort
            ? 'MQTT_WS_PORT'
            : mqttTls !== null && port === config.mqttTlsPort
              ? 'MQTT_TLS_PORT'
              : 'MQTT_PORT';
        throw listenError(err, setting, 'MQTT_HOST');
      });
      const https = httpTls !== null;
      httpServer = https ? createHttpsServer({ ...httpTls, minVersion: 'TLSv1.2' }, app) : createServer(app);
      // Slow-loris on the API: headers must arrive within 10 s, a whole request within 30 s.
      httpServer.headersTimeout = 10_000;
      httpServer.requestTimeout = 30_000;
      live = attachLive(httpServer);
      const server = httpServer;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(listenError(err, 'HTTP_PORT', 'HTTP_HOST')));
        server.listen(config.httpPort, config.httpHost, () => resolve());
      });
      started = true;
      const httpPort = (server.address() as AddressInfo).port;
      const host = config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost;
      return {
        httpPort,
        mqttPort: listeners.tcpPort,
        mqttWsPort: listeners.wsPort,
        mqttTlsPort: listeners.tlsPort,
        httpUrl: `${https ? 'https' : 'http'}://${host}:${httpPort}`,
        mqttUrl: `mqtt://${config.mqttHost === '0.0.0.0' ? 'localhost' : config.mqttHost}:${listeners.tcpPort}`,
      };
    },

    /**
     * Graceful stop: no new messages, everything acknowledged flushed, databases closed, the data directory
     * released. Idempotent; also the way out of a start() that failed (a port in use).
     */
    stop(): Promise<void> {
      stopping ??= (async () => {
        clearInterval(retentionTimer);
        await gateway.close();
        await listeners?.close();
        const { unsaved } = await ingest.close();
        if (unsaved > 0)
          logger.error({ unsaved }, 'values could not be saved at shutdown (they stay in the durable log)');
        await live?.close();
        await alerts.close();
        await kpis.close();
        if (httpServer !== null) {
          httpServer.closeAllConnections();
          await new Promise<void>((r) => httpServer!.close(() => r()));
        }
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
