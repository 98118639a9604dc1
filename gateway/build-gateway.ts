import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { CityError, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { PlatformEvents } from '../core/platform-events.ts';
import type { DeviceDirectory } from '../core/ports/device-directory.ts';
import type { IngestSink } from '../core/ports/ingest-sink.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { DEVICE_PUBLISH_CHANNELS, parseDeviceTopic, topicFor } from '../core/topics.ts';
import { reportRefusal } from './error-reporter.ts';
import { FrameGuard } from './frame-guard.ts';
import { DeviceRateLimiter } from './rate-limiter.ts';
import { guardedSessionPersistence } from './session-persistence.ts';

export interface GatewayDeps {
  config: Config;
  directory: DeviceDirectory;
  ingest: IngestSink;
  telemetry: Telemetry;
  /** Online/offline changes are announced here (live page, health). */
  events: PlatformEvents;
  logger: Logger;
  clock: Clock;
}

export interface Gateway {
  broker: Aedes;
  /** Hands a connected stream (TCP socket, WebSocket stream, TLS socket) to the broker. */
  handle: Aedes['handle'];
  /** Devices connected now (distinct device ids). */
  connectedDevices(): number;
  /** Disconnects every session of a device (disabled, password rotated). */
  disconnectDevice(deviceId: string): number;
  /** The per-device message rate, for the other ingest paths: a device has one rate across all of them. */
  rateLimiter: DeviceRateLimiter;
  close(): Promise<void>;
}

/**
 * Room above the payload limit for the rest of a PUBLISH (topic, properties) before the frame guard cuts
 * the connection; packets between the payload limit and this are refused politely (PUBACK + errors topic).
 */
const FRAME_MARGIN_BYTES = 64 * 1024;

/**
 * Refusals reported to one device per second (bursts of twice that); past it they are only counted. A
 * device that floods bad messages and never reads its errors topic would otherwise make the broker queue
 * one error message per bad message for it (measured: ~45 MB of heap for 20 000 before the connection
 * stalls on its own backlog).
 */
const ERROR_REPORTS_PER_SEC = 50;
/** Unsent bytes on every connection of a device past which reports are skipped too (it is not reading). */
const ERROR_REPORT_BACKLOG_BYTES = 64 * 1024;

/**
 * Refused subscription filters one connection may send before it is closed: a device needs two filters, and
 * each refusal costs a counter and possibly a report, so a packet of thousands of forbidden filters must not
 * cost thousands of anything.
 */
const MAX_REFUSED_FILTERS_PER_CONNECTION = 100;

/**
 * Connections one device may hold at once: a device needs one (two while it reconnects), and every connection
 * holds a slot of the broker's and a socket's memory, so one set of credentials must not take them all.
 */
export const MAX_CONNECTIONS_PER_DEVICE = 4;

/** Where a refused message is re-routed: no device may subscribe to it, so it reaches nobody. */
const REFUSED_SINK_TOPIC = '$citymetrics/refused';
const STATUS_PAYLOADS = new Set(['online', 'offline']);

/** How long a connection being cut may take to flush its last packets before it is destroyed. */
const CLOSE_FLUSH_GRACE_MS = 1_000;

const noop = () => {};

/**
 * Ends a connection after what was written to it has left (the stream's end flushes, then FIN), instead of
 * destroying it with its last packets unsent. aedes reads no further packet meanwhile: the publish that
 * led here is never acknowledged. Destroyed after a grace period if the peer does not close its side.
 */
function closeAfterFlush(client: Client): void {
  if (client.closed) return;
  const conn = client.conn as NodeJS.WritableStream & { destroyed?: boolean };
  if (conn.destroyed === true) {
    client.close();
    return;
  }
  setTimeout(() => client.close(), CLOSE_FLUSH_GRACE_MS).unref();
  conn.end();
}

function authError(message: string, returnCode: 2 | 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * The MQTT gateway: an aedes broker with device authentication, the topic ACL (README, "MQTT contract") and the ingest
 * hook. It opens no port: listeners (gateway/listeners.ts) hand it streams.
 *
 * QoS 1 durability: aedes writes the PUBACK only after `authorizePublish` calls back, so the callback waits
 * for ingest's durable-log commit. aedes also reads no further packet from a connection until the current
 * batch has called back, so a slow store turns into TCP backpressure on the devices rather than memory.
 */
export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, directory, ingest, telemetry, events, logger, clock } = deps;
  const log = logger.child({ part: 'gateway' });
  const limiter = new DeviceRateLimiter(config.deviceRateLimitPerSec, clock);
  const reportLimiter = new DeviceRateLimiter(ERROR_REPORTS_PER_SEC, clock);
  /** Which device a connection authenticated as. */
  const deviceOf = new WeakMap<Client, string>();
  /** Live connections per device, for disconnect-on-revoke and for online state. */
  const sessions = new Map<string, Set<Client>>();
  /**
   * Client ids other than a device's own id, held by the connection that uses them: one device may not take
   * over another's session while it lasts. A device's own id needs no entry (it is always its own), and an
   * entry ends with its connection, so nothing here outlives the sessions.
   */
  const clientIdOwner = new Map<string, { deviceId: string; client: Client }>();
  /**
   * Revocations per device (disable, password rotation). A connection remembers the count it authenticated
   * under; a connection whose login was in flight when the device was revoked is stale and is cut, and none
   * of its readings is taken.
   */
  const revocations = new Map<string, number>();
  const authenticatedAt = new WeakMap<Client, number>();
  const refusedFilters = new WeakMap<Client, number>();
  /**
   * Logins accepted whose session is not ready yet, per device: the connection cap counts them, so logins
   * sent all at once cannot pass the check together. An entry leaves at clientReady or when it is found
   * closed.
   */
  const pendingLogins = new Map<string, Set<Client>>();
  const admittedNotReady = (deviceId: string): Set<Client> => {
    let set = pendingLogins.get(deviceId);
    if (set === undefined) {
      set = new Set();
      pendingLogins.set(deviceId, set);
    }
    for (const c of set) if (c.closed) set.delete(c);
    return set;
  };
  const isStale = (client: Client, deviceId: string) =>
    (authenticatedAt.get(client) ?? -1) !== (revocations.get(deviceId) ?? 0);
  let closing = false;

  /** `counted`: ingest already counted its own refusals; the gateway counts the ones it decides. */
  const refuse = (
    deviceId: string,
    packet: PublishPacket,
    code: ErrorCode,
    err?: CityError,
    counted = false,
  ) => {
    const error = err ?? new CityError(code);
    if (!counted) ingest.countRefusal(deviceId, error.code);
    report(deviceId, packet.topic, error);
    // Acknowledge (the device must not resend a message that can never be accepted) but deliver to nobody.
    packet.topic = REFUSED_SINK_TOPIC;
    packet.retain = false;
  };

  /** Tells the device why, within its report rate and unless none of its connections is reading. */
  const report = (deviceId: string, topic: string, error: CityError, written: () => void = noop) => {
    const set = sessions.get(deviceId);
    let reading = set === undefined || set.size === 0;
    for (const c of set ?? []) if (c.conn.writableLength <= ERROR_REPORT_BACKLOG_BYTES) reading = true;
    if (!reading || !reportLimiter.take(deviceId)) {
      telemetry.errorReportsSkipped.inc();
      written();
      return;
    }
    reportRefusal(broker, deviceId, topic, error, clock.now(), written);
  };

  const authenticate: AedesOptions['authenticate'] = (client, username, password, done) => {
    if (closing) return done(authError('shutting down', 5), false);
    if (!username || !password) {
      telemetry.mqttAuthFailures.inc({ reason: 'missing-credentials' });
      ingest.countRefusal(null, 'GATEWAY_BAD_CREDENTIALS');
      return done(authError('username and password are required', 4), false);
    }
    if (client.id !== username) {
      // A stored session outlives its connection: keyed by anything but the device's own id, it could be
      // resumed by whichever device next presents that id.
      if (!client.clean) {
        telemetry.mqttAuthFailures.inc({ reason: 'client-id-persistent' });
        ingest.countRefusal(username, 'GATEWAY_NOT_AUTHORIZED');
        return done(
          authError('a persistent session (clean=false) needs the device id as client id', 2),
          false,
        );
      }
      const owner = clientIdOwner.get(client.id);
      if (owner !== undefined && owner.deviceId !== username) {
        telemetry.mqttAuthFailures.inc({ reason: 'client-id-taken' });
        ingest.countRefusal(username, 'GATEWAY_NOT_AUTHORIZED');
        return done(authError('client id is in use by another device', 2), false);
      }
    }
    // A will may only be the device's own status: anything else would let a device publish anywhere
    // simply by disconnecting. aedes keeps the CONNECT will in `_will` until the session is set up.
    const will = (client as unknown as { _will?: { topic?: string } | null })._will;
    if (will?.topic !== undefined && will.topic !== topicFor(username, 'status')) {
      telemetry.mqttAuthFailures.inc({ reason: 'will-topic' });
      ingest.countRefusal(username, 'GATEWAY_NOT_AUTHORIZED');
      return done(authError('a will may only be devices/{id}/status', 5), false);
    }
    const revokedBefore = revocations.get(username) ?? 0;
    directory.verifyCredentials(username, password.toString('utf8')).then(
      (check) => {
        if (check === 'ok' && (revocations.get(username) ?? 0) !== revokedBefore) {
          // Disabled or rotated while this login was being checked: the check may have seen the old state.
          telemetry.mqttAuthFailures.inc({ reason: 'revoked-during-login' });
          ingest.countRefusal(username, 'GATEWAY_BAD_CREDENTIALS');
          return done(authError('credentials changed during login', 4), false);
        }
        if (check === 'ok') {
          const owner = client.id === username ? undefined : clientIdOwner.get(client.id);
          if (owner !== undefined && owner.deviceId !== username) {
            telemetry.mqttAuthFailures.inc({ reason: 'client-id-taken' });
            ingest.countRefusal(username, 'GATEWAY_NOT_AUTHORIZED');
            return done(authError('client id is in use by another device', 2), false);
          }
          const open = sessions.get(username);
          const takesOver = open !== undefined && [...open].some((c) => c.id === client.id);
          const admitted = admittedNotReady(username);
          if ((open?.size ?? 0) + admitted.size >= MAX_CONNECTIONS_PER_DEVICE && !takesOver) {
            telemetry.mqttAuthFailures.inc({ reason: 'too-many-connections' });
            ingest.countRefusal(username, 'GATEWAY_NOT_AUTHORIZED');
            return done(authError(`at most ${MAX_CONNECTIONS_PER_DEVICE} connections per device`, 3), false);
          }
          deviceOf.set(client, username);
          authenticatedAt.set(client, revokedBefore);
          if (!takesOver) admitted.add(client);
          if (client.id !== username) clientIdOwner.set(client.id, { deviceId: username, client });
          return done(null, true);
        }
        telemetry.mqttAuthFailures.inc({ reason: check });
        ingest.countRefusal(
          check === 'unknown-device' ? null : username,
          check === 'disabled' ? 'GATEWAY_DEVICE_DISABLED' : 'GATEWAY_BAD_CREDENTIALS',
        );
        done(
          authError(
            check === 'disabled' ? 'device is disabled' : 'bad username or password',
            check === 'disabled' ? 5 : 4,
          ),
          false,
        );
      },
      (err: unknown) => {
        log.error({ err }, 'credential check failed');
        done(authError('server unavailable', 5), false);
      },
    );
  };

  const authorizePublish: AedesOptions['authorizePublish'] = (client, packet, callback) => {
    // A will message published after its client is gone: only a device's own status topic ever gets here,
    // because wills are checked against the ACL when the device connects (see `client` handler).
    if (client === null)
      return callback(
        parseDeviceTopic(packet.topic)?.channel === 'status' ? null : new Error('will refused'),
      );
    const deviceId = deviceOf.get(client);
    if (deviceId === undefined) return callback(new Error('not authenticated'));
    // Revoked after this connection logged in: no PUBACK, nothing stored, the connection is cut.
    if (isStale(client, deviceId)) return client.close();
    const topic = parseDeviceTopic(packet.topic);
    if (topic === null) {
      refuse(deviceId, packet, 'GATEWAY_TOPIC_INVALID');
      return callback(null);
    }
    if (topic.deviceId !== deviceId || !DEVICE_PUBLISH_CHANNELS.has(topic.channel)) {
      refuse(deviceId, packet, 'GATEWAY_NOT_AUTHORIZED');
      return callback(null);
    }
    if (Buffer.byteLength(packet.payload) > config.mqttMaxPayloadBytes) {
      refuse(deviceId, packet, 'GATEWAY_PAYLOAD_TOO_LARGE');
      return callback(null);
    }
    // Over its rate, a message is held, not refused: its PUBACK waits for the device's next token, and aedes
    // reads no further packet from the connection meanwhile, so the device's own in-flight window paces it.
    const waitMs = limiter.reserve(deviceId);
    if (waitMs > 0) {
      telemetry.publishesPaced.inc();
      setTimeout(function releasePaced() {
        if (client.closed) return; // not acknowledged: the device still has it and resends it
        if (isStale(client, deviceId)) return client.close();
        admit(client, deviceId, packet, topic.channel, callback);
      }, waitMs);
      return;
    }
    admit(client, deviceId, packet, topic.channel, callback);
  };

  function admit(
    client: Client,
    deviceId: string,
    packet: PublishPacket,
    channel: string,
    callback: (error?: Error | null) => void,
  ): void {
    if (channel === 'status') {
      if (!STATUS_PAYLOADS.has(String(packet.payload))) {
        refuse(
          deviceId,
          packet,
          'INGEST_SCHEMA',
          new CityError('INGEST_SCHEMA', 'status must be "online" or "offline"'),
        );
      }
      callback(null);
      return;
    }
    // Readings are stored by ingest, not kept by the broker as retained messages.
    packet.retain = false;
    telemetry.messagesReceived.inc({ channel });
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    ingest.submit(deviceId, channel === 'telemetry' ? 'telemetry' : 'events', payload).then(
      (result) => {
        if (result.ok) return callback(null);
        if (result.error.retryable) {
          // Not acknowledged: the device keeps the message (QoS 1) and sends it again after reconnecting.
          // The cut waits for the report to be written, so the device learns why (a full disk, say).
          report(deviceId, packet.topic, result.error, () => closeAfterFlush(client));
          return;
        }
        refuse(deviceId, packet, result.error.code, result.error, true);
        callback(null);
      },
      hookFailed('publish', client),
    );
  }

  /**
   * The last guard of every broker hook: a throw inside one would unwind through aedes (or reject a
   * promise no one awaits) and could stop the process for every device. It is logged, counted, and the
   * one connection is closed; a publish in flight is not acknowledged, so the device sends it again.
   */
  function hookFailed(hook: string, client: Client | null): (err: unknown) => void {
    return (err) => {
      telemetry.gatewayHookFailures.inc({ hook });
      log.error(
        { err, hook, deviceId: client === null ? undefined : deviceOf.get(client) },
        'broker hook failed',
      );
      if (client !== null && !client.closed) client.close();
    };
  }

  /** `hook` with a guard: a synchronous throw goes to hookFailed and the hook's callback gets an error. */
  function guarded<C extends Client | null, A extends unknown[]>(
    name: string,
    hook: (client: C, ...rest: A) => void,
    refuseWith: (rest: A, err: Error) => void,
  ): (client: C, ...rest: A) => void {
    return (client, ...rest) => {
      try {
        hook(client, ...rest);
      } catch (err) {
        hookFailed(name, client)(err);
        refuseWith(rest, err instanceof Error ? err : new Error(String(err)));
      }
    };
  }

  const authorizeSubscribe: AedesOptions['authorizeSubscribe'] = (client, sub: Subscription, callback) => {
    const deviceId = deviceOf.get(client);
    if (deviceId !== undefined && sub.topic === topicFor(deviceId, 'errors')) return callback(null, sub);
    if (deviceId !== undefined && sub.topic === topicFor(deviceId, 'commands')) return callback(null, sub);
    const refused = (refusedFilters.get(client) ?? 0) + 1;
    refusedFilters.set(client, refused);
    if (refused > MAX_REFUSED_FILTERS_PER_CONNECTION) {
      // Past the budget the rest of the packet is refused without a count or a report each, and the
      // connection is cut once.
      if (refused === MAX_REFUSED_FILTERS_PER_CONNECTION + 1) {
        ingest.countRefusal(deviceId ?? null, 'GATEWAY_NOT_AUTHORIZED');
        log.warn({ deviceId }, 'too many refused subscription filters: connection closed');
        client.close();
      }
      return callback(null, null);
    }
    ingest.countRefusal(deviceId ?? null, 'GATEWAY_NOT_AUTHORIZED');
    if (deviceId !== undefined) {
      report(deviceId, sub.topic, new CityError('GATEWAY_NOT_AUTHORIZED', 'subscription not allowed'));
    }
    // Negated subscription: SUBACK 0x80 (MQTT-3.9.3), the connection stays up.
    callback(null, null);
  };

  const mayReceive = (deviceId: string | undefined, topic: string) =>
    deviceId !== undefined &&
    (topic === topicFor(deviceId, 'errors') || topic === topicFor(deviceId, 'commands'));
  const broker = await Aedes.createBroker({
    // Persistent sessions exist only under a device's own id (see `authenticate`): the id names the owner.
    persistence: guardedSessionPersistence({
      mayStore: (client, filter) => mayReceive(deviceOf.get(client), filter),
      mayQueue: (clientId, topic) => mayReceive(clientId, topic),
    }) as AedesOptions['persistence'],
    authenticate: guarded('authenticate', authenticate, ([, , done]) =>
      done(authError('server unavailable', 3), false),
    ),
    // Not authorized, not acknowledged: the connection closes and the device resends.
    authorizePublish: guarded('authorizePublish', authorizePublish, ([, callback], err) => callback(err)),
    authorizeSubscribe: guarded('authorizeSubscribe', authorizeSubscribe, ([, callback]) =>
      callback(null, null),
    ),
    connectTimeout: config.mqttConnectTimeoutMs,
    drainTimeout: 30_000,
    heartbeatInterval: 60_000,
    maxClientsIdLength: 128,
    maxTopicLevels: 8,
    // Each in-flight QoS 1 publish waits for a group commit: allow enough of them to fill a batch.
    concurrency: 1000,
  });

  const forgetPending = (client: Client, deviceId: string) => {
    const pending = pendingLogins.get(deviceId);
    pending?.delete(client);
    if (pending?.size === 0) pendingLogins.delete(deviceId);
  };

  broker.on(
    'clientReady',
    guarded(
      'clientReady',
      (client: Client) => {
        const deviceId = deviceOf.get(client);
        if (deviceId === undefined) return;
        forgetPending(client, deviceId);
        if (isStale(client, deviceId)) return client.close();
        let set = sessions.get(deviceId);
        if (set === undefined) {
          set = new Set();
          sessions.set(deviceId, set);
        }
        set.add(client);
        telemetry.mqttConnections.set(broker.connectedClients);
        const now = clock.now();
        directory.setOnline(deviceId, true, now);
        if (set.size === 1) events.emit('device-status', { deviceId, online: true, at: now });
        publishStatus(deviceId, 'online');
      },
      noop,
    ),
  );

  broker.on(
    'clientDisconnect',
    guarded(
      'clientDisconnect',
      (client: Client) => {
        const deviceId = deviceOf.get(client);
        telemetry.mqttConnections.set(broker.connectedClients);
        if (deviceId === undefined) return;
        forgetPending(client, deviceId);
        if (clientIdOwner.get(client.id)?.client === client) clientIdOwner.delete(client.id);
        const set = sessions.get(deviceId);
        set?.delete(client);
        // Rate buckets are kept across the reconnect (they expire on their own): reconnecting refills nothing.
        if (set !== undefined && set.size === 0) {
          sessions.delete(deviceId);
          const now = clock.now();
          directory.setOnline(deviceId, false, now);
          events.emit('device-status', { deviceId, online: false, at: now });
          if (!closing) publishStatus(deviceId, 'offline');
        }
      },
      noop,
    ),
  );

  broker.on('clientError', (client, err) => {
    const deviceId = deviceOf.get(client) ?? null;
    // aedes refuses wildcard publish topics itself and drops the connection (MQTT-3.3.2-2): count it.
    if (/is not allowed in PUBLISH/.test(err.message))
      ingest.countRefusal(deviceId, 'GATEWAY_WILDCARD_PUBLISH');
    log.debug({ deviceId, err: err.message }, 'client error');
  });
  broker.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'));

  function publishStatus(deviceId: string, state: 'online' | 'offline'): void {
    broker.publish(
      {
        cmd: 'publish',
        topic: topicFor(deviceId, 'status'),
        payload: Buffer.from(state),
        qos: 1,
        retain: true,
        dup: false,
      },
      () => {},
    );
  }

  function disconnectDevice(deviceId: string): number {
    const set = sessions.get(deviceId);
    if (set === undefined) return 0;
    const clients = [...set];
    for (const client of clients) client.close();
    return clients.length;
  }

  const unsubscribeRevoked = directory.onCredentialsRevoked((deviceId) => {
    revocations.set(deviceId, (revocations.get(deviceId) ?? 0) + 1);
    const n = disconnectDevice(deviceId);
    if (n > 0) log.info({ deviceId, connections: n }, 'credentials revoked: device disconnected');
  });

  /** Every stream passes the frame guard first: an oversized packet never gets buffered by the parser. */
  const handle: Aedes['handle'] = (stream, request) => {
    const guard = new FrameGuard(stream as never, {
      maxPacketBytes: config.mqttMaxPayloadBytes + FRAME_MARGIN_BYTES,
      onOversized(claimedBytes) {
        // aedes sets `conn.client` when it takes the stream: the device, if it authenticated already.
        const client = (guard as unknown as { client?: Client }).client;
        const deviceId = client === undefined ? null : (deviceOf.get(client) ?? null);
        ingest.countRefusal(deviceId, 'GATEWAY_PAYLOAD_TOO_LARGE');
        log.warn({ deviceId, claimedBytes }, 'MQTT packet over the frame limit: connection closed');
      },
    });
    return broker.handle(guard, request);
  };

  return {
    broker,
    handle,
    connectedDevices: () => sessions.size,
    disconnectDevice,
    rateLimiter: limiter,
    async close() {
      closing = true;
      unsubscribeRevoked();
      // Close the connections first: aedes.close() with a large backlog can overflow the stack (upstream),
      // and a closed connection leaves unacknowledged QoS 1 messages with the device, which resends them.
      for (const set of sessions.values()) for (const client of set) client.conn.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
