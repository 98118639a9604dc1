import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { IngestSink } from '../../core/ports/ingest-sink.ts';
import { CHIRPSTACK_UP_TOPIC, parseChirpstackUp } from './chirpstack.ts';
import { parseThingsStackUp, TTS_UP_TOPIC } from './things-stack.ts';
import { type MetricLookup, uplinkToReading } from './to-reading.ts';
import type { UplinkParse } from './uplink.ts';

export type NetworkServer = 'chirpstack' | 'tts';

/**
 * A session the broker ends this soon after it opened, not on our side, counts as taken over: a broker
 * ends a session when another client connects with its client id. So many of them in a row within the
 * window means two clients share the id and take the session from each other at every reconnect.
 */
const TAKEN_OVER_WITHIN_MS = 10_000;
const TAKEOVERS_TO_REPORT = 3;
const TAKEOVER_WINDOW_MS = 60_000;

const SERVERS: Record<NetworkServer, { topic: string; parse: (message: Buffer) => UplinkParse }> = {
  chirpstack: { topic: CHIRPSTACK_UP_TOPIC, parse: parseChirpstackUp },
  tts: { topic: TTS_UP_TOPIC, parse: parseThingsStackUp },
};

export interface LorawanBridgeDeps {
  /** The ingest sink the gateway and HTTP ingest use: one admission, one durable log, one set of counts. */
  sink: IngestSink;
  devices: {
    byDevEui(devEui: string): Readonly<DeviceRecord> | undefined;
    metric: MetricLookup;
  };
  /** The gateway's per-device limiter, shared with MQTT and HTTP. */
  rate: { take(deviceId: string): boolean };
  logger: Logger;
}

export interface LorawanBridgeOptions {
  server: NetworkServer;
  /** mqtt://host:1883 or mqtts://host:8883 of the network server's broker. */
  url: string;
  username?: string;
  password?: string;
  /** Subscription filter; default the server's uplink topic (all applications). */
  topic?: string;
  /**
   * Fixed client id: with it the broker keeps the bridge's session (clean=false) and queues QoS 1 uplinks
   * while the bridge is down. Two bridges must not share one. Default `citymetrics-<server>`.
   */
  clientId?: string;
  /** Wait before reconnecting, after a lost connection or a retryable refusal (ms). Default 2 000. */
  reconnectPeriodMs?: number;
  /**
   * Subscribe as `$share/<group>/<topic>`: the broker hands each uplink to one client of the group, so that
   * several bridges (one per edge, each with its own client id) split the uplinks instead of each taking
   * all. Unset: a plain subscription.
   */
  shareGroup?: string;
}

export interface LorawanBridge {
  readonly server: NetworkServer;
  /** Connects and subscribes (QoS 1); keeps reconnecting in the background. Opens no port. */
  start(): void;
  /** Resolves once the subscription was granted the first time. */
  subscribed(): Promise<void>;
  /** Connected to the network server's broker now. */
  connected(): boolean;
  /**
   * Uplinks handed over, those left unacknowledged for the broker to deliver again, and how many times
   * the session was seen taken over again and again (another client with the same client id), each time
   * logged as an error.
   */
  stats(): { uplinks: number; retried: number; takenOver: number };
  close(): Promise<void>;
}

/**
 * A bridge from a LoRaWAN network server's MQTT broker to ingest. Each uplink becomes one reading submitted
 * as the device's own telemetry would be. The PUBACK waits for the outcome (mqtt.js `handleMessage`):
 * sent once the reading is in the durable log, or once a refusal that resending cannot change was counted
 * (unknown DevEUI, undecodable, a refused value); a retryable refusal (store unavailable, shutting down,
 * rate) is not acknowledged and the connection is cut, so that the broker, which holds the session,
 * delivers it again on reconnect (MQTT-3.4.4-1: unacknowledged QoS 1 messages are resent then). mqtt.js
 * handles one incoming packet at a time, so a slow store slows the bridge instead of filling memory.
 */
export function buildLorawanBridge(deps: LorawanBridgeDeps, options: LorawanBridgeOptions): LorawanBridge {
  const { sink, devices, rate } = deps;
  const { parse, topic: defaultTopic } = SERVERS[options.server];
  const plainTopic = options.topic ?? defaultTopic;
  const topic = options.shareGroup === undefined ? plainTopic : `$share/${options.shareGroup}/${plainTopic}`;
  const log = deps.logger.child({ component: 'lorawan-bridge', server: options.server });
  let client: MqttClient | null = null;
  let closing: Promise<void> | null = null;
  let uplinks = 0;
  let retried = 0;
  let takenOver = 0;
  let sessionSince: number | null = null;
  let cutByUs = false;
  const shortSessions: number[] = [];
  const clientId = options.clientId ?? `citymetrics-${options.server}`;
  let resolveSubscribed!: () => void;
  const firstSubscription = new Promise<void>((resolve) => {
    resolveSubscribed = resolve;
  });

  const refuse = (deviceId: string | null, code: ErrorCode, detail: string): void => {
    sink.countRefusal(deviceId, code);
    log.debug({ deviceId, code, detail }, 'uplink refused');
  };

  /** Resolves true to acknowledge, false to leave the message for redelivery. Never rejects. */
  async function handle(message: Buffer): Promise<boolean> {
    uplinks++;
    const parsed = parse(message);
    if (!parsed.ok) {
      refuse(null, 'BRIDGE_UNDECODABLE', parsed.reason);
      return true;
    }
    const { uplink } = parsed;
    const device = devices.byDevEui(uplink.devEui);
    if (device === undefined) {
      refuse(null, 'BRIDGE_UNKNOWN_DEVEUI', uplink.devEui);
      return true;
    }
    if (device.status !== 'active') {
      refuse(device.id, 'GATEWAY_DEVICE_DISABLED', uplink.devEui);
      return true;
    }
    const { reading, problems } = uplinkToReading(uplink, device.kind, (kind, metric) =>
      devices.metric(kind, metric),
    );
    if (reading === null) {
      for (const p of problems) refuse(device.id, p.code, p.detail);
      return true;
    }
    if (!rate.take(device.id)) {
      refuse(device.id, 'GATEWAY_RATE_LIMITED', uplink.devEui);
      return false;
    }
    const result = await sink.submit(device.id, 'telemetry', Buffer.from(JSON.stringify(reading)));
    if (!result.ok && result.error.retryable) {
      // Counted by ingest already; problems are counted when the retry succeeds, not once per attempt.
      log.warn(
        { deviceId: device.id, code: result.error.code },
        'uplink not acknowledged: retryable refusal',
      );
      return false;
    }
    for (const p of problems) refuse(device.id, p.code, p.detail);
    return true;
  }

  /**
   * mqtt.js's hook for asynchronous processing: it sends the PUBACK once `callback` is called without an
   * error, and handles the next packet only then. (`customHandleAcks` would do the same, but mqtt.js honours
   * it only on MQTT 5, and The Things Stack speaks 3.1.1.) Without an ack the connection is cut: a broker
   * resends unacknowledged messages only on reconnect.
   */
  const processUplink = (c: MqttClient, packet: Packet, callback: (err?: Error) => void): void => {
    const message = (packet as IPublishPacket).payload;
    handle(Buffer.isBuffer(message) ? message : Buffer.from(message)).then(
      (ack) => {
        if (ack) return callback();
        retried++;
        callback(new Error('not acknowledged'));
        cutByUs = true;
        c.stream?.destroy();
      },
      (err: unknown) => {
        // handle never rejects; should it, the message stays with the broker.
        log.error({ err }, 'uplink handling failed');
        retried++;
        callback(err as Error);
        cutByUs = true;
        c.stream?.destroy();
      },
    );
  };

  return {
    server: options.server,

    start(): void {
      if (client !== null || closing !== null) return;
      const c = mqtt.connect(options.url, {
        clientId,
        // A persistent session: the broker keeps the subscription and queues QoS 1 uplinks while we are down.
        clean: false,
        // The Things Stack speaks MQTT 3.1.1 only; 3.1.1 sessions also need no expiry interval.
        protocolVersion: 4,
        username: options.username,
        password: options.password,
        reconnectPeriod: options.reconnectPeriodMs ?? 2_000,
        connectTimeout: 10_000,
      });
      c.handleMessage = (packet, callback) => processUplink(c, packet, callback);
      client = c;
      c.on('connect', (connack) => {
        sessionSince = Date.now();
        cutByUs = false;
        log.info({ sessionPresent: connack.sessionPresent, topic }, 'connected to the network server broker');
        c.subscribe(topic, { qos: 1 }, (err, granted) => {
          if (err) return log.error({ err: err.message, topic }, 'subscribe failed');
          const qos = granted?.[0]?.qos;
          if (qos === 128) return log.error({ topic }, 'the broker refused the subscription');
          if (qos !== 1) log.warn({ topic, qos }, 'subscription granted below QoS 1: uplinks may be lost');
          // A session kept from before the group (the single process's client id reused by an edge) still
          // holds the plain subscription: it would hand this bridge every uplink besides its turns.
          if (options.shareGroup === undefined) return resolveSubscribed();
          c.unsubscribe(plainTopic, (unsubErr) => {
            if (unsubErr) log.warn({ err: unsubErr.message, topic: plainTopic }, 'unsubscribe failed');
            resolveSubscribed();
          });
        });
      });
      c.on('error', (err) => {
        log.warn({ err: err.message }, 'network server broker connection error');
      });
      c.on('offline', () => log.warn('network server broker unreachable, reconnecting'));
      c.on('close', () => {
        const since = sessionSince;
        sessionSince = null;
        if (since === null || cutByUs || closing !== null) return;
        const now = Date.now();
        if (now - since >= TAKEN_OVER_WITHIN_MS) return;
        shortSessions.push(now);
        while (shortSessions.length > 0 && shortSessions[0]! < now - TAKEOVER_WINDOW_MS)
          shortSessions.shift();
        if (shortSessions.length < TAKEOVERS_TO_REPORT) return;
        shortSessions.length = 0;
        takenOver++;
        log.error(
          { clientId, sessionsEnded: TAKEOVERS_TO_REPORT, withinMs: TAKEOVER_WINDOW_MS },
          'the network server broker keeps ending this session moments after it opens: another client is ' +
            'likely connecting with the same client id (each platform instance and each edge needs its own: ' +
            'CHIRPSTACK_MQTT_CLIENT_ID, TTS_MQTT_CLIENT_ID)',
        );
      });
    },

    subscribed: () => firstSubscription,

    connected: () => client?.connected === true,

    stats: () => ({ uplinks, retried, takenOver }),

    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        if (client === null) return resolve();
        // Not forced: a PUBACK being written still goes out; unacknowledged uplinks stay with the broker.
        client.end(false, {}, () => resolve());
      });
      return closing;
    },
  };
}
