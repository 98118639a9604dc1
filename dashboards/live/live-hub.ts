import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type {
  DeviceStatusChanged,
  KpiRevised,
  KpiUpdated,
  MessageRefused,
  PlatformEvents,
  ReadingsAccepted,
} from '../../core/platform-events.ts';
import type { KindCatalogue } from '../../devices/kind-catalogue.ts';
import type { DeviceRegistry } from '../../devices/registry.ts';
import type { ApiKeyStore } from '../http/api-key-store.ts';
import { type AuthFailureLimiter, clientKey } from '../http/auth.ts';
import type { IngestStatsSource } from '../http/http-deps.ts';
import type { Principal } from '../http/roles.ts';
import { LatestCoalescer } from './latest-coalescer.ts';
import type {
  AlertPush,
  DeviceStatusItem,
  KpiPush,
  KpiRevisedPush,
  ServerToClientEvents,
} from './live-events.ts';

/**
 * The live page's push channel (socket.io on the API's HTTP server, path /socket.io).
 *
 * Ingest emits PlatformEvents synchronously on its hot path, so the listeners here only record (O(1) per
 * value) and a timer on the injected clock pushes every `livePushIntervalMs`: `latest` (changed values,
 * newest per device and metric), `device-status`, `refused` (counts by reason since the last push); `stats`
 * every second. A client whose socket still holds more than `maxBufferedPackets` unsent packets is skipped
 * and marked; once it drains it receives a full `snapshot` instead of the deltas it missed. A slow browser
 * tab therefore costs neither memory nor ingest time.
 *
 * Server → client events (payload types in live-events.ts, shared with the page):
 * - `hello` `{ cityName, timezone, keyName, role, pushIntervalMs }` on connect
 * - `snapshot` `{ items: LatestItem[] }` on connect and after falling behind
 * - `latest` `{ items: LatestItem[] }`
 * - `device-status` `{ items: [{ deviceId, kind, district, online, at }] }`
 * - `refused` `{ total, byReason: { [code]: n } }` since the previous push
 * - `stats` the ingest statistics
 * - `revoked` `{ code, message }` just before the server disconnects a client whose key was revoked
 * - `device-activity` `{ items: [{ deviceId, readings, refused: { [code]: n } }] }`: per device since the
 *   previous push (the page derives reading rates and refusals by reason per device)
 * - `alert` `{ items: Alert[] }`: alerts that changed since the previous push, latest state of each
 * - `kpi` `{ code, periodKind, value, score }` (latest per KPI and period kind) and `kpi-revised`
 */

/** What the hub reads of the alert engine: its change feed (structural, so tests may pass any source). */
export interface AlertFeed {
  onChange(listener: (alert: AlertPush['items'][number]) => void): () => void;
}

export interface LiveHubDeps {
  server: HttpServer;
  config: Config;
  apiKeys: ApiKeyStore;
  events: PlatformEvents;
  ingest: IngestStatsSource;
  kinds: KindCatalogue;
  registry: DeviceRegistry;
  limiter: AuthFailureLimiter;
  /** The client's address as the REST API sees it (through TRUSTED_PROXIES). */
  clientAddress: (req: IncomingMessage) => string | undefined;
  logger: Logger;
  clock: Clock;
  alerts?: AlertFeed;
}

export interface LiveHubOptions {
  /** Series (device × metric) whose latest value is kept for snapshots. Default 20 000. */
  maxSeries?: number;
  /** Unsent packets past which a client is skipped until it drains. Default 64. */
  maxBufferedPackets?: number;
  /** Period of the `stats` push, in ms. Default 1 000. */
  statsIntervalMs?: number;
}

export interface LiveHub {
  /** Pushes what is pending now (the timer does this every livePushIntervalMs). */
  flush(): void;
  /** Connected clients. */
  clients(): number;
  /** Disconnects every client and stops the timers; leaves the HTTP server to its owner. */
  close(): Promise<void>;
}

interface SocketData {
  principal: Principal;
  /** Skipped a push while its buffer was full: owes a snapshot. */
  behind: boolean;
}

type LiveSocket = Socket<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>;

export function attachLiveHub(deps: LiveHubDeps, options: LiveHubOptions = {}): LiveHub {
  const log = deps.logger.child({ component: 'live' });
  const maxBuffered = options.maxBufferedPackets ?? 64;
  const origins = deps.config.corsOrigins
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const io = new Server<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>(
    deps.server,
    {
      path: '/socket.io',
      serveClient: true,
      // Pushes are small; anything bigger from a client is not ours.
      maxHttpBufferSize: 16 * 1024,
      ...(origins.length > 0 ? { cors: { origin: origins } } : {}),
    },
  );

  const latest = new LatestCoalescer(options.maxSeries ?? 20_000);
  // One entry per device at most, and the registry bounds the devices.
  const statuses = new Map<string, DeviceStatusItem>();
  // One entry per catalogue code at most.
  const refused = new Map<ErrorCode, number>();
  // Per device since the last push; bounded by the registry (only registered devices send readings) and,
  // for refusals of unknown ids, by maxActivity.
  const activity = new Map<string, { readings: number; refused: Record<string, number> }>();
  const maxActivity = options.maxSeries ?? 20_000;
  const activityOf = (deviceId: string) => {
    let a = activity.get(deviceId);
    if (a === undefined && activity.size < maxActivity) {
      a = { readings: 0, refused: {} };
      activity.set(deviceId, a);
    }
    return a;
  };
  // Latest state per alert id, and latest value per (KPI, period kind): superseded updates are dropped.
  const alertChanges = new Map<string, AlertPush['items'][number]>();
  const kpiChanges = new Map<string, KpiPush>();
  const kpiRevisions: KpiRevisedPush[] = [];

  io.use(async function authenticateSocket(socket, next) {
    const address = clientKey(deps.clientAddress(socket.request));
    const token: unknown = socket.handshake.auth?.token;
    const presented = typeof token === 'string' ? token : undefined;
    if (deps.limiter.retryAfterSec(address, presented) > 0)
      return next(connectError('API_RATE_LIMITED', 'too many failed authentications'));
    const principal = await deps.apiKeys.authenticate(token);
    if (!principal) {
      deps.limiter.fail(address, presented);
      return next(connectError('API_UNAUTHENTICATED', 'missing or invalid API key'));
    }
    socket.data.principal = principal;
    socket.data.behind = false;
    next();
  });

  io.on('connection', function onConnection(socket: LiveSocket) {
    log.debug({ keyId: socket.data.principal.keyId }, 'live client connected');
    const { principal } = socket.data;
    socket.emit('hello', {
      cityName: deps.config.cityName,
      timezone: deps.config.cityTimezone,
      keyName: principal.name,
      role: principal.role,
      pushIntervalMs: deps.config.livePushIntervalMs,
    });
    socket.emit('snapshot', { items: latest.snapshot() });
    socket.emit('stats', deps.ingest.stats());
  });

  const onReadings = (r: ReadingsAccepted): void => {
    const a = activityOf(r.deviceId);
    if (a) a.readings += r.values.length;
    for (const v of r.values) {
      latest.offer({
        deviceId: r.deviceId,
        kind: r.kind,
        district: r.district,
        metric: v.metric,
        value: v.value,
        ts: v.ts,
        unit: deps.kinds.metric(r.kind, v.metric)?.unit ?? null,
      });
    }
  };
  const onStatus = (s: DeviceStatusChanged): void => {
    const device = deps.registry.get(s.deviceId);
    statuses.set(s.deviceId, {
      deviceId: s.deviceId,
      kind: device?.kind ?? null,
      district: device?.district ?? null,
      online: s.online,
      at: s.at,
    });
  };
  const onRefused = (r: MessageRefused): void => {
    refused.set(r.code, (refused.get(r.code) ?? 0) + 1);
    if (r.deviceId !== null) {
      const a = activityOf(r.deviceId);
      if (a) a.refused[r.code] = (a.refused[r.code] ?? 0) + 1;
    }
  };
  const onKpi = (k: KpiUpdated): void => {
    // The push is a wire contract of its own: only its fields travel, whatever the event grows.
    kpiChanges.set(`${k.code}\u0000${k.periodKind}`, {
      code: k.code,
      periodKind: k.periodKind,
      value: k.value,
      score: k.score,
    });
  };
  const onKpiRevised = (k: KpiRevised): void => {
    // Restatements are rare (closing a month); the bound only guards against a runaway producer.
    if (kpiRevisions.length < 1000) kpiRevisions.push(k);
  };
  const stopAlerts = deps.alerts?.onChange((alert) => alertChanges.set(alert.id, alert));
  deps.events.on('readings', onReadings);
  deps.events.on('device-status', onStatus);
  deps.events.on('refused', onRefused);
  deps.events.on('kpi-updated', onKpi);
  deps.events.on('kpi-revised', onKpiRevised);

  const stopRevoked = deps.apiKeys.onRevoked(function disconnectRevoked(keyId) {
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.principal?.keyId !== keyId) continue;
      // Told first, so the page signs out instead of reconnecting as after a server restart.
      socket.emit('revoked', { code: 'API_UNAUTHENTICATED', message: 'this API key was revoked' });
      socket.disconnect(true);
    }
  });

  /** Unsent packets of a client. engine.io keeps them in `writeBuffer` (not in its typings). */
  const backlog = (socket: LiveSocket): number =>
    (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;

  const flush = (): void => {
    const items = latest.drain();
    const statusItems = [...statuses.values()];
    statuses.clear();
    let refusedTotal = 0;
    const byReason: Record<string, number> = {};
    for (const [code, n] of refused) {
      byReason[code] = n;
      refusedTotal += n;
    }
    refused.clear();
    const activityItems = [...activity].map(([deviceId, a]) => ({ deviceId, ...a }));
    activity.clear();
    const alertItems = [...alertChanges.values()];
    alertChanges.clear();
    const kpiItems = [...kpiChanges.values()];
    kpiChanges.clear();
    const revisions = kpiRevisions.splice(0);
    let snapshot: ReturnType<LatestCoalescer['snapshot']> | null = null;
    for (const socket of io.of('/').sockets.values()) {
      if (backlog(socket) > maxBuffered) {
        socket.data.behind = true;
        continue;
      }
      if (socket.data.behind) {
        snapshot ??= latest.snapshot();
        socket.data.behind = false;
        socket.emit('snapshot', { items: snapshot });
      } else if (items.length > 0) {
        socket.emit('latest', { items });
      }
      if (statusItems.length > 0) socket.emit('device-status', { items: statusItems });
      if (refusedTotal > 0) socket.emit('refused', { total: refusedTotal, byReason });
      if (activityItems.length > 0) socket.emit('device-activity', { items: activityItems });
      if (alertItems.length > 0) socket.emit('alert', { items: alertItems });
      for (const k of kpiItems) socket.emit('kpi', k);
      for (const k of revisions) socket.emit('kpi-revised', k);
    }
  };

  const pushStats = (): void => {
    if (io.of('/').sockets.size === 0) return;
    const stats = deps.ingest.stats();
    for (const socket of io.of('/').sockets.values()) {
      // Stats are superseded every second: a client that is behind simply misses some.
      if (backlog(socket) <= maxBuffered) socket.emit('stats', stats);
    }
  };

  // The clock's timers never keep a finished process alive; close() stops them.
  const flushTimer = deps.clock.setInterval(flush, deps.config.livePushIntervalMs);
  const statsTimer = deps.clock.setInterval(pushStats, options.statsIntervalMs ?? 1_000);

  let closing: Promise<void> | null = null;
  return {
    flush,
    clients: () => io.of('/').sockets.size,
    close() {
      closing ??= (async () => {
        flushTimer.cancel();
        statsTimer.cancel();
        deps.events.off('readings', onReadings);
        deps.events.off('device-status', onStatus);
        deps.events.off('refused', onRefused);
        deps.events.off('kpi-updated', onKpi);
        deps.events.off('kpi-revised', onKpiRevised);
        stopAlerts?.();
        stopRevoked();
        io.disconnectSockets(true);
        // Not io.close(): that would also close the HTTP server, which belongs to the caller.
        io.engine.close();
        log.debug('live hub closed');
      })();
      return closing;
    },
  };
}

function connectError(code: ErrorCode, message: string): Error & { data: { code: ErrorCode } } {
  return Object.assign(new Error(message), { data: { code } });
}
