import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { PostgresAlertRecords } from '../alerts/postgres-alert-records.ts';
import { buildLorawanBridges } from '../bridges/lorawan/bridges-from-config.ts';
import type { LorawanBridge } from '../bridges/lorawan/lorawan-bridge.ts';
import { CityCalendar } from '../core/city-calendar.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { type ClusterRole, roleList } from '../core/config-cluster.ts';
import { shareGroupOf } from '../core/config-lorawan.ts';
import { lockDataDir } from '../core/instance-lock.ts';
import type { Logger } from '../core/logger.ts';
import { PlatformEvents } from '../core/platform-events.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { ApiKeyStore } from '../dashboards/http/api-key-store.ts';
import { buildHttpApp } from '../dashboards/http/build-http-app.ts';
import type { IngestStatsSource } from '../dashboards/http/http-deps.ts';
import { PostgresApiKeyStore } from '../dashboards/http/postgres-api-key-store.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { PostgresRegistryStore } from '../devices/postgres-registry-store.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { buildGateway, type Gateway } from '../gateway/build-gateway.ts';
import type { GatewayListeners } from '../gateway/listeners.ts';
import { DeviceRateLimiter } from '../gateway/rate-limiter.ts';
import { admissionRulesOf } from '../ingest/admit.ts';
import { EventMirror } from '../ingest/cluster/event-mirror.ts';
import { JetStreamEventWriter } from '../ingest/cluster/jetstream-event-writer.ts';
import {
  buildJetStreamIngestSink,
  type JetStreamIngestSink,
} from '../ingest/cluster/jetstream-ingest-sink.ts';
import { buildJetStreamWriter, type JetStreamWriter } from '../ingest/cluster/jetstream-writer.ts';
import { jetStreamLogOptions } from '../ingest/cluster/log-options.ts';
import { logUnavailable } from '../ingest/cluster/nats-errors.ts';
import { PostgresDeviceEvents } from '../ingest/cluster/postgres-device-events.ts';
import { ensureReadingsStream } from '../ingest/cluster/readings-stream.ts';
import { DeviceCounters } from '../ingest/device-counters.ts';
import { openSeriesStore } from '../ingest/store/open-series-store.ts';
import { buildKpis } from '../metrics/build-kpis.ts';
import { KpiStore } from '../metrics/kpi-store.ts';
import { PostgresKpiRecords } from '../metrics/postgres-kpi-records.ts';
import { reportTargetsOf } from '../metrics/report-pack/build-report-packs.ts';
import { PostgresReportRecords } from '../metrics/report-pack/postgres-report-records.ts';
import {
  assembleTracked,
  type Closable,
  closeHttp,
  createHttpServer,
  listenHttp,
  listenMqtt,
  mqttUrlOf,
  tlsOf,
} from '../platform-listen.ts';
import { RemoteAlerts } from './alerts-link.ts';
import { openNatsLink, openPgProbe, postgresStartError } from './cluster-links.ts';
import { publishDeviceStatus } from './device-status-link.ts';
import { buildKpiRole } from './kpi-role.ts';
import { buildLiveRelay } from './live-relay.ts';
import { parseNatsServers } from './nats-servers.ts';
import { countAcceptedPerDevice } from './relayed-counters.ts';
import { RemoteReports } from './reports-link.ts';
import { type RoleReadiness, roleHttpHandler } from './role-http.ts';

export interface RolesDeps {
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export interface RolesAddresses {
  roles: ClusterRole[];
  httpPort: number;
  httpUrl: string;
  /** null without the edge role */
  mqttPort: number | null;
  mqttUrl: string | null;
}

/**
 * Cluster mode: the roles named by ROLES (or `start --roles`) in one process, on NATS JetStream and
 * PostgreSQL (docs/cluster.md, "Roles"). Every server is reached before anything listens: NATS or
 * PostgreSQL unreachable, or a stream made with other settings, fails the build with a coded error and
 * closes what was opened. Nothing listens until start().
 */
export function buildRoles(deps: RolesDeps) {
  return assembleTracked((track) => assembleRoles(deps, track));
}

async function assembleRoles(deps: RolesDeps, track: <T extends Closable>(part: T) => T) {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const roles = roleList(config.roles) as ClusterRole[];
  const has = (r: ClusterRole) => roles.includes(r);
  const logger = deps.logger.child({ roles: roles.join(',') });
  // loadConfig refuses a role without POSTGRES_URL and NATS_URL.
  const pgUrl = config.postgresUrl ?? '';
  // Names this process in what it publishes, so that its own live relay skips what it announced already.
  const origin = randomUUID();
  const telemetry = createTelemetry();
  const events = new PlatformEvents();
  const calendar = new CityCalendar(config.cityTimezone);
  const kinds = new KindCatalogue();
  const log = jetStreamLogOptions({
    stream: config.jetstreamStream,
    subjectPrefix: config.jetstreamSubjectPrefix,
    shards: config.jetstreamShards,
    replicas: config.jetstreamReplicas,
    duplicateWindowMs: config.jetstreamDuplicateWindowMs,
    maxAgeMs: config.jetstreamMaxAgeMs,
  });

  // The kpi role keeps its KPI store in DATA_DIR (SQLite): one process per directory, as in single mode.
  if (has('kpi')) mkdirSync(config.dataDir, { recursive: true });
  const lock = has('kpi') ? track(lockDataDir(config.dataDir)) : null;
  const probe = track(await openPgProbe(pgUrl, logger));
  const nats = track(await openNatsLink(config, logger, `citymetrics ${roles.join(',')}`));
  let streamChecked = false;
  if (has('edge') || has('api')) {
    const jsm = await nats.nc.jetstreamManager().catch((err: unknown) => {
      throw logUnavailable(
        err,
        `NATS_URL ${parseNatsServers(config.natsUrl ?? '').shown}: JetStream (is nats-server started with -js?)`,
      );
    });
    await ensureReadingsStream(jsm, log);
    streamChecked = true;
  }

  const openPg = async <T>(what: string, open: () => Promise<T>): Promise<T> => {
    try {
      return await open();
    } catch (err) {
      throw postgresStartError(err, pgUrl, what);
    }
  };
  const registry =
    has('edge') || has('api') || has('kpi')
      ? track(
          await DeviceRegistry.openOn(
            await openPg('device registry', () => PostgresRegistryStore.open({ url: pgUrl, logger })),
            { kinds, clock, logger },
          ),
        )
      : null;
  const apiKeys = has('api')
    ? track(
        ApiKeyStore.openOn(await openPg('API keys', () => PostgresApiKeyStore.open({ url: pgUrl, logger })), {
          clock,
          logger,
        }),
      )
    : null;
  const store =
    has('writer') || has('api') || has('kpi')
      ? track(await openSeriesStore({ config, calendar, clock, logger, telemetry }))
      : null;
  const kpiStore =
    has('kpi') || has('api')
      ? track(
          await KpiStore.openOn(
            await openPg('KPI records', () => PostgresKpiRecords.open({ url: pgUrl, logger })),
            logger,
          ),
        )
      : null;

  let sink: JetStreamIngestSink | null = null;
  if (registry !== null && (has('edge') || has('api')))
    sink = track(
      buildJetStreamIngestSink(
        { nc: nats.nc, directory: registry, events, telemetry, logger, clock },
        { log, rules: admissionRulesOf(config), publishTimeoutMs: config.edgePublishTimeoutMs, origin },
      ),
    );
  const gateway: Gateway | null =
    has('edge') && registry !== null && sink !== null
      ? track(
          await buildGateway({ config, directory: registry, ingest: sink, telemetry, events, logger, clock }),
        )
      : null;
  // LoRaWAN network servers: uplinks into the edge's JetStream sink and rate limiter, PUBACKed once
  // JetStream acknowledged. The edges split them through one shared subscription; an uplink delivered
  // twice (an edge that died before its PUBACK) carries the same message id and is logged once.
  const shareGroup = shareGroupOf(config.lorawanShareGroup);
  const bridges: LorawanBridge[] =
    gateway !== null && registry !== null && sink !== null
      ? buildLorawanBridges(
          { sink, devices: registry, rate: gateway.rateLimiter, logger },
          config,
          shareGroup === undefined ? {} : { shareGroup },
        )
      : [];
  // The session keeps the subscription once granted (clean=false): granted once is subscribed for good.
  const subscribedBridges = new Set<LorawanBridge>();
  for (const b of bridges) void b.subscribed().then(() => subscribedBridges.add(b));
  const shards = roleList(config.writerShards).map(Number);
  // The writers also store device events from the log, for the kpi and api nodes' event-based KPIs.
  const eventWriter = has('writer')
    ? new JetStreamEventWriter(
        {
          nc: nats.nc,
          events: track(
            await openPg('device events', () => PostgresDeviceEvents.open({ url: pgUrl, logger })),
          ),
          logger,
        },
        { log, consumer: `${config.writerConsumer}-events` },
      )
    : null;
  const writer: JetStreamWriter | null =
    has('writer') && store !== null
      ? buildJetStreamWriter(
          { nc: nats.nc, store, logger, telemetry, events },
          { log, consumer: config.writerConsumer, ...(shards.length > 0 ? { shards } : {}) },
        )
      : null;
  const eventMirror =
    has('kpi') || has('api')
      ? track(await openPg('device events', () => EventMirror.open({ url: pgUrl, logger })))
      : null;
  // The live page and the KPI engine hear every edge through the relay, on a connection of its own. A kpi
  // node without the api role subscribes only while it leads.
  const relayLink =
    has('api') || has('kpi') ? track(await openNatsLink(config, logger, `citymetrics live relay`)) : null;
  const relay =
    relayLink !== null
      ? buildLiveRelay(
          { nc: relayLink.nc, events, telemetry, logger },
          { subjectPrefix: log.subjectPrefix, origin },
        )
      : null;
  const relayOnLead = has('api') ? undefined : (relay ?? undefined);
  const kpi =
    has('kpi') && store !== null && registry !== null && kpiStore !== null && eventMirror !== null
      ? track(
          buildKpiRole({
            config,
            store,
            registry,
            kinds,
            nc: nats.nc,
            subjectPrefix: log.subjectPrefix,
            kpiStore,
            deviceEvents: eventMirror,
            ...(relayOnLead !== undefined ? { relay: relayOnLead } : {}),
            calendar,
            events,
            clock,
            logger,
          }),
        )
      : null;
  // The api nodes compute the running values themselves, from the shared series and KPI records, to
  // answer without asking the leader; months are closed by the kpi leader alone.
  const apiKpis =
    has('api') && store !== null && registry !== null && kpiStore !== null && eventMirror !== null
      ? track(
          buildKpis(
            {
              config,
              store,
              devices: registry,
              kpiStore,
              ingest: eventMirror,
              calendar,
              events,
              clock,
              logger,
            },
            { scheduleCloses: false },
          ),
        )
      : null;
  // The api nodes list alerts from PostgreSQL and change them through the kpi leader's engine.
  const alertRecords = has('api')
    ? track(await openPg('alerts', () => PostgresAlertRecords.open({ url: pgUrl, logger })))
    : null;
  const remoteAlerts =
    alertRecords !== null
      ? track(
          new RemoteAlerts(
            { nc: nats.nc, records: alertRecords, logger },
            { subjectPrefix: log.subjectPrefix },
          ),
        )
      : null;
  // The api nodes list report packs from PostgreSQL and ask the kpi leader for a send on demand.
  const reportRecords = has('api')
    ? track(
        await openPg('report packs', () =>
          PostgresReportRecords.open({ url: pgUrl, logger, now: clock.now() }),
        ),
      )
    : null;
  const remoteReports =
    reportRecords !== null && kpiStore !== null
      ? new RemoteReports(
          {
            nc: nats.nc,
            records: reportRecords,
            latestVersion: (month) => kpiStore.latestRollup(month)?.version ?? null,
            targets: reportTargetsOf(config, clock).map((t) => ({
              kind: t.kind,
              destination: t.destination,
            })),
          },
          { subjectPrefix: log.subjectPrefix },
        )
      : null;
  const stopStatus =
    gateway !== null
      ? publishDeviceStatus({ nc: nats.nc, events, logger }, { subjectPrefix: log.subjectPrefix, origin })
      : null;

  let listeners: GatewayListeners | null = null;
  let httpServer: Server | null = null;
  let live: { close(): Promise<void> } | null = null;
  let stopping: Promise<void> | null = null;
  let started = false;

  // An edge alone serves from its in-memory registry and logs to JetStream: PostgreSQL gone, it keeps
  // authenticating and acknowledging (it misses registry changes until the feed is back, then re-reads
  // everything), so haproxy must not take it out of service. Any other role needs PostgreSQL to work.
  const degradable: ReadonlySet<string> = new Set(roles.every((r) => r === 'edge') ? ['postgres'] : []);
  const readiness = (): RoleReadiness => {
    const checks: Record<string, boolean> = {
      listening: started,
      accepting: stopping === null,
      nats: nats.connected(),
      postgres: probe.ok(),
    };
    if (streamChecked) checks.stream = true;
    if (store !== null) checks.store = store.health().ok;
    if (gateway !== null) checks.mqtt = listeners !== null;
    const writerHealth = writer?.health();
    if (writerHealth !== undefined) checks.writer = writerHealth.ok;
    if (kpi !== null) checks.kpiLock = kpi.leadership.connected;
    // Best-effort: a relay that falls behind is reported, not a reason to leave haproxy's rotation.
    const liveRelay = relay?.stats();
    const failing = Object.keys(checks).filter((k) => !checks[k] && !degradable.has(k));
    const degraded = Object.keys(checks).filter((k) => !checks[k] && degradable.has(k));
    return {
      ready: failing.length === 0,
      roles,
      checks,
      failing,
      ...(degraded.length > 0 ? { degraded } : {}),
      ...(kpi !== null ? { kpi: { state: kpi.leadership.state, detail: kpi.leadership.detail } } : {}),
      ...(writerHealth !== undefined ? { writer: writerHealth } : {}),
      ...(liveRelay !== undefined ? { liveRelay } : {}),
      ...(gateway !== null && sink !== null
        ? {
            edge: {
              connectedDevices: gateway.connectedDevices(),
              pendingPublishes: sink.stats().pending,
              // Resends JetStream recognised by message id: a device's, or an uplink delivered twice.
              duplicates: sink.stats().duplicates,
              // Reported, not a check: devices on MQTT are still served while a network server is away.
              ...(bridges.length > 0
                ? {
                    lorawan: bridges.map((b) => ({
                      server: b.server,
                      connected: b.connected(),
                      subscribed: subscribedBridges.has(b),
                      ...b.stats(),
                    })),
                  }
                : {}),
            },
          }
        : {}),
    };
  };

  let app: ReturnType<typeof buildHttpApp> | null = null;
  let stopCounting: (() => void) | null = null;
  if (has('api') && registry !== null && apiKeys !== null && store !== null && sink !== null) {
    // Accepted messages per device from every edge (through the relay) and this node's HTTP ingest; what
    // was received, refused or stored is counted where it happened (docs/cluster.md, "Live page").
    const counters = new DeviceCounters();
    stopCounting = countAcceptedPerDevice(events, counters);
    const ingest: IngestStatsSource = { stats: () => ({ ...sink.stats(), backlog: 0 }), devices: counters };
    app = buildHttpApp({
      config,
      registry,
      kinds,
      store,
      ingest,
      telemetry,
      events,
      apiKeys,
      ...(apiKpis !== null ? { kpis: apiKpis.service } : {}),
      ...(remoteAlerts !== null ? { alerts: remoteAlerts } : {}),
      ...(remoteReports !== null ? { reports: remoteReports } : {}),
      logger,
      clock,
      readiness: () => readiness(),
      deviceIngest: {
        sink,
        rate: gateway?.rateLimiter ?? new DeviceRateLimiter(config.deviceRateLimitPerSec, clock),
      },
    });
  }

  // Retention: the writers prune the shared store (idempotent, so several writers may).
  const retentionTimer =
    writer !== null && store !== null
      ? setInterval(() => {
          store.prune(clock.now()).then(
            (removed) => removed > 0 && logger.info({ removed }, 'retention: expired series data removed'),
            (err: unknown) => logger.error({ err }, 'retention: prune failed'),
          );
        }, 3_600_000)
      : null;
  retentionTimer?.unref();

  return {
    config,
    roles,
    telemetry,
    events,
    registry,
    apiKeys,
    store,
    gateway,
    bridges,
    writer,
    kpi,
    readiness,

    async start(): Promise<RolesAddresses> {
      const tls = tlsOf(config);
      await writer?.start();
      await eventWriter?.start();
      if (relayOnLead === undefined) relay?.start();
      await kpi?.start();
      await apiKpis?.start();
      if (gateway !== null) listeners = await listenMqtt(gateway, config, tls.mqtt);
      for (const bridge of bridges) bridge.start();
      httpServer = createHttpServer(
        roleHttpHandler({ readiness, telemetry, app: app?.app ?? null }),
        tls.http,
      );
      if (app !== null) live = app.attachLive(httpServer);
      const http = await listenHttp(httpServer, config);
      started = true;
      return {
        roles,
        httpPort: http.port,
        httpUrl: http.url,
        mqttPort: listeners?.tcpPort ?? null,
        mqttUrl: listeners === null ? null : mqttUrlOf(config, listeners.tcpPort),
      };
    },

    /** Stops taking work, hands back or finishes what is in hand, closes every connection. Idempotent. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (retentionTimer !== null) clearInterval(retentionTimer);
        await gateway?.close();
        // Before the sink: an uplink in hand still gets its answer; those not acknowledged stay with the broker.
        await Promise.all(bridges.map((b) => b.close()));
        await listeners?.close();
        // After the gateway closed: its devices going offline are told too.
        stopStatus?.();
        await sink?.close();
        await eventWriter?.close();
        const handed = await writer?.close();
        if (handed !== undefined && handed.handedBack > 0)
          logger.warn({ handedBack: handed.handedBack }, 'messages handed back to the stream at shutdown');
        await kpi?.close();
        await apiKpis?.close();
        remoteAlerts?.close();
        await alertRecords?.close();
        await reportRecords?.close();
        await relay?.close();
        stopCounting?.();
        await live?.close();
        await closeHttp(httpServer);
        await store?.close();
        await kpiStore?.close();
        await registry?.close();
        await apiKeys?.close();
        await relayLink?.close();
        await nats.close();
        await probe.close();
        lock?.close();
      })();
      return stopping;
    },
  };
}

export type Roles = Awaited<ReturnType<typeof buildRoles>>;
